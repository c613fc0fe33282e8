"""Batched dynamics of the stochastic Lucas–Prescott industry (market and planner)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.investment_lq.dynamics import dispersed_start
from econbench.envs.investment_stochastic.params import StochasticParams
from econbench.envs.investment_stochastic.solution import shock_process


@dataclass(frozen=True)
class CapacityState:
    k: Array  # (n_envs, n_agents): capacity of each firm (market) or of the industry (planner)
    s: Array  # (n_envs,) int64: index of the demand shock on the Tauchen grid


def stationary(P: np.ndarray) -> np.ndarray:
    """Stationary distribution of an irreducible Markov chain: the left unit eigenvector."""
    n = P.shape[0]
    A = np.vstack([P.T - np.eye(n), np.ones((1, n))])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(A, b, rcond=None)[0]


def draw_index(cum: Array, u: Array, xp: Any) -> Array:
    """Inverse-CDF draw: ``cum`` holds the first n-1 cumulative probabilities on the last axis."""
    return xp.sum(xp.astype(u[..., None] > cum, xp.int64), axis=-1)


class CapacityDynamics(Dynamics):
    """N measure-1/N price-taking firms: ``K = mean(k)``, ``p = a0 + u - a1 K``, ``k' = k (1 - delta + z)^alpha``."""

    params: StochasticParams
    group = "firms"

    def __init__(self, params: StochasticParams, backend: Backend) -> None:
        super().__init__(params, backend)
        u, P = shock_process(params)
        n = u.size
        self.n_agents = 1 if self.group == "planner" else params.n_firms
        self.dispersion = 0.0 if self.group == "planner" else params.init_dispersion
        self.u_grid = backend.asarray(u)
        self.cum_rows = backend.asarray(np.cumsum(P, axis=1)[:, :-1].ravel())
        self.cum0 = backend.asarray(np.cumsum(stationary(P))[:-1])
        self._cols = backend.asarray(np.arange(n - 1), dtype=self.xp.int64)
        self._n = n

    def next_shock(self, s: Array, uniform: Array) -> Array:
        xp = self.xp
        flat = xp.reshape(s[:, None] * (self._n - 1) + self._cols[None, :], (-1,))
        rows = xp.reshape(xp.take(self.cum_rows, flat, axis=0), (s.shape[0], self._n - 1))
        return draw_index(rows, uniform, xp)

    def initial_state(self, rng: BackendRNG, n_envs: int) -> CapacityState:
        p = self.params
        k0 = rng.uniform((n_envs, 1), p.k0_low, p.k0_high)
        s0 = draw_index(self.cum0, rng.uniform((n_envs,)), self.xp)
        return CapacityState(dispersed_start(k0, self.n_agents, self.dispersion, rng, self.xp), s0)

    def draw_noise(self, rng: BackendRNG, n_envs: int) -> Array:
        return rng.uniform((n_envs,))

    def step(self, state: CapacityState, actions: Mapping[str, Array], noise: Array, t: Array) -> StepOutput:
        xp, p = self.xp, self.params
        z, k = actions[self.group][..., 0], state.k
        K = self.agent_mean(k)
        u = xp.take(self.u_grid, state.s, axis=0)
        x = z * k
        profit = (p.a0 + u - p.a1 * K)[:, None] * k
        profit -= x  # in place on fresh temporaries: fewer large allocations
        welfare = (p.a0 + u - 0.5 * p.a1 * K) * K - self.agent_mean(x)
        k_next = z + (1.0 - p.delta)
        k_next **= p.alpha
        k_next *= k
        reward = welfare[:, None] if self.group == "planner" else profit  # the planner earns the surplus
        return StepOutput(CapacityState(k_next, self.next_shock(state.s, noise)), {self.group: reward}, welfare)

    def observe(self, state: CapacityState) -> dict[str, Array]:
        xp, k = self.xp, state.k
        u = xp.broadcast_to(xp.take(self.u_grid, state.s, axis=0)[:, None], k.shape)
        if self.group == "planner":
            return {"planner": xp.stack([k, u], axis=-1)}
        K = xp.broadcast_to(self.agent_mean(k)[:, None], k.shape)
        return {"firms": xp.stack([k, K, u], axis=-1)}


class PlannerCapacityDynamics(CapacityDynamics):
    """The planner sets the industry's investment rate: reward ``(a0 + u) K - a1 K^2/2 - z K``."""

    group = "planner"
