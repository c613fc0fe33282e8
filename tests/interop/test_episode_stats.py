"""``info["discounted_episode"]`` is the score: the mean of its ``"r"`` over a seed's episodes equals what
``econbench.metrics.evaluate`` scores on that seed, in every adapter and autoreset mode, and it stays out of the
way of Gymnasium's and SB3's own episode statistics (undiscounted, a different number)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import RecordEpisodeStatistics
from gymnasium.wrappers.vector import RecordEpisodeStatistics as VectorRecordEpisodeStatistics

import econbench  # noqa: F401 - registers the IDs
from econbench.adapters.episode import KEY
from econbench.adapters.vector import EconVectorEnv
from econbench.adapters.views import RoleView
from econbench.core import profile_actions
from econbench.metrics.evaluate import evaluate, resolve_policy

# a planner, a role (firm 0 among exact rivals), whole games scored by a group's mean and by the welfare
CASES = [
    ("econbench/InvestmentLQ-Planner-v0", "reference"),
    ("econbench/InvestmentOligopoly-Firm-v0", "freeze"),
    ("econbench/InvestmentOligopoly-v0", "freeze"),
    ("econbench/InvestmentLQ-v0", "reference"),
]
SEED, N = 11, 3


def named_actions(view: Any, profile: dict[str, Any]) -> Any:
    """What the named profile plays in the view's economies now (the learner's part in a role view)."""
    b = view.batched
    acts = {k: b.backend.to_numpy(v) for k, v in profile_actions(profile, b.observe(), b.action_masks).items()}
    if isinstance(view, RoleView):
        return acts[view.role.group][:, view.role.agent]
    return acts


def scores(task_id: str, policy: str, episodes: int) -> np.ndarray:
    return evaluate(task_id, policy, seeds=[SEED], episodes=episodes).scores[0]


@pytest.mark.parametrize("mode", list(AutoresetMode))
@pytest.mark.parametrize(("task_id", "policy"), CASES, ids=[c[0].split("/")[1] for c in CASES])
def test_vector_env_reports_the_score(task_id: str, policy: str, mode: AutoresetMode) -> None:
    env = VectorRecordEpisodeStatistics(
        gym.make_vec(task_id, num_envs=N, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    )
    base: EconVectorEnv = env.unwrapped  # type: ignore[assignment]
    _, profile = resolve_policy(base.task, policy)
    env.reset(seed=SEED)
    returns = np.full(N, np.nan)
    for _ in range(base.task.horizon):
        _, _, _, _, infos = env.step(named_actions(base.view, profile))
        if KEY in infos:
            done = infos[f"_{KEY}"]
            assert np.array_equal(done, infos["_episode"])  # Gymnasium's undiscounted statistics, same episodes
            assert np.all(infos[KEY]["l"][done] == infos["episode"]["l"][done])
            returns[done] = infos[KEY]["r"][done]
    want = scores(task_id, policy, N)
    np.testing.assert_allclose(returns, want, rtol=1e-12)
    assert returns.mean() == pytest.approx(want.mean(), rel=1e-12)
    if base.task.discount < 1.0:  # the undiscounted return is another number
        assert not np.allclose(env.return_queue, want, rtol=1e-3)


@pytest.mark.parametrize(("task_id", "policy"), CASES[:3], ids=[c[0].split("/")[1] for c in CASES[:3]])
def test_single_env_reports_the_score(task_id: str, policy: str) -> None:
    env = RecordEpisodeStatistics(gym.make(task_id))  # asserts that "episode" is not in the env's info
    base = env.unwrapped
    _, profile = resolve_policy(base.task, policy)

    def one(i: int) -> dict[str, Any]:
        env.reset(seed=SEED)
        for t in range(base.task.horizon):
            act = named_actions(base.view, profile)
            act = act[0] if isinstance(base.view, RoleView) else {k: v[0] for k, v in act.items()}
            _, _, term, trunc, info = env.step(act)
            assert (KEY in info) == (term or trunc)
            if term or trunc:
                assert info[KEY]["l"] == t + 1 == info["episode"]["l"]
                return info[KEY]
        raise AssertionError("the episode did not end at the horizon")

    got = one(0)
    assert got["r"] == pytest.approx(scores(task_id, policy, 1)[0], rel=1e-12)
    assert set(got) == {"r", "l"} and one(1) == got  # a restarted episode starts from zero again


@pytest.mark.parametrize(("task_id", "policy"), CASES[:2], ids=[c[0].split("/")[1] for c in CASES[:2]])
def test_sb3_vec_env_reports_the_score_beside_the_monitor_return(task_id: str, policy: str) -> None:
    pytest.importorskip("stable_baselines3")
    from econbench.adapters.sb3 import EconSB3VecEnv

    env = EconSB3VecEnv(task_id, num_envs=N)
    _, profile = resolve_policy(env.task, policy)
    env.seed(SEED)
    env.reset()
    got: dict[int, dict[str, Any]] = {}
    for _ in range(env.task.horizon):
        _, _, dones, infos = env.step(named_actions(env.view, profile))
        for i in np.flatnonzero(dones):
            assert infos[i][KEY]["l"] == infos[i]["episode"]["l"] and infos[i][KEY]["t"] == infos[i]["episode"]["t"]
            got[int(i)] = infos[i]
    assert sorted(got) == list(range(N))
    want = scores(task_id, policy, N)
    np.testing.assert_allclose([got[i][KEY]["r"] for i in range(N)], want, rtol=1e-12)
    undiscounted = np.array([got[i]["episode"]["r"] for i in range(N)])
    assert not np.allclose(undiscounted, want, rtol=1e-3)


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_the_next_episode_starts_afresh_in_every_autoreset_mode(mode: AutoresetMode) -> None:
    """Second episodes: a next-step reset is no step of the episode (no reward, no discounting, no length)."""
    env = EconVectorEnv("econbench/InvestmentStochastic-Planner-v0", num_envs=N, autoreset_mode=mode)
    _, profile = resolve_policy(env.task, "reference")
    horizon, discount = env.task.horizon, env.task.discount
    env.reset(seed=SEED)
    ends: list[dict[str, np.ndarray]] = []
    sums, factor, reset_step = np.zeros(N), 1.0, False
    while len(ends) < 2:
        _, reward, term, trunc, infos = env.step(named_actions(env.view, profile))
        if not reset_step:
            sums, factor = sums + factor * reward, factor * discount
        reset_step = False
        if KEY in infos:
            assert infos[f"_{KEY}"].all() and (term | trunc).all()
            ends.append({**infos[KEY], "want": sums})
            sums, factor = np.zeros(N), 1.0
            if mode == AutoresetMode.DISABLED:
                env.reset(options={"reset_mask": np.ones(N, dtype=bool)})
            reset_step = mode == AutoresetMode.NEXT_STEP
    for end in ends:
        assert np.all(end["l"] == horizon)
        np.testing.assert_allclose(end["r"], end["want"], rtol=1e-12)
    assert not np.allclose(ends[0]["r"], ends[1]["r"])  # new initial states and shocks
