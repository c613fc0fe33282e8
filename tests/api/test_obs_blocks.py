"""Observations as column blocks (``BatchedEnv(obs_blocks=True)``, :mod:`econbench.obs_blocks`): on every task the
blocks assemble to exactly the flat observations, and the tasks whose agents share columns store them once."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.core import BatchedEnv
from econbench.obs_blocks import ObsBlocks
from econbench.registry import make_task
from tests.conftest import ALL_IDS, ci_module

bandwidth = ci_module("bandwidth")

SHARING = ["econbench/RICECooperation-v0", "econbench/RICECooperation-Bilateral-v0", "econbench/RBCTax-v0"]


def _agree(flat: dict, blocks: dict) -> None:
    assert set(blocks) == set(flat)
    for k, v in blocks.items():
        assert isinstance(v, ObsBlocks)
        assert v.shape == flat[k].shape and v.dtype == flat[k].dtype
        np.testing.assert_array_equal(v.assemble(np), flat[k])


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_blocks_assemble_to_the_flat_observations(task_id: str) -> None:
    """Four economies, reset and four steps, the same seed and actions: identical arrays, bit for bit."""
    task = make_task(task_id)
    flat, blocked = (BatchedEnv(task, 4, seed=5, mask_violation="execute", obs_blocks=b) for b in (False, True))
    _agree(flat.reset(), blocked.reset())
    rng = np.random.default_rng(1)
    for _ in range(min(4, flat.horizon)):
        acts = bandwidth.uniform_actions(task, 4, rng)
        _agree(flat.step(acts, past_end=True)[0], blocked.step(acts, past_end=True)[0])


@pytest.mark.parametrize("task_id", SHARING)
def test_shared_columns_are_stored_once(task_id: str) -> None:
    """The public block is written once per economy: the blocks hold a fraction of the flat array's bytes."""
    env = BatchedEnv(make_task(task_id), 8, seed=0, obs_blocks=True)
    obs = env.reset()
    multi = {k: v for k, v in obs.items() if v.n_agents > 1}
    assert any(any(v.shared) for v in multi.values())
    stored = sum(bandwidth.distinct_bytes(p) for v in multi.values() for p in v.parts)
    flat = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in multi.values())
    assert stored < 0.5 * flat, (stored, flat)


def test_make_batched_hands_over_blocks() -> None:
    import econbench

    obs = econbench.make_batched("econbench/RICECooperation-v0", 2, seed=0, obs_blocks=True).reset()
    flat = econbench.make_batched("econbench/RICECooperation-v0", 2, seed=0).reset()
    np.testing.assert_array_equal(obs["regions"].assemble(np), flat["regions"])


def test_blocks_join_across_economy_blocks() -> None:
    """Stepped in blocks of economies, the blocks are joined as the flat arrays are."""
    task = make_task("econbench/RICECooperation-v0")
    whole, split = (BatchedEnv(task, 5, seed=2, obs_blocks=True, block_envs=b) for b in (5, 2))
    a, b = whole.reset(), split.reset()
    np.testing.assert_array_equal(b["regions"].assemble(np), a["regions"].assemble(np))
    assert b["regions"].shared == a["regions"].shared


@pytest.mark.parametrize(
    ("parts", "n_agents"),
    [((), 3), ((np.zeros((2, 3)),), 3), ((np.zeros((2, 3, 1)), np.zeros((4, 3, 1))), 3), ((np.zeros((2, 2, 1)),), 3)],
)
def test_malformed_blocks_are_refused(parts: tuple, n_agents: int) -> None:
    with pytest.raises(ValueError, match="part"):
        ObsBlocks(parts, n_agents)
