"""econbench: benchmark tasks for learning solutions of economic games.

``import econbench`` registers every task ID with Gymnasium (Gymnasium 1.x has
no plugin auto-registration), so ``gym.make("econbench/<Task>-v0")`` and
``gym.make_vec(...)`` work; ``gym.make("econbench:econbench/<Task>-v0")``
imports the package on the fly.
"""

from __future__ import annotations

from typing import Any

from econbench.core import ActionError, BatchedEnv, Task
from econbench.registry import make_task, register_all, task_ids

__version__ = "0.1.0"
__all__ = ["ActionError", "BatchedEnv", "Task", "make_task", "make_batched", "parallel_env", "task_ids", "__version__"]

register_all()


def make_batched(
    task_id: str,
    n_envs: int = 1,
    backend: str = "numpy",
    dtype: str = "float64",
    device: Any = None,
    seed: int | None = None,
    mask_violation: str = "error",
    obs_blocks: bool = False,
    **params: Any,
) -> BatchedEnv:
    """The batched core of a task, for code that steps arrays directly (custom trainers, GPUs); ``obs_blocks``:
    observations as :class:`~econbench.obs_blocks.ObsBlocks` (see :class:`~econbench.core.BatchedEnv`)."""
    task = make_task(task_id, **params)
    return BatchedEnv(
        task, n_envs, backend, dtype, device, seed=seed, mask_violation=mask_violation, obs_blocks=obs_blocks
    )


def parallel_env(task_id: str, **kwargs: Any) -> Any:
    """A PettingZoo ``ParallelEnv`` of a task, one name per agent (needs the ``marl`` extra)."""
    from econbench.adapters.pettingzoo import EconParallelEnv

    return EconParallelEnv(task_id, **kwargs)
