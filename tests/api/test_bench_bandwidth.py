"""ci/bandwidth.py, the throughput benchmark's memory bound: bytes a step writes, counted once per distinct
element, and a copy rate that is a rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import ci_module

ROOT = Path(__file__).resolve().parents[2]
bandwidth = ci_module("bandwidth")


def test_a_broadcast_block_counts_once() -> None:
    block = np.zeros((7, 1, 5))
    assert bandwidth.distinct_bytes(block) == 7 * 5 * 8
    assert bandwidth.distinct_bytes(np.broadcast_to(block, (7, 100, 5))) == 7 * 5 * 8  # shared by 100 agents
    assert bandwidth.distinct_bytes(np.ones((7, 100, 5), dtype=np.float32)) == 7 * 100 * 5 * 4


def test_step_bytes_of_the_lq_economy() -> None:
    """InvestmentLQ-v0 (2 firms): per economy the state, each firm's observation and reward, the welfare and two
    episode flags; nothing else (no masks)."""
    from econbench.core import BatchedEnv
    from econbench.registry import make_task

    task = make_task("econbench/InvestmentLQ-v0")
    env = BatchedEnv(task, 4, seed=0)
    obs = env.reset()
    state = sum(np.asarray(getattr(env.state, f)).nbytes for f in env.state.__dataclass_fields__) / 4
    (g,) = task.groups
    expected = state + g.n_agents * (int(np.prod(g.observation.shape)) + 1) * 8 + 8 + 2
    assert obs[g.name].dtype == np.float64
    assert bandwidth.step_bytes("econbench/InvestmentLQ-v0", n_envs=4) == expected


def test_the_copy_rate_is_bytes_per_second() -> None:
    rate = bandwidth.copy_bytes_per_sec(mib=8, rounds=3)
    assert 1e8 < rate < 1e13
