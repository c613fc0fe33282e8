"""Gymnasium, vector, PettingZoo and SB3 views against their libraries' own checkers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import econbench
from econbench.registry import make_task
from tests.conftest import ALL_IDS, MULTI_IDS, SINGLE_IDS, unmasked


def _rollout(env: gym.Env, seed: int, steps: int) -> list[np.ndarray]:
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    flat = [gym.spaces.flatten(env.observation_space, obs)]
    for _ in range(steps):
        obs, reward, term, trunc, _ = env.step(env.action_space.sample())
        flat.append(np.append(gym.spaces.flatten(env.observation_space, obs), reward))
        if term or trunc:
            break
    return flat


@pytest.mark.parametrize("wrapped", [False, True], ids=["unwrapped", "gym.make"])
@pytest.mark.parametrize("task_id", ALL_IDS)
def test_gymnasium_check_env(task_id: str, wrapped: bool) -> None:
    """The default configuration, binding masks included: a masked space samples under the env's mask."""
    env = gym.make(task_id)
    check_env(env if wrapped else env.unwrapped)


@pytest.mark.parametrize("task_id", SINGLE_IDS)
def test_sb3_check_env(task_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(gym.make(task_id).unwrapped, warn=False)


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_same_seed_same_trajectory(task_id: str) -> None:
    a = _rollout(gym.make(task_id), seed=7, steps=40)  # masked spaces sample under the env's masks
    b = _rollout(gym.make(task_id), seed=7, steps=40)
    c = _rollout(gym.make(task_id), seed=8, steps=40)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))  # RBC's reset is deterministic: only later steps differ


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_episode_ends_at_the_horizon(task_id: str) -> None:
    """Truncated at the horizon, or terminated there where the game has a natural end (RICE's year 2115)."""
    env = gym.make(task_id)
    env.reset(seed=0)
    task = make_task(task_id)
    ends = task.card.get("max_episode_steps") is not None  # cards that give their own episode length end there
    for t in range(1, task.horizon + 1):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        assert term == (ends and t == task.horizon)
        assert trunc == (t == task.horizon and not ends)  # a game that ends by itself is not also truncated there


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_make_vec_uses_the_native_vector_env(task_id: str) -> None:
    vec = gym.make_vec(task_id, num_envs=5, **unmasked(task_id))
    assert type(vec).__name__ == "EconVectorEnv"
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = vec.reset(seed=3)
    assert vec.observation_space.contains(obs)
    obs, reward, term, trunc, _ = vec.step(vec.action_space.sample())
    assert vec.observation_space.contains(obs)
    assert reward.shape == term.shape == trunc.shape == (5,)


def test_vector_env_matches_single_envs_with_equal_draws() -> None:
    """Env 0 of a vector env reproduces a single env driven by the same initial state and actions."""
    vec = gym.make_vec("econbench/InvestmentOligopoly-v0", num_envs=4)
    obs, _ = vec.reset(seed=0)
    single = gym.make("econbench/InvestmentOligopoly-v0").unwrapped
    single.reset(seed=1)
    single.view.batched.state = type(vec.view.batched.state)(vec.view.batched.state.q[:1].copy())
    rng = np.random.default_rng(0)
    for _ in range(30):
        act = {"firms": rng.uniform(-1, 1, (4, 2, 1))}
        obs, rew, *_ = vec.step(act)
        o1, r1, *_ = single.step({"firms": act["firms"][0]})
        np.testing.assert_allclose(obs["firms"][0], o1["firms"], rtol=1e-12)
        assert rew[0] == pytest.approx(r1, rel=1e-12)


def test_next_step_autoreset_boundary() -> None:
    vec = gym.make_vec("econbench/InvestmentLQ-Planner-v0", num_envs=3, max_episode_steps=4)
    obs0, _ = vec.reset(seed=1)
    act = np.full((3, 1), 5.0)
    for _ in range(3):
        _, _, term, trunc, _ = vec.step(act)
        assert not trunc.any()
    last, reward, term, trunc, _ = vec.step(act)
    assert trunc.all() and not term.any() and (reward != 0).all()
    np.testing.assert_allclose(last[:, 0], obs0[:, 0] + 4 * 5.0)
    reset_obs, reward, term, trunc, _ = vec.step(act)  # the action is ignored: a fresh episode starts
    assert (reward == 0).all() and not trunc.any() and not term.any()
    assert not np.allclose(reset_obs, last)
    nxt, reward, *_ = vec.step(act)
    np.testing.assert_allclose(nxt, reset_obs + 5.0)


def test_same_step_autoreset_puts_terminal_obs_in_infos() -> None:
    vec = econbench.adapters.vector.EconVectorEnv(
        "econbench/InvestmentLQ-Planner-v0", num_envs=2, max_episode_steps=2, autoreset_mode=AutoresetMode.SAME_STEP
    )
    obs0, _ = vec.reset(seed=0)
    vec.step(np.zeros((2, 1)))
    obs, reward, term, trunc, infos = vec.step(np.ones((2, 1)))
    assert trunc.all() and infos["_final_obs"].all()
    np.testing.assert_allclose(np.stack(infos["final_obs"]), obs0 + 1.0)
    assert not np.allclose(obs, obs0 + 1.0)


def test_disabled_autoreset_needs_a_masked_reset() -> None:
    vec = econbench.adapters.vector.EconVectorEnv(
        "econbench/InvestmentLQ-Planner-v0", num_envs=2, max_episode_steps=1, autoreset_mode="Disabled"
    )
    vec.reset(seed=0)
    vec.step(np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="are done"):
        vec.step(np.zeros((2, 1)))
    obs, _ = vec.reset(options={"reset_mask": np.array([True, True])})
    vec.step(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.array([1, 0])})


def test_record_episode_statistics_on_the_native_vector_env() -> None:
    vec = gym.wrappers.vector.RecordEpisodeStatistics(
        gym.make_vec("econbench/InvestmentLQ-Planner-v0", num_envs=2, max_episode_steps=3)
    )
    vec.reset(seed=0)
    for _ in range(3):
        _, _, _, _, infos = vec.step(np.zeros((2, 1)))
    assert infos["_episode"].all() and (infos["episode"]["l"] == 3).all()


@pytest.mark.parametrize("task_id", MULTI_IDS)
def test_pettingzoo_parallel_api(task_id: str) -> None:
    from pettingzoo.test import parallel_api_test

    env = econbench.parallel_env(task_id.split("/")[-1])
    parallel_api_test(env, num_cycles=400)
    task = make_task(task_id)
    assert env.possible_agents == [a for g in task.groups for a in g.agent_ids()]


@pytest.mark.parametrize("task_id", MULTI_IDS)
def test_pettingzoo_seed_test(task_id: str) -> None:
    from pettingzoo.test import parallel_seed_test

    parallel_seed_test(lambda: econbench.parallel_env(task_id))


@pytest.mark.parametrize("task_id", MULTI_IDS)
def test_pettingzoo_multi_step_seed(task_id: str) -> None:
    """PettingZoo 1.27's parallel_seed_test stops after one step; this one runs whole episodes, sampling each
    agent's action under its mask (the default ``mask_violation="error"``)."""

    def run(seed: int) -> list[float]:
        env = econbench.parallel_env(task_id, max_cycles=60)
        obs, _ = env.reset(seed=seed)
        for agent in env.possible_agents:
            env.action_space(agent).seed(seed)
        trace = []
        while env.agents:
            acts = {a: env.action_space(a).sample() for a in env.agents}
            obs, rew, term, trunc, _ = env.step(acts)
            trace += [float(np.sum(gym.spaces.flatten(env.observation_space(a), o))) for a, o in obs.items()]
            trace += list(rew.values())
        return trace

    first = run(3)
    assert len(first) > 60 and first == run(3) and first != run(4)


def test_pettingzoo_max_cycles_and_state() -> None:
    env = econbench.parallel_env("InvestmentOligopoly-v0", max_cycles=5, n_firms=3)
    env.reset(seed=0)
    steps = 0
    while env.agents:
        env.step({a: np.zeros(1) for a in env.agents})
        steps += 1
    assert steps == 5
    assert env.state().shape == (6,)


@pytest.mark.parametrize("task_id", SINGLE_IDS)
def test_sb3_vecenv_protocol(task_id: str) -> None:
    from econbench.adapters.sb3 import EconSB3VecEnv

    box = isinstance(gym.make(task_id).action_space, gym.spaces.Box)
    venv = EconSB3VecEnv(task_id, num_envs=4, normalize_actions=box, max_episode_steps=3)
    venv.seed(11)
    obs = venv.reset()
    flat = lambda o: gym.spaces.flatten(venv.observation_space, o)  # noqa: E731 - dict observations carry masks
    assert venv.observation_space.contains(_index(obs, 0))
    action = np.zeros((4, *venv.action_space.shape), dtype=np.float32 if box else np.int64)
    for t in range(3):
        obs, rew, done, infos = venv.step(action)
    assert done.all()
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert all(venv.observation_space.contains(info["terminal_observation"]) for info in infos)
    venv.seed(11)
    again = venv.reset()
    venv.seed(11)
    np.testing.assert_array_equal(flat(_index(again, 1)), flat(_index(venv.reset(), 1)))


def _index(obs: object, i: int) -> object:
    return {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]  # type: ignore[union-attr]


def test_sb3_action_normalisation_maps_onto_bounds() -> None:
    from econbench.adapters.sb3 import EconSB3VecEnv

    venv = EconSB3VecEnv("InvestmentStochastic-Planner-v0", num_envs=1, normalize_actions=True)
    np.testing.assert_allclose(venv.to_task_action(np.array([[-1.0], [0.0], [1.0]])), [[0.0], [1.5], [3.0]])


def test_sb3_ppo_learns_a_few_steps_on_the_batched_vecenv() -> None:
    from stable_baselines3 import PPO

    from econbench.adapters.sb3 import EconSB3VecEnv

    venv = EconSB3VecEnv("InvestmentLQ-Planner-v0", num_envs=8, normalize_actions=True)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.learn(512)
    assert model.num_timesteps >= 512


def test_sb3_refuses_multi_agent_tasks() -> None:
    from econbench.adapters.sb3 import EconSB3VecEnv

    with pytest.raises(TypeError, match="multi-agent"):
        EconSB3VecEnv("InvestmentLQ-v0", num_envs=2)


def test_role_view_accepts_supplied_callables() -> None:
    """The other firms follow a user's rule: here they freeze, and firm 0's reward reflects it."""
    calls = []

    def frozen(obs: np.ndarray) -> np.ndarray:
        calls.append(obs.shape)
        return np.zeros(obs.shape[:-1] + (1,))

    env = gym.make("econbench/InvestmentOligopoly-Firm-v0", others=frozen, n_firms=3).unwrapped
    obs, _ = env.reset(seed=0)
    q_others = obs[1]
    obs, *_ = env.step(np.array([0.2]))
    assert calls and calls[0] == (1, 3, 2)
    assert obs[1] == pytest.approx(q_others)  # the others did not move
    named = gym.make("econbench/InvestmentOligopoly-Firm-v0", others="competitive").unwrapped
    named.reset(seed=0)
    with pytest.raises(KeyError, match="lacks a policy for group 'firms'"):
        gym.make("econbench/InvestmentOligopoly-Firm-v0", others={"planner": frozen})


@pytest.mark.parametrize("task_id", [t for t in SINGLE_IDS if make_task(t).role is not None])
def test_parallel_env_of_a_role_view_names_the_game(task_id: str) -> None:
    """A role ID is one agent's view: PettingZoo's all-agents env of it would silently be the whole game."""
    from econbench.adapters.pettingzoo import _game_of as parent_id

    with pytest.raises(ValueError, match="single-agent view") as err:
        econbench.parallel_env(task_id)
    assert f"parallel_env({parent_id(task_id)!r})" in str(err.value) and "\n" not in str(err.value)
    game = econbench.parallel_env(parent_id(task_id))
    assert len(game.possible_agents) > 1


def test_sb3_vecenv_reports_episode_statistics_without_vecmonitor() -> None:
    """SB3 logs ``ep_rew_mean`` from ``infos[i]["episode"]``: the adapter writes it as VecMonitor would."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from econbench.adapters.sb3 import EconSB3VecEnv

    def episodes(monitor: bool) -> list[dict]:
        venv = EconSB3VecEnv("econbench/InvestmentLQ-Planner-v0", num_envs=3, max_episode_steps=4)
        env = VecMonitor(venv) if monitor else venv
        env.seed(7)
        env.reset()
        out = []
        rng = np.random.default_rng(0)
        for _ in range(9):
            *_, infos = env.step(rng.uniform(-10, 10, (3, 1)))
            out += [dict(i["episode"], t=0) for i in infos if "episode" in i]
        return out

    bare, monitored = episodes(False), episodes(True)
    assert len(bare) == 6 and [e["l"] for e in bare] == [4] * 6
    assert bare == monitored  # the same returns and lengths VecMonitor computes
    model = PPO(
        "MlpPolicy",
        EconSB3VecEnv("econbench/InvestmentLQ-Planner-v0", num_envs=2, max_episode_steps=4),
        n_steps=8,
        batch_size=16,
        n_epochs=1,
        seed=0,
    )
    model.learn(16)
    assert len(model.ep_info_buffer) == 4  # what SB3 prints as ep_rew_mean


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_the_discount_is_in_every_entry_points_metadata(task_id: str) -> None:
    """The score discounts at the card's rate; a learner reads it from the env, not a 0.99 default."""
    task = make_task(task_id)
    env = gym.make(task_id, **unmasked(task_id))
    vec = gym.make_vec(task_id, num_envs=2, vectorization_mode="vector_entry_point")
    assert env.unwrapped.metadata["discount"] == vec.metadata["discount"] == task.discount
    assert env.unwrapped.metadata["task_id"] == vec.metadata["task_id"] == task.id
    if task.role is None:
        assert econbench.parallel_env(task_id).metadata["discount"] == task.discount
