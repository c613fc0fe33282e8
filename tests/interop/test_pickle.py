"""Envs survive ``pickle`` and ``copy.deepcopy`` mid-episode: SubprocVecEnv and Ray ship them to other processes.

A copy must continue the original's trajectory: same observations, rewards and
random draws for the steps that follow. Each copy is taken before the original
moves on, and the original steps first, so a copy that shared state with it (a
generator, a buffer) would diverge.
"""

from __future__ import annotations

import copy
import functools
import pickle
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench import policies
from econbench.adapters.sb3 import EconSB3VecEnv
from econbench.backend import get_backend
from econbench.core import BatchedEnv, profile_actions
from econbench.registry import make_task
from tests.conftest import ALL_IDS, MULTI_IDS, SINGLE_IDS, unmasked

BEFORE, AFTER = 3, 5  # steps taken before the copy, and compared after it
COPIES: dict[str, Callable[[Any], Any]] = {
    "pickle": lambda env: pickle.loads(pickle.dumps(env)),
    "deepcopy": copy.deepcopy,
}
# one ID per family (two for EV: its dynamic and static models), for the slower backends and the other processes
FAMILY_IDS = [
    "econbench/CapitalGoods-v0",
    "econbench/CapitalGoodsGame-1v1-v0",
    "econbench/EVCharging-v0",
    "econbench/EVCharging-Steady-v0",
    "econbench/EVCharging-Operator-v0",
    "econbench/InvestmentLQ-v0",
    "econbench/InvestmentOligopoly-v0",
    "econbench/InvestmentStochastic-v0",
    "econbench/RBCTax-v0",
    "econbench/RICECooperation-Club-v0",
]


def assert_same(got: Any, want: Any, where: str = "") -> None:
    """Equal nested dicts, sequences and arrays, exactly (NaN where NaN); wall-clock times are skipped."""
    if isinstance(want, Mapping):
        assert isinstance(got, Mapping) and set(got) == set(want), where
        for k in want:
            if k != "t":  # an episode's wall-clock time (SB3's info["episode"]["t"])
                assert_same(got[k], want[k], f"{where}/{k}")
    elif isinstance(want, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=where)


def _copies(env: Any) -> dict[str, Any]:
    return {how: f(env) for how, f in COPIES.items()}


def _assert_copies_continue(env: Any, step: Any, actions: list[Any], before: int, label: str) -> None:
    """Step ``env`` through ``actions[:before]``, copy it every way, and check each copy steps the rest as it does."""
    for a in actions[:before]:
        step(env, a)
    copies = _copies(env)
    want = [step(env, a) for a in actions[before:]]
    for how, c in copies.items():
        assert_same([step(c, a) for a in actions[before:]], want, f"{label} {how}")


# ---------------------------------------------------------------------------- the core
def _profile_step(env: BatchedEnv, profile: Mapping[str, Any]) -> tuple[Any, ...]:
    """One step of every economy under ``profile``; ended economies are reset (from the env's own stream)."""
    obs = env.observe()
    acts = profile_actions(profile, obs, env.action_masks)
    out = env.step(acts)
    ended = env.backend.to_numpy(env.ended)
    if ended.any():
        env.reset(mask=ended)
    b = env.backend
    host = lambda tree: {k: b.to_numpy(v) for k, v in tree.items()}  # noqa: E731
    return host(out[0]), host(out[1].rewards), b.to_numpy(out[1].welfare), b.to_numpy(out[2]), b.to_numpy(out[3])


def _check_batched(task_id: str, backend: str) -> None:
    task = make_task(task_id)
    b = get_backend(backend)
    name = sorted(task.policies)[0]
    env = BatchedEnv(task, 3, b, seed=5)
    env.reset()
    profile = task.policy(name, b)
    for _ in range(BEFORE):
        _profile_step(env, profile)
    copies = {how: f((env, profile)) for how, f in COPIES.items()}  # the profile too: it may draw (EV's random)
    want = [_profile_step(env, profile) for _ in range(AFTER)]
    draws = b.to_numpy(env._rng.uniform((4,)))
    for how, (c, pol) in copies.items():
        assert c.backend.name == backend and c.xp is b.xp
        assert_same([_profile_step(c, pol) for _ in range(AFTER)], want, f"{task_id} {how}")
        assert_same(c.backend.to_numpy(c._rng.uniform((4,))), draws, f"{task_id} {how}: random draws")


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_batched_env_continues_after_a_round_trip(task_id: str) -> None:
    _check_batched(task_id, "numpy")


@pytest.mark.parametrize("task_id", FAMILY_IDS)
@pytest.mark.parametrize("backend", ["array_api_strict", "torch"])
def test_batched_env_round_trip_on_other_backends(task_id: str, backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    _check_batched(task_id, backend)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict", "torch"])
def test_backend_is_rebuilt_by_name_and_its_generator_continues(backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    b = get_backend(backend, "float32")
    rng = b.rng(11)
    rng.normal((3,))
    for how, f in COPIES.items():
        c = f(b)
        assert (c.name, c.dtype_name, c.device, c.xp, c.dtype) == (b.name, "float32", b.device, b.xp, b.dtype), how
    copies = _copies(rng)
    want = [b.to_numpy(rng.uniform((5,))), b.to_numpy(rng.normal((2, 3)))]
    for how, c in copies.items():
        assert_same([b.to_numpy(c.uniform((5,))), b.to_numpy(c.normal((2, 3)))], want, how)


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_every_named_policy_pickles_and_acts_the_same(task_id: str) -> None:
    """Named policies are what role views hold for the other agents: each, and its factory, pickles."""
    task = make_task(task_id)
    copied = pickle.loads(pickle.dumps(task))
    assert copied.id == task.id and copied.params == task.params and sorted(copied.policies) == sorted(task.policies)
    env = BatchedEnv(task, 2, seed=1)
    obs = env.reset()
    for name in sorted(task.policies):
        profile = task.policy(name)
        copies = [pickle.loads(pickle.dumps(profile)), copy.deepcopy(profile), copied.policy(name)]
        want = [profile_actions(profile, obs, env.action_masks) for _ in range(2)]  # twice: a generator moves on
        for i, c in enumerate(copies[:2]):
            assert_same([profile_actions(c, obs, env.action_masks) for _ in range(2)], want, f"{name} copy {i}")
        assert_same(profile_actions(copies[2], obs, env.action_masks), want[0], f"{name} from the copied task")


# ---------------------------------------------------------------------------- the adapters
def _env_step(env: Any, action: Any) -> tuple[Any, ...]:
    return env.step(action)


def _gym_step(env: gym.Env, action: Any) -> tuple[Any, ...]:
    obs, reward, term, trunc, info = env.step(action)
    again = env.reset()[0] if term or trunc else None  # a reset without a seed draws from the env's np_random
    return obs, reward, term, trunc, info, again


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_gymnasium_env_continues_after_a_round_trip(task_id: str) -> None:
    env = gym.make(task_id, **unmasked(task_id))
    env.reset(seed=3)
    env.action_space.seed(3)
    actions = [env.action_space.sample() for _ in range(BEFORE + AFTER)]
    _assert_copies_continue(env, _gym_step, actions, BEFORE, task_id)


@pytest.mark.parametrize(
    "task_id, others, before",
    [
        # a policy with its own generator; the others' charging reaches driver 0's queues from step 212 (seed 4)
        ("econbench/EVCharging-Driver-v0", "random", 205),
        ("econbench/RBCTax-Government-v0", "shared_ppo_cpu_seed0", BEFORE),  # a shipped network
    ],
)
def test_role_view_with_other_named_policies_continues(task_id: str, others: str, before: int) -> None:
    env = gym.make(task_id, others=others, **unmasked(task_id))
    env.reset(seed=4)
    env.action_space.seed(4)
    actions = [env.action_space.sample() for _ in range(before + 2 * AFTER)]
    _assert_copies_continue(env, _gym_step, actions, before, task_id)


def test_role_view_whose_others_follow_an_onnx_graph_continues(tmp_path: Path) -> None:
    """An onnxruntime session does not pickle: the copy builds its own from the graph's bytes."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["rows", 2])
    y = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["rows", 1])
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 1], [-0.3, -0.1])
    graph = helper.make_graph([helper.make_node("MatMul", ["obs", "w"], ["a"])], "g", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (tmp_path / "firms.onnx").write_bytes(model.SerializeToString())
    game = "econbench/InvestmentOligopoly-v0"
    policies.onnx_policy(tmp_path, game, {"firms": "firms.onnx"}, policies.BoxAction())
    others = policies.group_policies(policies.load(tmp_path), make_task(game))["firms"]
    env = gym.make("econbench/InvestmentOligopoly-Firm-v0", others=others)
    env.reset(seed=4)
    env.action_space.seed(4)
    actions = [env.action_space.sample() for _ in range(BEFORE + AFTER)]
    _assert_copies_continue(env, _gym_step, actions, BEFORE, "onnx")


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_native_vector_env_continues_after_a_round_trip(task_id: str) -> None:
    env = gym.make_vec(task_id, 2, vectorization_mode="vector_entry_point", **unmasked(task_id))
    env.reset(seed=3)
    env.action_space.seed(3)
    actions = [env.action_space.sample() for _ in range(BEFORE + AFTER)]
    _assert_copies_continue(env, _env_step, actions, BEFORE, task_id)


@pytest.mark.parametrize("task_id", SINGLE_IDS)
def test_sb3_vec_env_continues_after_a_round_trip(task_id: str) -> None:
    env = EconSB3VecEnv(task_id, 2, **unmasked(task_id))
    env.seed(3)
    env.reset()
    env.action_space.seed(3)
    actions = [np.stack([env.action_space.sample() for _ in range(2)]) for _ in range(BEFORE + AFTER)]
    _assert_copies_continue(env, _env_step, actions, BEFORE, task_id)


def _pz_step(env: Any, actions: Mapping[str, Any]) -> tuple[Any, ...]:
    out = env.step({a: actions[a] for a in env.agents})
    again = env.reset()[0] if not env.agents else None  # without a seed: the env's own stream goes on
    return (*out, again)


@pytest.mark.parametrize("task_id", MULTI_IDS)
def test_pettingzoo_parallel_env_continues_after_a_round_trip(task_id: str) -> None:
    env = econbench.parallel_env(task_id, **unmasked(task_id))
    env.reset(seed=3)
    spaces = {a: env.action_space(a) for a in env.possible_agents}
    for i, s in enumerate(spaces.values()):
        s.seed(i)
    actions = [{a: s.sample() for a, s in spaces.items()} for _ in range(BEFORE + AFTER)]
    _assert_copies_continue(env, _pz_step, actions, BEFORE, task_id)


# ---------------------------------------------------------------------------- other processes
CHEAP_ID = "econbench/InvestmentStochastic-Planner-v0"  # one planner, random shocks: a copy must carry its generator


def _same_env(env: gym.Env) -> gym.Env:
    return env


def _sb3_rollout(venv: Any, actions: list[np.ndarray]) -> list[Any]:
    out = []
    for a in actions:
        obs, reward, done, infos = venv.step(a)
        out.append((obs, reward.astype(np.float32), done, infos))  # DummyVecEnv keeps float32 rewards, Subproc float64
    venv.close()
    return out


@pytest.mark.slow
def test_sb3_subproc_vec_env_runs_the_same_as_in_process() -> None:
    """make_vec_env with SubprocVecEnv (IDs built in the workers), and envs built here sent there mid-episode."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    space = gym.make(CHEAP_ID).action_space
    space.seed(0)
    actions = [np.stack([space.sample() for _ in range(2)]) for _ in range(AFTER)]
    runs = {}
    for cls in (DummyVecEnv, SubprocVecEnv):
        # "econbench:" imports econbench (which registers the IDs) in a worker that starts afresh (forkserver);
        # SB3 asks for render_mode="rgb_array" first; the env refuses it with the TypeError SB3 retries on
        venv = make_vec_env(f"econbench:{CHEAP_ID}", 2, seed=7, vec_env_cls=cls)
        runs[cls] = [venv.reset(), *_sb3_rollout(venv, actions)]
    assert_same(runs[SubprocVecEnv], runs[DummyVecEnv], "make_vec_env")

    envs = [gym.make(CHEAP_ID) for _ in range(2)]
    for i, e in enumerate(envs):
        e.reset(seed=i)
        e.step(e.action_space.sample())
    local = DummyVecEnv([functools.partial(_same_env, copy.deepcopy(e)) for e in envs])
    remote = SubprocVecEnv([functools.partial(_same_env, e) for e in envs])
    assert_same(_sb3_rollout(remote, actions), _sb3_rollout(local, actions), "mid-episode")


@pytest.mark.slow
def test_ray_task_receives_an_env_mid_episode() -> None:
    ray = pytest.importorskip("ray")
    env = gym.make(CHEAP_ID)
    env.reset(seed=2)
    env.action_space.seed(2)
    actions = [env.action_space.sample() for _ in range(BEFORE + AFTER)]
    for a in actions[:BEFORE]:
        _gym_step(env, a)
    local = copy.deepcopy(env)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import the tests
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(_steps).remote(env, actions[BEFORE:])
        got = ray.get(remote, timeout=300)
    finally:
        ray.shutdown()
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert got[0] == econbench.__file__  # the worker ran this checkout's econbench
    assert_same(got[1], _steps(local, actions[BEFORE:])[1], "ray")


def _steps(env: gym.Env, actions: list[Any]) -> tuple[str, list[Any]]:
    return econbench.__file__, [_gym_step(env, a) for a in actions]
