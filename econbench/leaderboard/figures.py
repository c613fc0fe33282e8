"""The figures beside the page: per task a rollout figure and, where baselines were trained, their learning curves."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from econbench.plots import Curve
from econbench.registry import make_task

REPO = Path(__file__).resolve().parent.parent.parent
SHIPPED = REPO / "baselines" / "checkpoints"
SCORED = "mean_discounted_return"  # what the score measures, where the trainer logged it
UNDISCOUNTED = "mean_episode_return"


def trained_runs(task_name: str, roots: Sequence[Path] = ()) -> list[Path]:
    """Checkpoint folders of a task: the shipped ones, then those under each of ``roots`` (the main job's runs)."""
    return [
        p
        for root in (SHIPPED, *roots)
        if (root / task_name).is_dir()
        for p in sorted((root / task_name).iterdir())
        if (p / "policy.json").is_file() and (p / "meta.json").is_file()
    ]


def read_curves(runs: Sequence[Path], labels: Sequence[str]) -> list[Curve]:
    """The runs' ``curve.csv`` files, read by their header. All curves show the discounted return the score
    measures when every file logs it, else all show the undiscounted episode return: one quantity per axis."""
    tables = []
    for run, label in zip(runs, labels):
        path = run / "curve.csv"
        if path.is_file():
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            if rows and "timesteps" in rows[0]:
                tables.append((label, rows))
    scored = bool(tables) and all(all(r.get(SCORED) not in (None, "") for r in rows) for _, rows in tables)
    column = SCORED if scored else UNDISCOUNTED
    curves = []
    for label, rows in tables:
        if column not in rows[0]:
            continue
        data = np.array([[float(r["timesteps"]), float(r[column])] for r in rows], dtype=np.float64)
        data = data[np.isfinite(data).all(axis=1)]
        if data.size:
            curves.append(Curve(label, data[:, 0], data[:, 1], scored))
    return curves


def _label(run: Path) -> str:
    return f"{run.name} (shipped)" if run.is_relative_to(SHIPPED) else f"{run.name} (trained)"


def write_figures(task_ids: Sequence[str], folder: str | Path, runs: Sequence[Path] = ()) -> list[Path]:
    """``<Task>-rollout.png`` for every task, ``<Task>-learning.png`` where trained runs have curves;
    ``runs``: folders the main job trained into (``<root>/<Task>/<run>/``)."""
    from econbench.plots import plot_learning_curves, plot_rollout

    folder = Path(folder)
    written = []
    for task_id in task_ids:
        task = make_task(task_id)
        found = trained_runs(task.name, runs)
        reference = task.card["protocol"]["reference_policy"]
        policies: list[str] = (["exact"] if "exact" in task.policies else []) + [reference]
        labels = (["exact"] if "exact" in task.policies else []) + [f"{reference} (reference)"]
        if found and task.is_single_agent:
            policies.append(str(found[0]))
            labels.append(f"SB3 PPO {_label(found[0])}")
        written.append(plot_rollout(task, policies, folder / f"{task.name}-rollout.png", labels=labels))
        curves = read_curves(found, [_label(run) for run in found])
        if curves:
            written.append(
                plot_learning_curves(
                    curves, folder / f"{task.name}-learning.png", f"{task.name}: SB3 PPO learning curves"
                )
            )
    return written
