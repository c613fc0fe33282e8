"""Common random numbers (``BatchedEnv(shared_draws=k)``): each group of k consecutive economies draws the same
initial states and shocks on every task, so members that act alike stay identical and groups differ."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from econbench.backend import SharedDrawsRNG, get_backend
from econbench.core import BatchedEnv
from econbench.registry import make_task
from tests.conftest import ALL_IDS


def _state_arrays(env: BatchedEnv) -> list[np.ndarray]:
    return [env.backend.to_numpy(getattr(env.state, f.name)) for f in dataclasses.fields(env.state)]


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_group_members_share_every_draw(task_id: str) -> None:
    """Given the same actions (the first member's, under the card's exact or reference policy), the two members of
    each group stay identical (to rounding) step after step: every draw of the dynamics is per economy. Some state
    differs across groups wherever the task draws anything."""
    task = make_task(task_id)
    env = BatchedEnv(task, 6, seed=1, shared_draws=2, mask_violation="execute")
    obs = env.reset()
    name = "exact" if "exact" in task.policies else task.card["protocol"]["reference_policy"]
    policy = task.policy(name, env.backend)
    plain = BatchedEnv(task, 6, seed=1)
    plain.reset()
    drawn = False
    for _ in range(min(5, env.horizon)):
        acts = {g: np.repeat(np.asarray(f(obs[g]))[::2], 2, axis=0) for g, f in policy.items()}
        obs, out, _, _ = env.step(acts)
        for a in _state_arrays(env):
            a = a.reshape(3, 2, -1)
            np.testing.assert_allclose(a[:, 0], a[:, 1], rtol=1e-12, atol=1e-12)  # BLAS may sum rows apart
            drawn |= not np.array_equal(a[0, 0], a[1, 0])
        for r in out.rewards.values():
            r = env.backend.to_numpy(r).reshape(3, 2, -1)
            np.testing.assert_allclose(r[:, 0], r[:, 1], rtol=1e-12, atol=1e-12)
    random = any(not np.array_equal(a[0], a[1]) for a in _state_arrays(plain))  # the task draws initial states
    assert drawn or not random


def test_shared_draws_repeat_one_stream_per_group() -> None:
    for name in ("numpy", "torch"):
        pytest.importorskip(name)
        b = get_backend(name)
        u = b.to_numpy(SharedDrawsRNG(b.rng(0), 6, 3).uniform((6, 2), 1.0, 2.0))
        assert (u[:3] == u[0]).all() and (u[3:] == u[3]).all() and not np.array_equal(u[0], u[3])
        assert ((u >= 1.0) & (u < 2.0)).all()
        n = b.to_numpy(SharedDrawsRNG(b.rng(0), 4, 2).normal((4,)))
        assert n[0] == n[1] and n[2] == n[3] and n[0] != n[2]
    # draws not over the economies pass through
    assert get_backend("numpy").to_numpy(SharedDrawsRNG(get_backend("numpy").rng(0), 4, 2).uniform((3,))).shape == (3,)


@pytest.mark.parametrize("k", [0, 4, -1, 2.0])
def test_a_group_size_that_does_not_divide_the_economies_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="shared_draws must be a positive divisor of n_envs=6"):
        BatchedEnv(make_task("econbench/CapitalGoods-Planner-4-v0"), 6, shared_draws=k)  # type: ignore[arg-type]


def test_one_per_group_is_the_plain_stream() -> None:
    task = make_task("econbench/CapitalGoods-Planner-4-v0")
    a, b = BatchedEnv(task, 4, seed=3), BatchedEnv(task, 4, seed=3, shared_draws=1)
    np.testing.assert_array_equal(a.reset()["planner"], b.reset()["planner"])
