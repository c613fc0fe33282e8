"""Large batches in blocks of economies (``BatchedEnv(block_envs=...)``, :mod:`econbench.blocks`): the same
trajectories as the whole batch on every task, and blocks only where a task's dynamics ask for them."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.core import BatchedEnv
from econbench.registry import make_task
from tests.conftest import ALL_IDS, ci_module

bandwidth = ci_module("bandwidth")


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_blocks_of_two_step_as_the_whole_batch(task_id: str) -> None:
    """Five economies (a short last block), four steps: observations, rewards, welfare, flags and the state agree."""
    task = make_task(task_id)
    whole, blocked = (BatchedEnv(task, 5, seed=3, mask_violation="execute", block_envs=b) for b in (5, 2))
    assert blocked.block_envs == 2 and whole.block_envs == 5
    close = dict(rtol=1e-10, atol=1e-10, equal_nan=True)
    first, again = whole.reset(), blocked.reset()
    for k in first:
        np.testing.assert_allclose(again[k], first[k], **close)
    rng = np.random.default_rng(0)
    for _ in range(min(4, whole.horizon)):
        acts = bandwidth.uniform_actions(task, 5, rng)
        (o1, r1, te1, tr1), (o2, r2, te2, tr2) = whole.step(acts, past_end=True), blocked.step(acts, past_end=True)
        for k in o1:
            np.testing.assert_allclose(o2[k], o1[k], **close)
        for k in r1.rewards:
            np.testing.assert_allclose(r2.rewards[k], r1.rewards[k], **close)
        np.testing.assert_allclose(r2.welfare, r1.welfare, **close)
        np.testing.assert_array_equal(te2, te1)
        np.testing.assert_array_equal(tr2, tr1)
        for f in whole.state.__dataclass_fields__:
            np.testing.assert_allclose(getattr(blocked.state, f), getattr(whole.state, f), **close)


def test_only_dynamics_that_ask_are_blocked_by_default() -> None:
    many = 4096
    market = BatchedEnv(make_task("econbench/CapitalGoods-Market-v0"), many)
    assert 1 < market.block_envs < many  # the capital-goods dynamics set block_bytes
    assert BatchedEnv(make_task("econbench/CapitalGoods-Market-v0"), 8).block_envs == 8  # a small batch: one block
    assert BatchedEnv(make_task("econbench/InvestmentLQ-v0"), many).block_envs == many
    assert BatchedEnv(make_task("econbench/RBCTax-v0"), 64).block_envs == 64


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_a_bad_block_size_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="block_envs must be a positive integer"):
        BatchedEnv(make_task("econbench/InvestmentLQ-v0"), 4, block_envs=bad)  # type: ignore[arg-type]
