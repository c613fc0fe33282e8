"""Task factories and named fixed policies of the stochastic Lucas–Prescott industry."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.investment_stochastic import gap as stochastic_gap
from econbench.envs.investment_stochastic import solution
from econbench.envs.investment_stochastic.dynamics import CapacityDynamics, PlannerCapacityDynamics
from econbench.envs.investment_stochastic.params import StochasticParams


class GridRate:
    """Investment rate ``z(K, u)`` from a tabulated next capacity ``K'(K, u)`` on the card's grid.

    Linear in K between grid points (clamped at the ends), nearest shock state;
    written against ``xp`` so it runs on any backend. A class, so that envs holding it pickle.
    """

    def __init__(self, p: StochasticParams, kprime: np.ndarray, backend: Backend) -> None:
        k_grid = solution.k_grid(p)
        u_grid, _ = solution.shock_process(p)
        self.p, self.backend = p, backend
        self.dk = float(k_grid[1] - k_grid[0])
        self.du = float(u_grid[1] - u_grid[0]) if u_grid.size > 1 else 1.0
        self.u0 = float(u_grid[0])
        self.n_k, self.n_u = kprime.shape
        self.table = backend.asarray(np.ascontiguousarray(kprime).ravel())

    def __call__(self, K: Array, u: Array) -> Array:
        xp, p, n_k, n_u, table = self.backend.xp, self.p, self.n_k, self.n_u, self.table
        pos = xp.clip((K - p.k_grid_min) / self.dk, 0.0, float(n_k - 1))
        i = xp.clip(xp.astype(xp.floor(pos), xp.int64), 0, n_k - 2)
        w = pos - xp.astype(i, K.dtype)
        s = xp.clip(xp.astype(xp.round((u - self.u0) / self.du), xp.int64), 0, n_u - 1)
        flat = xp.reshape(i * n_u + s, (-1,))
        lo = xp.reshape(xp.take(table, flat, axis=0), K.shape)
        hi = xp.reshape(xp.take(table, flat + n_u, axis=0), K.shape)
        k_next = (1.0 - w) * lo + w * hi
        z = (k_next / K) ** (1.0 / p.alpha) - (1.0 - p.delta)
        return xp.clip(z, 0.0, p.z_max)


def grid_rate_policy(p: StochasticParams, kprime: np.ndarray, backend: Backend) -> GridRate:
    """Investment rate ``z(K, u)`` from a tabulated next capacity ``K'(K, u)`` (see :class:`GridRate`)."""
    return GridRate(p, kprime, backend)


class RatePolicy:
    """A group's actions from a rate ``z(K, u)``: K in observation column ``col``, the shock last."""

    def __init__(self, rate: GridRate, col: int) -> None:
        self.rate, self.col = rate, col

    def __call__(self, obs: Array) -> Array:
        return self.rate(obs[..., self.col], obs[..., -1])[..., None]


def _exact(group: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Everyone invests at the planner's rate ``z*(K, u)`` (optimal for a price taker by homogeneity)."""
    p: StochasticParams = task.params
    rate = grid_rate_policy(p, solution.solve_planner(p).kprime, backend)
    return {group: RatePolicy(rate, 0 if group == "planner" else 1)}  # where K sits in the observation


class Maintain:
    """Reference policy ``z = delta``: replace depreciation, keep capacity constant."""

    def __init__(self, delta: float, backend: Backend) -> None:
        self.delta, self.backend = delta, backend

    def __call__(self, obs: Array) -> Array:
        b = self.backend
        return b.xp.full(obs.shape[:-1] + (1,), self.delta, dtype=obs.dtype, device=b.device)


def _maintain(group: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {group: Maintain(task.params.delta, backend)}


def _build(card: Mapping[str, Any], group: str, overrides: Mapping[str, Any]) -> Task:
    p = params_from_card(StochasticParams, card["id"], **overrides)
    if p.n_firms < 1:
        raise ValueError(f"n_firms must be >= 1, got {p.n_firms}")
    n, obs_dim = (1, 2) if group == "planner" else (p.n_firms, 3)
    spec = GroupSpec(group, n, group.rstrip("s"), BoxSpec((obs_dim,)), BoxSpec((1,), 0.0, p.z_max))
    dyn = PlannerCapacityDynamics if group == "planner" else CapacityDynamics
    policies = {"exact": partial(_exact, group), "maintain": partial(_maintain, group)}
    gap = None if group == "planner" else stochastic_gap.stochastic_price_taker_gap
    return Task(
        card["id"], card, p, (spec,), dyn, p.beta, p.horizon, policies, equilibrium_gap=gap, solution=solution.summary
    )


def market_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "firms", overrides)


def planner_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "planner", overrides)
