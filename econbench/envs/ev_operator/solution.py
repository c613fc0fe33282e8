"""Exact references of EVCharging-Operator-v0: each hour's system optimum, its Pigouvian tolls, tolled equilibria.

Each hour is a one-origin, one-class instance of ev_charging.md §4 (Example 1 of ev_charging.md §6);
the equilibria and optima come from ``econbench.envs.ev_charging.solution``
(water-filling, :func:`~econbench.envs.ev_charging.solution.wardrop_single`
and :func:`~econbench.envs.ev_charging.solution.system_optimum_single`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from econbench.envs.ev_charging import solution
from econbench.envs.ev_operator.params import OperatorParams


@functools.cache
def hourly_optimum(p: OperatorParams) -> tuple[np.ndarray, np.ndarray]:
    """Per hour of the profile: the system optimum's total cost ($/h) and its Pigouvian tolls ($/EV).

    Actions do not change the optimum, so it is solved once per parameter set.
    """
    cost, tolls = [], []
    for d in p.demand:
        inst = p.instance(d)
        so = solution.system_optimum_single(inst)
        cost.append(so.total_cost)
        tolls.append(solution.pigouvian_tolls(inst, so))
    out = np.asarray(cost), np.asarray(tolls)
    for a in out:
        a.setflags(write=False)
    return out


@functools.lru_cache(maxsize=1 << 16)
def tolled_cost(p: OperatorParams, demand: float, tolls: tuple[float, ...]) -> float:
    """Real total cost ($/h: time at the value of time plus energy, tolls excluded) of the equilibrium under ``tolls``.

    Cached because fixed policies repeat the same tolls every episode.
    """
    ue = solution.wardrop_single(p.instance(demand, tolls))
    return p.instance(demand).total_cost(ue.flows, prices_are_costs=True)


def hourly_poa(p: OperatorParams, hour: int, tolls: Sequence[float]) -> float:
    """``TC(UE under tolls) / TC(SO)`` at hour ``hour``'s demand: 1 at the optimum."""
    h = hour % p.n_hours
    return tolled_cost(p, p.demand[h], tuple(float(t) for t in tolls)) / float(hourly_optimum(p)[0][h])


def summary(p: OperatorParams) -> dict[str, Any]:
    """What ``econbench solve`` prints: each hour's system optimum (loads, cost), the Pigouvian tolls that
    implement it, the untolled equilibrium's cost and price of anarchy, and the day's returns of both.

    Per-hour quantities are indexed by the hour of the profile (rows) and the station (columns).
    """
    cost, tolls = hourly_optimum(p)
    loads = np.array([solution.system_optimum_single(p.instance(d)).loads for d in p.demand])
    free = tuple(0.0 for _ in range(p.n_stations))
    untolled = np.array([tolled_cost(p, d, free) for d in p.demand])
    poa = untolled / cost
    hours = np.arange(p.horizon) % p.n_hours
    return {
        "hourly demand (EV/h)": p.demand,
        "system-optimum loads (EV/h), hour x station": loads,
        "system-optimum cost TC(SO) ($/h), per hour": cost,
        "Pigouvian tolls v x W'(x) ($/EV), hour x station": tolls,
        "largest Pigouvian toll ($/EV)": float(tolls.max()),
        "untolled equilibrium cost TC(UE) ($/h), per hour": untolled,
        "price of anarchy without tolls, per hour": poa,
        "episode return under the Pigouvian tolls (exact)": -float(p.horizon),
        "episode return without tolls": -float(poa[hours].sum()),
    }
