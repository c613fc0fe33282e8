"""Task factories and named fixed policies of the LQ Lucas–Prescott industry."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, PolicyFactory, Task
from econbench.envs.investment_lq import gap, solution
from econbench.envs.investment_lq.dynamics import MarketDynamics, PlannerDynamics
from econbench.envs.investment_lq.params import LQParams


def _clip(u: Array, p: LQParams, xp: Any) -> Array:
    return xp.clip(u, -p.u_max, p.u_max)


class FirmRule:
    """The REE firm rule ``y' = h0 + h1 y + h2 Y`` as an adjustment ``u = h0 + (h1 - 1) y + h2 Y``, clipped."""

    def __init__(self, h: tuple[float, float, float], p: LQParams, backend: Backend) -> None:
        self.h, self.p, self.backend = h, p, backend

    def __call__(self, obs: Array) -> Array:
        h0, h1, h2 = self.h
        u = h0 + (h1 - 1.0) * obs[..., 0] + h2 * obs[..., 1]
        return _clip(u, self.p, self.backend.xp)[..., None]


class PlannerRule:
    """The REE law ``Y' = kappa0 + kappa1 Y`` as an adjustment of the planner's output, clipped."""

    def __init__(self, kappa0: float, kappa1: float, p: LQParams, backend: Backend) -> None:
        self.kappa0, self.kappa1, self.p, self.backend = kappa0, kappa1, p, backend

    def __call__(self, obs: Array) -> Array:
        return _clip(self.kappa0 + (self.kappa1 - 1.0) * obs, self.p, self.backend.xp)


def _market_exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Every firm follows the REE firm rule ``y' = h0 + h1 y + h2 Y``."""
    p: LQParams = task.params
    sol = solution.solve_planner(p)
    return {"firms": FirmRule(solution.firm_best_response(p, sol.kappa0, sol.kappa1), p, backend)}


def _planner_exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """The planner follows the REE law ``Y' = kappa0 + kappa1 Y``."""
    p: LQParams = task.params
    sol = solution.solve_planner(p)
    return {"planner": PlannerRule(sol.kappa0, sol.kappa1, p, backend)}


class Freeze:
    """``u = 0`` for every agent: a class, so that envs holding it pickle."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, obs: Array) -> Array:
        return self.backend.xp.zeros_like(obs[..., :1])


def _freeze(group: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {group: Freeze(backend)}


def freeze_policy(group: str) -> PolicyFactory:
    """Reference policy ``u = 0``: keep output where it is."""
    return partial(_freeze, group)


def _box(p: LQParams, obs_dim: int) -> tuple[BoxSpec, BoxSpec]:
    return BoxSpec((obs_dim,)), BoxSpec((1,), -p.u_max, p.u_max)


def market_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(LQParams, card["id"], **overrides)
    if p.n_firms < 1:
        raise ValueError(f"n_firms must be >= 1, got {p.n_firms}")
    obs, act = _box(p, 2)
    firms = GroupSpec("firms", p.n_firms, card["groups"]["firms"]["agent_name"], obs, act)
    return Task(
        card["id"],
        card,
        p,
        (firms,),
        MarketDynamics,
        p.beta,
        p.horizon,
        {"exact": _market_exact, "freeze": freeze_policy("firms")},
        equilibrium_gap=gap.lq_price_taker_gap,
        solution=solution.summary,
    )


def planner_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(LQParams, card["id"], **overrides)
    obs, act = _box(p, 1)
    planner = GroupSpec("planner", 1, "planner", obs, act)
    return Task(
        card["id"],
        card,
        p,
        (planner,),
        PlannerDynamics,
        p.beta,
        p.horizon,
        {"exact": _planner_exact, "freeze": freeze_policy("planner")},
        solution=solution.summary,
    )
