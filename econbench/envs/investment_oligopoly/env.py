"""Task factory and named fixed policies of the N-firm oligopoly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.investment_lq.env import freeze_policy
from econbench.envs.investment_oligopoly import gap, solution
from econbench.envs.investment_oligopoly.dynamics import OligopolyDynamics
from econbench.envs.investment_oligopoly.params import OligopolyParams


class SymmetricRule:
    """``u_i = const + own q_i + cross Q_-i`` on observations ``(q_i, Q_-i)``, clipped to the bounds.

    A class, so that envs holding it pickle.
    """

    def __init__(self, const: float, own: float, cross: float, u_max: float, backend: Backend) -> None:
        self.const, self.own, self.cross, self.u_max, self.backend = const, own, cross, u_max, backend

    def __call__(self, obs: Array) -> Array:
        u = self.const + self.own * obs[..., 0] + self.cross * obs[..., 1]
        return self.backend.xp.clip(u, -self.u_max, self.u_max)[..., None]


def symmetric_rule(const: float, own: float, cross: float, u_max: float, backend: Backend) -> GroupPolicy:
    """``u_i = const + own q_i + cross Q_-i`` on observations ``(q_i, Q_-i)``, clipped to the bounds."""
    return SymmetricRule(const, own, cross, u_max, backend)


def _mpe(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Markov-perfect equilibrium: ``u_i = -F_i x``; symmetric, so row 0 serves every firm."""
    p: OligopolyParams = task.params
    F = solution.solve_mpe(p).F
    cross = float(F[0, 2]) if p.n_firms > 1 else 0.0
    return {"firms": symmetric_rule(-float(F[0, 0]), -float(F[0, 1]), -cross, p.u_max, backend)}


def _competitive(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Price-taking play: each firm adjusts by ``(kappa0 + (kappa1 - 1) Q) / N``, the CE's share."""
    p: OligopolyParams = task.params
    k0, k1 = solution.competitive_law(p)
    n = p.n_firms
    return {"firms": symmetric_rule(k0 / n, (k1 - 1.0) / n, (k1 - 1.0) / n, p.u_max, backend)}


def oligopoly_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(OligopolyParams, card["id"], **overrides)
    if p.n_firms < 1:
        raise ValueError(f"n_firms must be >= 1, got {p.n_firms}")
    firms = GroupSpec("firms", p.n_firms, "firm", BoxSpec((2,)), BoxSpec((1,), -p.u_max, p.u_max))
    policies = {"exact": _mpe, "competitive": _competitive, "freeze": freeze_policy("firms")}
    return Task(
        card["id"],
        card,
        p,
        (firms,),
        OligopolyDynamics,
        p.beta,
        p.horizon,
        policies,
        equilibrium_gap=gap.lq_game_gap,
        solution=solution.summary,
    )
