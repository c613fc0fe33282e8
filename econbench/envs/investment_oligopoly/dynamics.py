"""Batched dynamics of the N-firm dynamic Cournot oligopoly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from econbench.backend import BackendRNG
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.investment_oligopoly.params import OligopolyParams


@dataclass(frozen=True)
class OligopolyState:
    q: Array  # (n_envs, n_firms) outputs


class OligopolyDynamics(Dynamics):
    """``p = a0 - a1 sum_j q_j``; firm i earns ``p q_i - gamma u_i^2`` and moves to ``q_i + u_i``."""

    params: OligopolyParams

    def initial_state(self, rng: BackendRNG, n_envs: int) -> OligopolyState:
        p = self.params
        c = rng.uniform((n_envs, p.n_firms), p.q0_low, p.q0_high)
        return OligopolyState(c * p.cournot_output)

    def step(self, state: OligopolyState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p = self.params
        u, q = actions["firms"][..., 0], state.q
        Q = self.agent_sum(q)
        cost = u * u  # in place on fresh temporaries: fewer large allocations
        cost *= p.gamma
        profit = (p.a0 - p.a1 * Q)[:, None] * q
        profit -= cost
        welfare = (p.a0 - 0.5 * p.a1 * Q) * Q - self.agent_sum(cost)
        return StepOutput(OligopolyState(q + u), {"firms": profit}, welfare)

    def observe(self, state: OligopolyState) -> dict[str, Array]:
        xp, q = self.xp, state.q
        others = self.agent_sum(q)[:, None] - q
        return {"firms": xp.stack([q, others], axis=-1)}
