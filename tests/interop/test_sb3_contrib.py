"""sb3-contrib against econbench's single-agent views: MaskablePPO on the masked views (through ``gym.make``,
``ActionMasker`` and ``EconSB3VecEnv``) never takes a forbidden action; RecurrentPPO and TRPO on a Box view."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from econbench.registry import make_task
from tests.conftest import SINGLE_IDS

pytest.importorskip("sb3_contrib")
from sb3_contrib import TRPO, MaskablePPO, RecurrentPPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy as evaluate_masked
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from econbench.adapters.sb3 import EconSB3VecEnv

MASKED_IDS = [t for t in SINGLE_IDS if any(g.masked for g in make_task(t).groups)]
BINDING = ["econbench/RICECooperation-Bilateral-Region-v0", "econbench/EVCharging-Driver-v0"]  # masks bind in play
BOX = "econbench/InvestmentLQ-Planner-v0"
SMALL = {"n_steps": 64, "batch_size": 64, "seed": 0, "device": "cpu"}
PPO_SMALL = {**SMALL, "n_epochs": 1}


def allowed(mask: np.ndarray, action: Any, nvec: np.ndarray) -> bool:
    """Whether a MultiDiscrete action picks an allowed value in every head of the flat mask."""
    heads = np.split(np.asarray(mask, dtype=bool), np.cumsum(nvec)[:-1])
    return all(head[int(a)] for head, a in zip(heads, np.ravel(action)))


class MaskAudit(gym.Wrapper):
    """Counts the steps whose mask binds and the actions it forbids, checked before the env sees them."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.binding = self.forbidden = self.steps = 0

    def step(self, action: Any) -> Any:
        mask = self.env.unwrapped.action_masks()
        self.steps += 1
        self.binding += not mask.all()
        self.forbidden += not allowed(mask, action, self.action_space.nvec)
        return self.env.step(action)


class VecMaskAudit(VecEnvWrapper):
    """:class:`MaskAudit` for a VecEnv: every row's action against its row of ``env_method("action_masks")``."""

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.forbidden = self.steps = 0

    def reset(self) -> Any:
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        masks = self.venv.env_method("action_masks")
        self.steps += len(masks)
        self.forbidden += sum(not allowed(m, a, self.action_space.nvec) for m, a in zip(masks, actions))
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        return self.venv.step_wait()


def discount(task_id: str) -> float:
    return make_task(task_id).discount


@pytest.mark.parametrize("task_id", MASKED_IDS)
def test_maskable_ppo_through_gym_make(task_id: str) -> None:
    """The env's own ``action_masks()`` (what MaskablePPO looks for); the env refuses a forbidden action, and the
    audit counts one before it could."""
    env = MaskAudit(gym.make(task_id))
    model = MaskablePPO("MultiInputPolicy", env, gamma=discount(task_id), **PPO_SMALL)
    model.learn(128)
    assert env.steps >= 128 and env.forbidden == 0
    mean, _ = evaluate_masked(model, Monitor(gym.make(task_id)), n_eval_episodes=1, warn=False)
    assert np.isfinite(mean)


@pytest.mark.parametrize("task_id", BINDING)
def test_the_audit_sees_plain_ppo_break_masks_that_bind(task_id: str) -> None:
    """The checks above can fail: where masks bind, PPO without masking picks forbidden actions (executed here as
    the dynamics define; the default env would refuse them)."""
    from stable_baselines3 import PPO

    env = MaskAudit(gym.make(task_id, mask_violation="execute"))
    PPO("MultiInputPolicy", env, gamma=discount(task_id), **PPO_SMALL).learn(64)
    assert env.binding > 0 and env.forbidden > 0


def test_maskable_ppo_with_action_masker() -> None:
    """sb3-contrib's own wrapper, with a mask function reading the env's masks."""
    task_id = BINDING[0]
    env = MaskAudit(gym.make(task_id))
    masked = ActionMasker(env, lambda e: e.unwrapped.action_masks())
    model = MaskablePPO("MultiInputPolicy", masked, gamma=discount(task_id), **PPO_SMALL)
    model.learn(64)
    assert env.binding > 0 and env.forbidden == 0


@pytest.mark.parametrize("task_id", MASKED_IDS)
def test_maskable_ppo_on_the_batched_vec_env(task_id: str) -> None:
    """``EconSB3VecEnv`` answers ``env_method("action_masks")`` with one row per economy, no Python loop of envs."""
    venv = VecMaskAudit(EconSB3VecEnv(task_id, num_envs=4))
    model = MaskablePPO("MultiInputPolicy", venv, gamma=discount(task_id), **{**PPO_SMALL, "n_steps": 32})
    model.learn(128)
    assert venv.steps >= 128 and venv.forbidden == 0
    mean, _ = evaluate_masked(model, venv, n_eval_episodes=4, warn=False)
    assert np.isfinite(mean)


@pytest.mark.parametrize("algo", [RecurrentPPO, TRPO])
@pytest.mark.parametrize("make", ["gym.make", "EconSB3VecEnv"])
def test_other_algorithms_on_a_box_view(algo: type, make: str) -> None:
    """A recurrent policy and a trust-region one train out of the box, actions in [-1, 1] (as econbench's SB3 runs)."""
    if make == "gym.make":
        env: Any = gym.wrappers.RescaleAction(gym.make(BOX), -1.0, 1.0)
    else:
        env = EconSB3VecEnv(BOX, num_envs=4, normalize_actions=True)
    policy = "MlpLstmPolicy" if algo is RecurrentPPO else "MlpPolicy"
    model = algo(policy, env, gamma=discount(BOX), **(PPO_SMALL if algo is RecurrentPPO else SMALL))
    model.learn(256)
    assert model.num_timesteps >= 256
    mean, _ = evaluate_policy(model, env, n_eval_episodes=1, warn=False)
    assert np.isfinite(mean)
