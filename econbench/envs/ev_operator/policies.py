"""Named policies of EVCharging-Operator-v0: the Pigouvian tolls (``exact``), no tolls, and a flat rule of thumb."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.core import Array, GroupPolicy, PolicyFactory, Task
from econbench.envs.ev_operator.dynamics import GROUP
from econbench.envs.ev_operator.params import OperatorParams
from econbench.envs.ev_operator.solution import hourly_optimum


def _constant(tolls: Sequence[float]) -> Any:
    """The same tolls every hour."""

    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        xp, row = backend.xp, backend.asarray(np.asarray(tolls, dtype=np.float64))

        def operator(obs: Array) -> Array:
            return xp.zeros_like(obs[..., :1]) + row

        return {GROUP: operator}

    return factory


def _exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Each hour's Pigouvian tolls, looked up from the hour in the observation: the optimum (reward 0)."""
    p: OperatorParams = task.params
    table = hourly_optimum(p)[1]
    if table.max() > p.toll_max:
        raise ValueError(
            f"{task.name}: the Pigouvian tolls reach {table.max():.4g} $/EV, above toll_max = {p.toll_max:g}"
        )
    xp, n = backend.xp, p.n_hours
    tolls = backend.asarray(table)

    def operator(obs: Array) -> Array:
        hour = xp.astype(xp.round(obs[..., 0] * n), xp.int64) % n
        picked = xp.take(tolls, xp.reshape(hour, (-1,)), axis=0)
        return xp.reshape(picked, (*obs.shape[:-1], p.n_stations))

    return {GROUP: operator}


def _flat_2(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """A rule of thumb: 2 $/EV at every station but the last (Example 1's far ultra-fast one), which stays free."""
    n = task.params.n_stations
    return _constant([2.0] * (n - 1) + [0.0])(task, backend)


def named_policies(p: OperatorParams) -> dict[str, PolicyFactory]:
    return {"exact": _exact, "no_tolls": _constant([0.0] * p.n_stations), "flat_2": _flat_2}
