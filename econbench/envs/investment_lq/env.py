"""Task factories and named fixed policies of the LQ Lucas–Prescott industry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.investment_lq import gap, solution
from econbench.envs.investment_lq.dynamics import MarketDynamics, PlannerDynamics
from econbench.envs.investment_lq.params import LQParams


def _clip(u: Array, p: LQParams, xp: Any) -> Array:
    return xp.clip(u, -p.u_max, p.u_max)


def _market_exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Every firm follows the REE firm rule ``y' = h0 + h1 y + h2 Y``."""
    p: LQParams = task.params
    sol = solution.solve_planner(p)
    h0, h1, h2 = solution.firm_best_response(p, sol.kappa0, sol.kappa1)
    xp = backend.xp

    def firms(obs: Array) -> Array:
        u = h0 + (h1 - 1.0) * obs[..., 0] + h2 * obs[..., 1]
        return _clip(u, p, xp)[..., None]

    return {"firms": firms}


def _planner_exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """The planner follows the REE law ``Y' = kappa0 + kappa1 Y``."""
    p: LQParams = task.params
    sol = solution.solve_planner(p)
    xp = backend.xp

    def planner(obs: Array) -> Array:
        return _clip(sol.kappa0 + (sol.kappa1 - 1.0) * obs, p, xp)

    return {"planner": planner}


def freeze_policy(group: str) -> Any:
    """Reference policy ``u = 0``: keep output where it is."""

    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        xp = backend.xp
        return {group: lambda obs: xp.zeros_like(obs[..., :1])}

    return factory


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
