"""Dynamics of EVCharging-Operator-v0: the hour advances; the reward is minus the price of anarchy the tolls achieve.

The equilibrium solve is scalar host work (scipy); the dynamics move the
tolls to NumPy explicitly and the rewards back, so every backend (a GPU or
array-api-strict's simulated device) gets the very same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.ev_operator.params import OperatorParams
from econbench.envs.ev_operator.solution import hourly_optimum, hourly_poa

GROUP = "operator"


@dataclass(frozen=True)
class OperatorState:
    hour: Array  # (n_envs,) int64: hours elapsed in the episode


class OperatorDynamics(Dynamics):
    """The hour advances; the reward is ``-PoA`` of the hour under the posted tolls (welfare: the same)."""

    params: OperatorParams

    def __init__(self, params: OperatorParams, backend: Backend) -> None:
        super().__init__(params, backend)
        self._demand = backend.asarray(np.asarray(params.demand) / params.capacity)
        hourly_optimum(params)  # solve the optima now, not inside the first step

    def initial_state(self, rng: BackendRNG, n_envs: int) -> OperatorState:
        return OperatorState(self.backend.zeros((n_envs,), dtype=self.xp.int64))

    def step(self, state: OperatorState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p, b = self.params, self.backend
        hours = b.to_numpy(state.hour)
        tolls = np.asarray(b.to_numpy(actions[GROUP]), dtype=np.float64)[:, 0, :]
        poa = np.array([hourly_poa(p, int(h), row) for h, row in zip(hours, tolls)])
        reward = b.asarray(-poa)
        hour = state.hour + 1
        return StepOutput(OperatorState(hour), {GROUP: reward[:, None]}, reward, terminated=hour >= p.horizon)

    def observe(self, state: OperatorState) -> dict[str, Array]:
        """``(hour of day / n_hours, demand now / capacity, demand next hour / capacity)``, all in [0, 1)."""
        xp, n = self.xp, self.params.n_hours
        h = state.hour % n
        nxt = (h + 1) % n
        obs = xp.stack(
            [
                xp.astype(h, self.backend.dtype) / n,
                xp.take(self._demand, h, axis=0),
                xp.take(self._demand, nxt, axis=0),
            ],
            axis=-1,
        )
        return {GROUP: obs[:, None, :]}
