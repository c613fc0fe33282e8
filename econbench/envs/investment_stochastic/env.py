"""Task factories and named fixed policies of the stochastic Lucas–Prescott industry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.investment_stochastic import gap as stochastic_gap
from econbench.envs.investment_stochastic import solution
from econbench.envs.investment_stochastic.dynamics import CapacityDynamics, PlannerCapacityDynamics
from econbench.envs.investment_stochastic.params import StochasticParams


def grid_rate_policy(p: StochasticParams, kprime: np.ndarray, backend: Backend) -> Any:
    """Investment rate ``z(K, u)`` from a tabulated next capacity ``K'(K, u)`` on the card's grid.

    Linear in K between grid points (clamped at the ends), nearest shock state;
    written against ``xp`` so it runs on any backend.
    """
    xp = backend.xp
    k_grid = solution.k_grid(p)
    u_grid, _ = solution.shock_process(p)
    dk = float(k_grid[1] - k_grid[0])
    du = float(u_grid[1] - u_grid[0]) if u_grid.size > 1 else 1.0
    n_k, n_u = kprime.shape
    table = backend.asarray(np.ascontiguousarray(kprime).ravel())

    def rate(K: Array, u: Array) -> Array:
        pos = xp.clip((K - p.k_grid_min) / dk, 0.0, float(n_k - 1))
        i = xp.clip(xp.astype(xp.floor(pos), xp.int64), 0, n_k - 2)
        w = pos - xp.astype(i, K.dtype)
        s = xp.clip(xp.astype(xp.round((u - float(u_grid[0])) / du), xp.int64), 0, n_u - 1)
        flat = xp.reshape(i * n_u + s, (-1,))
        lo = xp.reshape(xp.take(table, flat, axis=0), K.shape)
        hi = xp.reshape(xp.take(table, flat + n_u, axis=0), K.shape)
        k_next = (1.0 - w) * lo + w * hi
        z = (k_next / K) ** (1.0 / p.alpha) - (1.0 - p.delta)
        return xp.clip(z, 0.0, p.z_max)

    return rate


def _exact(group: str) -> Any:
    """Everyone invests at the planner's rate ``z*(K, u)`` (optimal for a price taker by homogeneity)."""

    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        p: StochasticParams = task.params
        rate = grid_rate_policy(p, solution.solve_planner(p).kprime, backend)
        col = 0 if group == "planner" else 1  # where K sits in the observation

        def policy(obs: Array) -> Array:
            return rate(obs[..., col], obs[..., -1])[..., None]

        return {group: policy}

    return factory


def _maintain(group: str) -> Any:
    """Reference policy ``z = delta``: replace depreciation, keep capacity constant."""

    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        xp, delta = backend.xp, task.params.delta
        return {group: lambda obs: xp.full(obs.shape[:-1] + (1,), delta, dtype=obs.dtype, device=backend.device)}

    return factory


def _build(card: Mapping[str, Any], group: str, overrides: Mapping[str, Any]) -> Task:
    p = params_from_card(StochasticParams, card["id"], **overrides)
    if p.n_firms < 1:
        raise ValueError(f"n_firms must be >= 1, got {p.n_firms}")
    n, obs_dim = (1, 2) if group == "planner" else (p.n_firms, 3)
    spec = GroupSpec(group, n, group.rstrip("s"), BoxSpec((obs_dim,)), BoxSpec((1,), 0.0, p.z_max))
    dyn = PlannerCapacityDynamics if group == "planner" else CapacityDynamics
    policies = {"exact": _exact(group), "maintain": _maintain(group)}
    gap = None if group == "planner" else stochastic_gap.stochastic_price_taker_gap
    return Task(
        card["id"], card, p, (spec,), dyn, p.beta, p.horizon, policies, equilibrium_gap=gap, solution=solution.summary
    )


def market_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "firms", overrides)


def planner_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "planner", overrides)
