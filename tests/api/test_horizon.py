"""One episode length through every entry point: the task's ``horizon`` sets it, ``max_episode_steps`` caps it.

Each case measures the first episode's length by stepping until the entry point reports its end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench.adapters.sb3 import EconSB3VecEnv
from econbench.core import BatchedEnv
from econbench.registry import make_task

PLANNER = "econbench/InvestmentLQ-Planner-v0"  # single-agent: gym.make, make_vec, SB3
GAME = "econbench/InvestmentLQ-v0"  # the whole game: PettingZoo, the batched core
CARD = make_task(PLANNER).horizon
assert CARD == make_task(GAME).horizon == 270


def gym_make(**kw: Any) -> int:
    env = gym.make(PLANNER, **kw)
    env.reset(seed=0)
    env.action_space.seed(0)
    for t in range(1, 2000):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            return t
    raise AssertionError("no episode end")


def make_vec(mode: str) -> Callable[..., int]:
    def run(**kw: Any) -> int:
        vec = gym.make_vec(PLANNER, num_envs=2, vectorization_mode=mode, **kw)
        try:
            vec.reset(seed=0)
            vec.action_space.seed(0)
            for t in range(1, 2000):
                _, _, term, trunc, _ = vec.step(vec.action_space.sample())
                if (term | trunc).any():
                    assert (term | trunc).all()
                    return t
        finally:
            vec.close()
        raise AssertionError("no episode end")

    return run


def sb3(**kw: Any) -> int:
    venv = EconSB3VecEnv(PLANNER, num_envs=2, **kw)
    venv.seed(0)
    venv.reset()
    for t in range(1, 2000):
        _, _, done, infos = venv.step(np.zeros((2, 1)))
        if done.any():
            assert done.all() and infos[0]["episode"]["l"] == t
            return t
    raise AssertionError("no episode end")


def parallel(**kw: Any) -> int:
    if "max_episode_steps" in kw:  # PettingZoo's name for the cap
        kw["max_cycles"] = kw.pop("max_episode_steps")
    env = econbench.parallel_env(GAME, **kw)
    env.reset(seed=0)
    t = 0
    while env.agents:
        env.step({a: np.zeros(1) for a in env.agents})
        t += 1
    assert env.metadata["horizon"] == t
    return t


def batched(**kw: Any) -> int:
    env = econbench.make_batched(GAME, n_envs=2, seed=0, **kw)
    env.reset()
    for t in range(1, 2000):
        _, _, term, trunc = env.step({"firms": np.zeros((2, 10, 1))})
        if (term | trunc).any():
            return t
    raise AssertionError("no episode end")


ENTRY_POINTS: dict[str, Callable[..., int]] = {
    "gym.make": gym_make,
    "make_vec:vector_entry_point": make_vec("vector_entry_point"),
    "make_vec:sync": make_vec("sync"),
    "make_vec:async": make_vec("async"),
    "EconSB3VecEnv": sb3,
    "parallel_env": parallel,
    "make_batched": batched,
}
CASES: list[tuple[dict[str, int], int]] = [
    ({}, CARD),
    ({"horizon": 12}, 12),
    ({"horizon": 300}, 300),  # longer than the card's: no registered TimeLimit cuts it at 270
    ({"max_episode_steps": 7}, 7),
    ({"max_episode_steps": 1000}, CARD),  # a cap never lengthens an episode
    ({"horizon": 12, "max_episode_steps": 30}, 12),
    ({"horizon": 12, "max_episode_steps": 5}, 5),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c[0].items()) or "default")
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_runs_the_same_episode_length(entry: str, case: tuple[dict[str, int], int]) -> None:
    kw, expected = case
    if entry == "make_batched" and "max_episode_steps" in kw:
        pytest.skip("make_batched takes the task's parameters only; BatchedEnv(horizon=) is its cap")
    assert ENTRY_POINTS[entry](**kw) == expected


def test_metadata_reports_the_length() -> None:
    assert gym.make(PLANNER, horizon=40).unwrapped.metadata["horizon"] == 40
    vec = gym.make_vec(PLANNER, num_envs=2, horizon=40, max_episode_steps=9)
    assert vec.metadata["horizon"] == 9
    assert econbench.parallel_env(GAME, horizon=40, max_cycles=90).metadata["horizon"] == 40


def test_a_model_that_fixes_its_length_refuses_another_in_one_line() -> None:
    """RICE's episode runs to its last year: ``horizon`` may only restate it, through every entry point."""
    rice, region = "econbench/RICECooperation-v0", "econbench/RICECooperation-Region-v0"
    length = make_task(rice).horizon
    assert make_task(rice, horizon=length).horizon == length
    attempts: list[Callable[[], Any]] = [
        lambda: make_task(rice, horizon=length + 5),
        lambda: gym.make(region, horizon=length + 5),
        lambda: gym.make_vec(rice, num_envs=2, horizon=length + 5),
        lambda: EconSB3VecEnv(region, num_envs=2, horizon=length + 5),
        lambda: econbench.parallel_env(rice, horizon=length - 1),
        lambda: econbench.make_batched(rice, horizon=length - 1),
    ]
    for attempt in attempts:
        with pytest.raises(ValueError, match=f"fixes the episode length at {length} steps") as err:
            attempt()
        assert "\n" not in str(err.value)
    env = gym.make(region, max_episode_steps=5)  # a cap still ends it earlier
    env.reset(seed=0)
    ends = [env.step(env.action_space.sample())[3] for _ in range(5)]
    assert ends == [False] * 4 + [True]


def test_a_day_model_runs_the_horizon_it_is_given() -> None:
    """EV's operator sets tolls hour by hour; its card's day of 24 is a default, and the model ends (terminates)
    whatever day length it is given."""
    env = gym.make("econbench/EVCharging-Operator-v0", horizon=48)
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[2:4] for _ in range(48)]
    assert flags[-1] == (True, False) and all(f == (False, False) for f in flags[:-1])


def test_bad_caps_and_lengths_get_one_line_errors() -> None:
    with pytest.raises(ValueError, match="max_episode_steps must be a positive integer"):
        gym.make_vec(PLANNER, num_envs=2, max_episode_steps=0)
    with pytest.raises(ValueError, match="max_episode_steps must be a positive integer"):
        EconSB3VecEnv(PLANNER, num_envs=2, max_episode_steps=2.5)
    with pytest.raises(ValueError, match="exceeds the task's episode length 270"):
        BatchedEnv(make_task(GAME), 2, horizon=300)
    assert gym.make_vec(PLANNER, num_envs=2, max_episode_steps=-1).metadata["horizon"] == CARD  # gym.make's "none"
