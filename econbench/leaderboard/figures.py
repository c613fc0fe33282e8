"""The figures beside the page: per task a rollout figure and, where baselines were trained, their learning curves."""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from econbench.core import Task
from econbench.plots import Curve
from econbench.registry import make_task

REPO = Path(__file__).resolve().parent.parent.parent
SHIPPED = REPO / "baselines" / "checkpoints"
SCORED = "mean_discounted_return"  # what the score measures, where the trainer logged it
UNDISCOUNTED = "mean_episode_return"


def _trained_on(run: Path, task: Task) -> bool:
    """Whether a shared-PPO run folder trained this task's economy: its task's parameters with the run's overrides
    are this task's, and its networks are groups of this task (a run of one ID with parameter overrides is a run of
    the ID whose card sets those parameters)."""
    spec = json.loads((run / "policy.json").read_text())
    try:
        params = _economy(spec["task_id"], json.dumps(spec.get("params", {}), sort_keys=True))
    except (KeyError, ValueError, TypeError):  # a run of a task or parameters this version no longer has
        return False
    return params == task.params and set(spec.get("groups", {})) <= {g.name for g in task.groups}


@functools.cache
def _economy(task_id: str, params: str) -> Any:
    return make_task(task_id, **json.loads(params)).params


def trainer(run: Path) -> str:
    return "SB3 PPO" if (run / "meta.json").is_file() else "shared PPO"


def trained_runs(task: Task, roots: Sequence[Path] = ()) -> list[Path]:
    """Checkpoint folders of a task: the shipped ones, then those under each of ``roots`` (the main job's runs).
    SB3 runs (``meta.json``) sit under their task's name; shared-PPO runs (``checkpoint.pt``) count wherever they
    were trained on this task's economy."""
    found = []
    for root in (SHIPPED, *roots):
        for p in sorted(root.glob("*/*/policy.json")):
            run = p.parent
            if (run / "meta.json").is_file():
                if run.parent.name == task.name:
                    found.append(run)
            elif (run / "checkpoint.pt").is_file() and _trained_on(run, task):
                found.append(run)
    return found


def read_curves(runs: Sequence[Path], labels: Sequence[str]) -> list[Curve]:
    """The runs' ``curve.csv`` files, read by their header. All curves show the discounted return the score
    measures when every file logs it, else all show the undiscounted episode return: one quantity per axis. A
    multi-group trainer logs that return per group (``mean_episode_return_<group>``): one curve per group."""
    tables = []
    for run, label in zip(runs, labels):
        path = run / "curve.csv"
        if path.is_file():
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            if rows and "timesteps" in rows[0]:
                tables.append((label, rows))
    scored = bool(tables) and all(all(r.get(SCORED) not in (None, "") for r in rows) for _, rows in tables)
    curves = []
    for label, rows in tables:
        if scored or UNDISCOUNTED in rows[0]:
            columns = {"": SCORED if scored else UNDISCOUNTED}
        else:
            columns = {c[len(UNDISCOUNTED) + 1 :]: c for c in rows[0] if c.startswith(UNDISCOUNTED + "_")}
            if len(columns) == 1:  # one group's return is the run's: no panel of its own
                columns = {"": next(iter(columns.values()))}
        for group, column in columns.items():
            data = np.array([[float(r["timesteps"]), float(r[column])] for r in rows], dtype=np.float64)
            data = data[np.isfinite(data).all(axis=1)]
            if data.size:
                curves.append(Curve(label, data[:, 0], data[:, 1], scored, group))
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
        found = trained_runs(task, runs)
        reference = task.card["protocol"]["reference_policy"]
        policies: list[str] = (["exact"] if "exact" in task.policies else []) + [reference]
        labels = (["exact"] if "exact" in task.policies else []) + [f"{reference} (reference)"]
        own = [r for r in found if r.parent.name == task.name]  # a policy folder acts on the task it names
        if own and task.is_single_agent:
            policies.append(str(own[0]))
            labels.append(f"{trainer(own[0])} {_label(own[0])}")
        written.append(plot_rollout(task, policies, folder / f"{task.name}-rollout.png", labels=labels))
        curves = read_curves(found, [_label(run) for run in found])
        if curves:
            written.append(
                plot_learning_curves(
                    curves,
                    folder / f"{task.name}-learning.png",
                    f"{task.name}: {' and '.join(sorted({trainer(r) for r in found}))} learning curves",
                )
            )
    return written
