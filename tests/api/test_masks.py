"""Action masks in the contract: a masked discrete group travels through every view, and binds.

A small task built in code: each agent holds a stock and may not sell
(action 2) what it does not have. By default (``mask_violation="error"``) a
masked action is an error that changes nothing; ``"execute"`` hands it to the
dynamics (upstream's advisory masks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from econbench.adapters.gymnasium import EconEnv
from econbench.adapters.pettingzoo import EconParallelEnv
from econbench.adapters.vector import EconVectorEnv
from econbench.backend import BackendRNG
from econbench.core import (
    ActionError,
    Array,
    BatchedEnv,
    BoxSpec,
    DiscreteSpec,
    Dynamics,
    GroupSpec,
    StepOutput,
    Task,
)
from econbench.registry import make_task


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
    check_env(EconEnv(stock_task()))  # in the default configuration: its samples follow the masks


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

    parallel_api_test(EconParallelEnv(stock_task()), num_cycles=20)  # the default: its samples follow the masks


# ---------------------------------------------------------------------------- mask_violation
def _forbidden_sale(env: BatchedEnv) -> tuple[np.ndarray, tuple[int, int]]:
    """Everyone holds, except one trader with an empty stock, who sells."""
    x = np.asarray(env.state.x)
    env_i, agent = (int(v[0]) for v in np.nonzero(x == 0))
    acts = np.zeros((env.n_envs, 3, 1), dtype=np.int64)
    acts[env_i, agent, 0] = 2
    return acts, (env_i, agent)


def test_a_masked_action_is_an_error_by_default_and_changes_nothing() -> None:
    env = BatchedEnv(stock_task(), 4, seed=3)
    env.reset()
    acts, (e, i) = _forbidden_sale(env)
    before, t, draw = np.asarray(env.state.x).copy(), np.asarray(env.t).copy(), env._rng
    message = (
        rf"Stock-v0: group 'traders' agent {i} \(env {e}\) chose index 2 for head 0, which its action mask "
        r"forbids \(allowed 0\.\.1\); mask_violation='execute' would execute it"
    )
    with pytest.raises(ActionError, match=message):
        env.step({"traders": acts})
    assert np.array_equal(np.asarray(env.state.x), before) and np.array_equal(np.asarray(env.t), t) and env._rng is draw
    acts[e, i, 0] = 0
    env.step({"traders": acts})


def test_mask_violation_execute_hands_the_action_to_the_dynamics() -> None:
    env = BatchedEnv(stock_task(), 4, seed=3, mask_violation="execute")
    env.reset()
    acts, (e, i) = _forbidden_sale(env)
    env.step({"traders": acts})  # the dynamics treat a sale from an empty stock as a no-op
    assert np.asarray(env.state.x)[e, i] == 0.0
    with pytest.raises(ValueError, match="mask_violation must be one of"):
        BatchedEnv(stock_task(), 1, mask_violation="ignore")
    with pytest.raises(TypeError, match="mask_violation is an option of the env"):
        make_task("econbench/RICECooperation-v0", mask_violation="execute")


def test_the_generic_check_matches_the_masks_on_multiple_heads() -> None:
    """Heads of different sizes: the gather must find each head's block of the flat mask."""
    task = stock_task()
    env = BatchedEnv(task, 2, seed=0)
    env.reset()
    dyn = env.dynamics
    group = GroupSpec("traders", 3, "trader", BoxSpec((1,), 0.0, np.inf), DiscreteSpec((2, 3)), masked=True)
    xp = env.xp
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[1, 2, 2 + 1] = False  # env 1, agent 2: head 1 may not be 1
    dyn.action_masks = lambda state: {"traders": xp.asarray(mask)}  # type: ignore[method-assign]
    ok = np.zeros((2, 3, 2), dtype=np.int64)
    ok[1, 2] = (1, 2)
    dyn.check_masks(env.state, {"traders": ok}, env.t, (group,))
    bad = ok.copy()
    bad[1, 2, 1] = 1
    with pytest.raises(ActionError, match=r"agent 2 \(env 1\) chose index 1 for head 1, .*\(allowed 0, 2\)"):
        dyn.check_masks(env.state, {"traders": bad}, env.t, (group,))
    dyn.check_masks(env.state, {"traders": bad}, env.t, (group,), where=xp.asarray(np.array([[True], [False]])))
    dyn.check_masks(env.state, {"traders": bad}, env.t, (group,), where=xp.asarray(np.array([[True, True, False]])))


def test_every_adapter_takes_mask_violation() -> None:
    env = EconEnv(stock_task(), mask_violation="execute")
    env.reset(seed=0)
    env.step({"traders": np.full((3, 1), 2)})  # sells whatever the stocks
    vec = EconVectorEnv(stock_task(), num_envs=2, mask_violation="execute")
    vec.reset(seed=0)
    vec.step({"traders": np.full((2, 3, 1), 2)})
    strict = EconVectorEnv(stock_task(), num_envs=64)
    strict.reset(seed=0)
    with pytest.raises(ActionError, match="mask forbids"):
        strict.step({"traders": np.full((64, 3, 1), 2)})
    par = EconParallelEnv(stock_task(), mask_violation="execute")
    par.reset(seed=0)
    par.step({a: np.array([2]) for a in par.agents})
