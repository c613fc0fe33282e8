"""Measuring a policy into a :class:`Result`: the one place scores and gaps become an entry,
used by ``econbench bench`` to produce entries and by ``econbench submit --policy`` to verify them."""

from __future__ import annotations

import platform
from typing import Any

import numpy as np

from econbench import __version__
from econbench.core import Task
from econbench.leaderboard.schema import Gap, Result, TaskRef, now, task_fingerprint, task_version
from econbench.metrics import equilibrium_gap, evaluate, iqm, optimality_gap
from econbench.metrics.evaluate import EvalResult, PolicySpec
from econbench.registry import make_task


def gap_method(description: str) -> str:
    """The schema's method class for a gap description from :mod:`econbench.metrics`."""
    if description.startswith("exact"):
        return "exact"
    if "DP" in description:
        return "dp lower bound"
    if "deviation" in description:
        return "deviation-search lower bound"
    if description.startswith("lower bound"):
        return "linear-fit lower bound"
    if "trained" in description:
        return "trained best response"
    raise ValueError(f"unclassified gap method: {description!r}")


def hardware() -> str:
    return f"{platform.machine()} {platform.processor() or platform.system()}, {__import__('os').cpu_count()} CPUs"


def task_ref(task: Task) -> TaskRef:
    return TaskRef(id=task.id, version=task_version(task.id), fingerprint=task_fingerprint(task.id))


def measure(task: Task | str, policy: PolicySpec, method: str, authors: list[str], code_url: str | None = None,
            policy_label: str | None = None, backend: str = "numpy", exact: EvalResult | None = None,
            reference: EvalResult | None = None, notes: str = "") -> Result:
    """Evaluate ``policy`` under the card's protocol, with its gaps, as a leaderboard entry (unverified)."""
    task = make_task(task) if isinstance(task, str) else task
    res = evaluate(task, policy, backend=backend)
    per_seed = [float(x) for x in res.per_seed()]
    gaps: list[Gap] = []
    if task.is_single_agent and "exact" in task.policies:
        g = optimality_gap(task, policy, backend=backend, exact=exact, reference=reference)
        gaps.append(Gap(kind="optimality", method="exact", value=g.raw, normalized=g.normalized, ci95=g.normalized_ci,
                        description=f"exact optimum on common shocks; ci95 is the normalized regret's against {g.reference!r}"))
    elif task.equilibrium_gap is not None and not task.is_single_agent:
        for r in equilibrium_gap(task, policy, backend=backend):
            gaps.append(Gap(kind="equilibrium", method=gap_method(r.method), group=r.group, value=r.epsilon,
                            relative=r.relative, ci95=r.epsilon_ci, description=r.method))
    return Result(
        task=task_ref(task), method=method, authors=authors, code_url=code_url,
        policy=policy_label or res.policy, seeds=res.seeds, episodes_per_seed=int(res.scores.shape[1]),
        per_seed_scores=per_seed, score=float(np.mean(per_seed)), score_ci95=res.ci, score_iqm=iqm(np.asarray(per_seed)),
        gaps=gaps, econbench_version=__version__, backend=backend, hardware=hardware(), date=now(), notes=notes,
    )


def disagreements(claimed: Result, measured: Result, rtol: float = 1e-6) -> list[str]:
    """Where a claimed entry and its re-measurement differ beyond floating-point tolerance."""
    out: list[str] = []

    def close(a: float, b: float, tol: float) -> bool:
        return abs(a - b) <= tol * max(abs(a), abs(b), 1e-12) + 1e-12

    if claimed.seeds != measured.seeds or claimed.episodes_per_seed != measured.episodes_per_seed:
        out.append("seeds or episodes differ from the task's protocol")
        return out
    for seed, a, b in zip(claimed.seeds, claimed.per_seed_scores, measured.per_seed_scores):
        if not close(a, b, rtol):
            out.append(f"seed {seed}: claimed score {a!r}, re-evaluation {b!r}")
    mine = {(g.kind, g.group): g for g in measured.gaps}
    for g in claimed.gaps:
        ref = mine.get((g.kind, g.group))
        if ref is None:
            out.append(f"{g.kind} gap of group {g.group!r}: not measured for this task")
            continue
        for field in ("value", "relative", "normalized"):
            a, b = getattr(g, field), getattr(ref, field)
            if a is not None and b is not None and not close(a, b, 1e-4):
                out.append(f"{g.kind} gap {field}: claimed {a!r}, re-evaluation {b!r}")
    return out


def summary_row(r: Result) -> dict[str, Any]:
    """The headline numbers of an entry, for tables."""
    gap = r.headline_gap()
    return {
        "task": r.task.id, "method": r.method, "policy": r.policy, "score": r.score, "ci95": r.score_ci95,
        "iqm": r.score_iqm, "gap_kind": gap.kind if gap else None,
        "gap": (gap.normalized if gap and gap.kind == "optimality" else gap.relative if gap else None),
        "verified": r.verified, "authors": r.authors, "key": r.key(),
    }
