"""The main job: every task's named policies (exact solution, reference, others) and shipped
trained baselines, with scores, optimality gaps and equilibrium gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from econbench.metrics import equilibrium_gap, evaluate, optimality_gap
from econbench.registry import make_task, task_ids


def checkpoint_dirs(task_name: str) -> list[Path]:
    """Trained baselines shipped in ``baselines/checkpoints/<Task>/<run>/`` of a source checkout."""
    root = Path(__file__).resolve().parent.parent / "baselines" / "checkpoints" / task_name
    return sorted(p for p in root.glob("*") if (p / "model.zip").is_file()) if root.is_dir() else []


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        return f"{x:.4g}"
    return f"{x:.3e}"


def run_bench(tasks: list[str] | None = None, backend: str = "numpy", episodes: int | None = None,
              seeds: list[int] | None = None, include_checkpoints: bool = True) -> list[dict[str, Any]]:
    """One row per (task, policy): score with its 95% bootstrap interval and the task's gap."""
    rows: list[dict[str, Any]] = []
    kw: dict[str, Any] = dict(backend=backend, seeds=seeds, episodes=episodes)
    for task_id in tqdm(tasks or task_ids(), desc="econbench bench"):
        task = make_task(task_id)
        policies: list[Any] = ["exact", *sorted(p for p in task.policies if p != "exact")]
        if include_checkpoints and task.is_single_agent:
            policies += [str(p) for p in checkpoint_dirs(task.name)]
        exact = evaluate(task, "exact", **kw) if task.is_single_agent else None
        ref = evaluate(task, "reference", **kw) if task.is_single_agent else None
        for policy in policies:
            res = evaluate(task, policy, **kw)
            lo, hi = res.ci
            label = res.policy if not Path(str(policy)).exists() else f"{Path(policy).name} (checkpoint)"
            row: dict[str, Any] = {"task": task.name, "policy": label, "score": _fmt(res.mean),
                                   "score 95% CI": f"[{_fmt(lo)}, {_fmt(hi)}]"}
            if task.is_single_agent:
                g = optimality_gap(task, policy, exact=exact, reference=ref, **kw)
                row["optimality gap"] = _fmt(g.raw)
                lo_r, hi_r = g.normalized_ci
                row["normalized regret [95% CI]"] = f"{_fmt(g.normalized)} [{_fmt(lo_r)}, {_fmt(hi_r)}]"
                row["gap method"] = "exact optimum on common shocks"
            elif task.equilibrium_gap is not None:
                gaps = equilibrium_gap(task, policy, **kw)
                worst = max(gaps, key=lambda r: r.relative)
                row["equilibrium eps (rel.)"] = f"{_fmt(worst.epsilon)} ({_fmt(worst.relative)})"
                row["gap method"] = worst.method.split(":")[0]
            rows.append(row)
    return rows
