"""The figures beside the page: per task a rollout figure and, where baselines were trained, their learning curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from econbench.registry import make_task

REPO = Path(__file__).resolve().parent.parent.parent


def trained_runs(task_name: str) -> list[Path]:
    """Checkpoint folders with a learning curve: shipped ones, then those `econbench bench` trained."""
    roots = [REPO / "baselines" / "checkpoints" / task_name, REPO / "runs" / "bench" / task_name]
    return [
        p
        for root in roots
        if root.is_dir()
        for p in sorted(root.iterdir())
        if (p / "policy.json").is_file() and (p / "meta.json").is_file()
    ]


def write_figures(task_ids: Sequence[str], folder: str | Path) -> list[Path]:
    """``<Task>-rollout.png`` for every task, ``<Task>-learning.png`` where trained runs have curves."""
    from econbench.plots import plot_learning_curves, plot_rollout

    folder = Path(folder)
    written = []
    for task_id in task_ids:
        task = make_task(task_id)
        runs = trained_runs(task.name)
        reference = task.card["protocol"]["reference_policy"]
        policies: list[str] = (["exact"] if "exact" in task.policies else []) + [reference]
        labels = (["exact"] if "exact" in task.policies else []) + [f"{reference} (reference)"]
        if runs and task.is_single_agent:
            policies.append(str(runs[0]))
            labels.append(f"SB3 PPO {runs[0].name}")
        written.append(plot_rollout(task, policies, folder / f"{task.name}-rollout.png", labels=labels))
        curves = {}
        for run in runs:
            csv = run / "curve.csv"
            if csv.is_file():
                data = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
                if data.size:
                    curves[f"{run.parent.parent.name}/{run.name}"] = data
        if curves:
            written.append(
                plot_learning_curves(
                    curves, folder / f"{task.name}-learning.png", f"{task.name}: SB3 PPO learning curves"
                )
            )
    return written
