"""Batched dynamics of the LQ Lucas–Prescott industry (market and planner)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from econbench.backend import BackendRNG
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.investment_lq.params import LQParams


@dataclass(frozen=True)
class OutputState:
    y: Array  # (n_envs, n_agents): output of each firm (market) or of the industry (planner)


def dispersed_start(aggregate: Array, n_agents: int, dispersion: float, rng: BackendRNG, xp: Any) -> Array:
    """Agent levels ``aggregate * (1 + d e_i)`` with demeaned ``e_i ~ U[-1, 1]``, so their mean is ``aggregate``."""
    e = rng.uniform((aggregate.shape[0], n_agents), -1.0, 1.0)
    e = e - xp.mean(e, axis=1, keepdims=True)
    return aggregate * (1.0 + dispersion * e)


class MarketDynamics(Dynamics):
    """N measure-1/N price-taking firms: ``Y = mean(y)``, ``p = a0 - a1 Y``."""

    params: LQParams

    def initial_state(self, rng: BackendRNG, n_envs: int) -> OutputState:
        p = self.params
        y0 = rng.uniform((n_envs, 1), p.y0_low, p.y0_high)
        return OutputState(dispersed_start(y0, p.n_firms, p.init_dispersion, rng, self.xp))

    def step(self, state: OutputState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p = self.params
        u = actions["firms"][..., 0]
        y = state.y
        Y = self.agent_mean(y)
        cost = u * u  # in-place updates of fresh temporaries: each large allocation costs page faults
        cost *= 0.5 * p.gamma
        profit = (p.a0 - p.a1 * Y)[:, None] * y
        profit -= cost
        welfare = (p.a0 - 0.5 * p.a1 * Y) * Y - self.agent_mean(cost)
        return StepOutput(OutputState(y + u), {"firms": profit}, welfare)

    def observe(self, state: OutputState) -> dict[str, Array]:
        xp = self.xp
        Y = xp.broadcast_to(self.agent_mean(state.y)[:, None], state.y.shape)
        return {"firms": xp.stack([state.y, Y], axis=-1)}


class PlannerDynamics(Dynamics):
    """The planner chooses industry output: reward ``a0 Y - a1 Y^2/2 - gamma/2 u^2``."""

    params: LQParams

    def initial_state(self, rng: BackendRNG, n_envs: int) -> OutputState:
        p = self.params
        return OutputState(rng.uniform((n_envs, 1), p.y0_low, p.y0_high))

    def step(self, state: OutputState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p = self.params
        u = actions["planner"][..., 0]
        Y = state.y
        reward = (p.a0 - 0.5 * p.a1 * Y) * Y - (0.5 * p.gamma) * u * u
        return StepOutput(OutputState(Y + u), {"planner": reward}, reward[:, 0])

    def observe(self, state: OutputState) -> dict[str, Array]:
        return {"planner": state.y[..., None]}
