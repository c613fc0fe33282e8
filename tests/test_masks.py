"""Action masks in the contract: a masked discrete group travels through every view.

No shipped task has discrete masked actions yet (RICE's negotiation and RBC's
curricula will), so this test builds a small task in code: each agent holds
a stock and may not sell (action 2) what it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from econbench.adapters.gymnasium import EconEnv
from econbench.adapters.pettingzoo import EconParallelEnv
from econbench.adapters.vector import EconVectorEnv
from econbench.backend import BackendRNG
from econbench.core import ActionError, Array, BoxSpec, DiscreteSpec, Dynamics, GroupSpec, StepOutput, Task


@dataclass(frozen=True)
class Stock:
    x: Array


class StockDynamics(Dynamics):
    """Actions: 0 hold, 1 buy one unit, 2 sell one unit; a masked-out sale is a no-op."""

    def initial_state(self, rng: BackendRNG, n_envs: int) -> Stock:
        return Stock(self.xp.floor(rng.uniform((n_envs, 3), 0.0, 2.0)))

    def step(self, state: Stock, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        xp = self.xp
        a = actions["traders"][..., 0]
        delta = xp.astype(a == 1, state.x.dtype) - xp.astype((a == 2) & (state.x > 0), state.x.dtype)
        reward = -xp.abs(state.x + delta - 1.0)
        return StepOutput(Stock(state.x + delta), {"traders": reward}, xp.sum(reward, axis=1))

    def observe(self, state: Stock) -> dict[str, Array]:
        return {"traders": state.x[..., None]}

    def action_masks(self, state: Stock) -> dict[str, Array]:
        xp = self.xp
        ones = xp.ones_like(state.x, dtype=xp.bool)
        return {"traders": xp.stack([ones, ones, state.x > 0], axis=-1)}


def stock_task() -> Task:
    group = GroupSpec("traders", 3, "trader", BoxSpec((1,), 0.0, np.inf), DiscreteSpec((3,)), masked=True)
    card = {"id": "test/Stock-v0", "protocol": {}}
    return Task("test/Stock-v0", card, None, (group,), StockDynamics, 0.9, 5)


def test_gym_env_exposes_masks_and_passes_check_env() -> None:
    env = EconEnv(stock_task())
    obs, _ = env.reset(seed=0)
    assert set(obs["traders"]) == {"observation", "action_mask"}
    assert obs["traders"]["action_mask"].shape == (3, 3)
    np.testing.assert_array_equal(obs["traders"]["action_mask"][:, 2], obs["traders"]["observation"][:, 0] > 0)
    check_env(EconEnv(stock_task()))


def test_discrete_actions_are_validated() -> None:
    env = EconEnv(stock_task())
    env.reset(seed=0)
    with pytest.raises(ActionError, match="must be integer"):
        env.step({"traders": np.zeros((3, 1))})
    with pytest.raises(ActionError, match=r"out of range \[0, nvec\)"):
        env.step({"traders": np.full((3, 1), 3)})


def test_vector_and_pettingzoo_views_carry_masks() -> None:
    vec = EconVectorEnv(stock_task(), num_envs=4)
    obs, _ = vec.reset(seed=1)
    assert vec.observation_space.contains(obs)
    obs, *_ = vec.step({"traders": np.ones((4, 3, 1), dtype=np.int64)})  # everyone buys: all may sell next
    assert obs["traders"]["action_mask"][..., 2].all()
    par = EconParallelEnv(stock_task())
    obs, _ = par.reset(seed=2)
    assert par.observation_space("trader_0").contains(obs["trader_0"])
    from pettingzoo.test import parallel_api_test

    parallel_api_test(EconParallelEnv(stock_task()), num_cycles=20)
