"""Shared pieces of the families' best-response checks: recording a profile's episodes, least-squares
fits of recorded rules and discounted sums of deviation rewards.

Each family's own check lives in its package (``econbench/envs/<family>/gap.py``) and is declared to the
registry as the task's ``equilibrium_gap`` hook; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from econbench.core import GroupPolicy, Task
from econbench.metrics.evaluate import Rollout, rollout
from econbench.metrics.gaps import GapResult

FIT_EXACT_TOL = 1e-9  # relative residual below which a fitted linear rule is the rule itself


def record(
    task: Task, profile: Mapping[str, GroupPolicy], seeds: list[int], episodes: int, backend: Any, progress: bool
) -> list[Rollout]:
    return [
        rollout(task, profile, episodes, s, backend, record=True)
        for s in tqdm(seeds, desc=f"{task.name} record", disable=not progress, leave=False)
    ]


def lstsq(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients and the largest absolute residual relative to the scale of ``y``."""
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = float(np.max(np.abs(X @ coef - y))) / max(float(np.max(np.abs(y))), 1e-12)
    return coef, resid


def discounted(rewards: np.ndarray, discount: float) -> np.ndarray:
    """Sum over the leading (time) axis with weights ``discount**t``."""
    w = discount ** np.arange(rewards.shape[0])
    return np.tensordot(w, rewards, axes=(0, 0))


def gap_result(
    task: Task, policy: str, group: str, method: str, dev: list[np.ndarray], val: list[np.ndarray]
) -> GapResult:
    dev_v, base_v = np.concatenate(dev), np.concatenate(val)
    return GapResult(task.id, policy, group, method, dev_v - base_v, base_v)


GapFunction = Callable[..., list[GapResult]]
