"""SuperSuit on econbench's PettingZoo parallel envs: games whose agents share spaces become one SB3 VecEnv
(``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``) and PPO trains on it; games with differing Box spaces
do after padding; games SuperSuit cannot homogenise (dict observations, mixed discrete actions) are named."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

import econbench
from econbench.core import ActionError
from econbench.registry import make_task
from tests.conftest import MULTI_IDS

ss = pytest.importorskip("supersuit")
from stable_baselines3 import PPO  # noqa: E402


def agent_spaces(task_id: str) -> tuple[list[spaces.Space], list[spaces.Space]]:
    env = econbench.parallel_env(task_id)
    return [env.observation_space(a) for a in env.possible_agents], [env.action_space(a) for a in env.possible_agents]


def homogeneous(task_id: str) -> bool:
    obs, act = agent_spaces(task_id)
    return all(o == obs[0] for o in obs) and all(a == act[0] for a in act)


def paddable(task_id: str) -> bool:
    """SuperSuit's padding homogenises Box or Discrete spaces only (``homogenize_ops``), all of one kind."""
    return all(len({type(s) for s in group}) == 1 and type(group[0]) in (spaces.Box, spaces.Discrete)
               for group in agent_spaces(task_id))  # fmt: skip


HOMOGENEOUS = [t for t in MULTI_IDS if homogeneous(t)]
PADDED = [t for t in MULTI_IDS if not homogeneous(t) and paddable(t)]
NOT_EXPRESSIBLE = [t for t in MULTI_IDS if not homogeneous(t) and not paddable(t)]
COPIES = 2  # economies per SuperSuit vec env: its rows are COPIES x agents


def masked(task_id: str) -> bool:
    return any(g.masked for g in make_task(task_id).groups)


def game(task_id: str, **kwargs: Any) -> Any:
    """PPO reads no mask: a masked game executes what its masks forbid (econbench's default refuses it)."""
    return econbench.parallel_env(task_id, **({"mask_violation": "execute"} if masked(task_id) else {}), **kwargs)


def vec_env(par_env: Any, seed: int = 0) -> Any:
    """One SB3 VecEnv row per agent and economy, reset with ``seed``.

    SuperSuit's SB3 wrapper has no ``seed`` (SB3 2.x calls it from ``PPO(seed=...)``): PPO gets no seed and the
    economies are seeded by this reset (their later resets continue from it).
    """
    venv = ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(par_env), COPIES, num_cpus=0, base_class="stable_baselines3"
    )
    venv.venv.reset(seed=seed)
    return venv


def train_one_update(venv: Any, task_id: str) -> PPO:
    policy = "MultiInputPolicy" if isinstance(venv.observation_space, spaces.Dict) else "MlpPolicy"
    n_steps = max(2, 256 // venv.num_envs)  # a few hundred agent-steps per update
    rows = n_steps * venv.num_envs  # one minibatch: the whole rollout
    model = PPO(
        policy, venv, gamma=make_task(task_id).discount, n_steps=n_steps, batch_size=rows, n_epochs=1, device="cpu"
    )
    model.learn(1)
    assert model.num_timesteps == rows
    return model


@pytest.mark.parametrize("task_id", HOMOGENEOUS)
def test_ppo_on_a_game_whose_agents_share_spaces(task_id: str) -> None:
    par_env = game(task_id)
    venv = vec_env(par_env)
    assert venv.num_envs == COPIES * len(par_env.possible_agents)
    # rows are the agents in possible_agents order, economy after economy; the first economy is the game reset alike
    first, _ = game(task_id).reset(seed=0)
    rows, _ = venv.venv.reset(seed=0)
    for i, agent in enumerate(par_env.possible_agents):
        expected = first[agent]
        if isinstance(expected, dict):
            for key, value in expected.items():
                np.testing.assert_array_equal(rows[key][i], value)
        else:
            np.testing.assert_array_equal(rows[i], expected)
    train_one_update(venv, task_id)


def padded(par_env: Any) -> Any:
    """Each agent's actions clipped to its own bounds, then action and observation spaces padded to the largest,
    then an agent-type indicator: one policy for every agent."""
    return ss.agent_indicator_v0(
        ss.pad_observations_v0(ss.pad_action_space_v0(ss.clip_actions_v0(par_env))), type_only=True
    )


@pytest.mark.parametrize("task_id", PADDED)
def test_ppo_on_a_padded_game(task_id: str) -> None:
    train_one_update(vec_env(padded(game(task_id))), task_id)


@pytest.mark.parametrize("task_id", PADDED)
def test_padding_alone_breaks_the_bounds(task_id: str) -> None:
    """Without ``clip_actions_v0`` the padded Box is the union of the agents' boxes, and an agent gets actions
    outside its own: econbench refuses them."""
    venv = vec_env(ss.pad_observations_v0(ss.pad_action_space_v0(game(task_id))))
    with pytest.raises(ActionError, match="out of range"):
        train_one_update(venv, task_id)


@pytest.mark.parametrize("task_id", NOT_EXPRESSIBLE)
def test_games_supersuit_cannot_homogenise(task_id: str) -> None:
    """Dict observations (masks) and a mix of Discrete and MultiDiscrete actions: SuperSuit pads neither."""
    obs, act = agent_spaces(task_id)
    assert not paddable(task_id)
    assert any(isinstance(s, spaces.Dict) for s in obs) or len({type(s) for s in act}) > 1
    with pytest.raises(AssertionError, match="homogeniz"):
        ss.pad_action_space_v0(game(task_id))
