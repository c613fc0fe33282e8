"""Named policies of EVCharging-Operator-v0: the Pigouvian tolls (``exact``), no tolls, and a flat rule of thumb."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from econbench.backend import Backend
from econbench.core import Array, GroupPolicy, PolicyFactory, Task
from econbench.envs.ev_operator.dynamics import GROUP
from econbench.envs.ev_operator.params import OperatorParams
from econbench.envs.ev_operator.solution import hourly_optimum


class ConstantTolls:
    """The same tolls every hour: a class, so that envs holding it pickle."""

    def __init__(self, tolls: Sequence[float], backend: Backend) -> None:
        self.backend, self.row = backend, backend.asarray(np.asarray(tolls, dtype=np.float64))

    def __call__(self, obs: Array) -> Array:
        return self.backend.xp.zeros_like(obs[..., :1]) + self.row


def _constant(tolls: Sequence[float], task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {GROUP: ConstantTolls(tolls, backend)}


class HourlyTolls:
    """Tolls looked up from the hour in the observation, one row of ``table`` per hour."""

    def __init__(self, table: np.ndarray, n_hours: int, n_stations: int, backend: Backend) -> None:
        self.backend, self.n, self.n_stations = backend, n_hours, n_stations
        self.tolls = backend.asarray(table)

    def __call__(self, obs: Array) -> Array:
        xp, n = self.backend.xp, self.n
        hour = xp.astype(xp.round(obs[..., 0] * n), xp.int64) % n
        picked = xp.take(self.tolls, xp.reshape(hour, (-1,)), axis=0)
        return xp.reshape(picked, (*obs.shape[:-1], self.n_stations))


def _exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Each hour's Pigouvian tolls, looked up from the hour in the observation: the optimum (reward 0)."""
    p: OperatorParams = task.params
    table = hourly_optimum(p)[1]
    if table.max() > p.toll_max:
        raise ValueError(
            f"{task.name}: the Pigouvian tolls reach {table.max():.4g} $/EV, above toll_max = {p.toll_max:g}"
        )
    return {GROUP: HourlyTolls(table, p.n_hours, p.n_stations, backend)}


def _flat_2(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """A rule of thumb: 2 $/EV at every station but the last (Example 1's far ultra-fast one), which stays free."""
    n = task.params.n_stations
    return _constant([2.0] * (n - 1) + [0.0], task, backend)


def named_policies(p: OperatorParams) -> dict[str, PolicyFactory]:
    return {"exact": _exact, "no_tolls": partial(_constant, [0.0] * p.n_stations), "flat_2": _flat_2}
