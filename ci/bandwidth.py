"""How far a simulator step is from the machine's memory limit: the copy bandwidth measured in the same run, and
the bytes one step must write (the new state, the observations, rewards, flags and action masks).

A step cannot take less than its bytes over the copy bandwidth (each byte copied is read once and written once,
as a step reads the old state and writes the new): ``bound_env_steps_per_sec`` is that limit, and a benchmark's
rate over it is the fraction of the machine a simulator uses. Broadcast views (a block every agent shares,
written once) count once.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

COPY_MIB = 256  # far beyond the caches: the rate of main memory, which large batches run at


def copy_bytes_per_sec(mib: int = COPY_MIB, rounds: int = 5) -> float:
    """Median bytes copied per second by ``np.copyto`` between two ``mib``-MiB float64 arrays (pages touched first)."""
    src = np.ones(mib * 2**20 // 8)
    dst = np.zeros_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return src.nbytes / float(np.median(times))


def distinct_bytes(a: Any) -> int:
    """Bytes of the distinct elements of an array: a broadcast view (stride 0) counts its base block once."""
    a = np.asarray(a)
    return a.itemsize * int(np.prod([n for n, s in zip(a.shape, a.strides) if s != 0], dtype=np.int64))


def _arrays(x: Any) -> list[Any]:
    from econbench.blocks import leaves

    return [a for a in leaves(x) if hasattr(a, "shape")]


def step_bytes(task_id: str, n_envs: int = 64, seed: int = 0, obs_blocks: bool = False) -> float:
    """Bytes one env-step writes in ``BatchedEnv`` (NumPy float64, as the vector envs run): the state after the
    step, the observations (``obs_blocks``: as blocks, the shared ones once per economy), every group's rewards,
    the welfare, the episode flags and the action masks; over ``n_envs`` economies, per economy. Actions are drawn
    uniformly inside the action spaces."""
    from econbench.core import BatchedEnv
    from econbench.registry import make_task

    task = make_task(task_id)
    env = BatchedEnv(task, n_envs, seed=seed, mask_violation="execute", obs_blocks=obs_blocks)
    env.reset()
    obs, out, term, trunc = env.step(uniform_actions(task, n_envs, np.random.default_rng(seed)), past_end=True)
    written = _arrays(env.state) + _arrays(obs) + _arrays(out.rewards) + _arrays(out.welfare) + [term, trunc]
    if any(g.masked for g in task.groups):
        written += _arrays(env.action_masks())
    return sum(distinct_bytes(a) for a in written) / n_envs


def uniform_actions(task: Any, n_envs: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Actions drawn uniformly inside every group's action space (discrete heads, or the Box bounds)."""
    from econbench.core import DiscreteSpec

    actions = {}
    for g in task.groups:
        if isinstance(g.action, DiscreteSpec):
            nvec = np.asarray(g.action.nvec)
            actions[g.name] = rng.integers(0, nvec, (n_envs, g.n_agents, nvec.size))
        else:
            low, high = (np.broadcast_to(b, g.action.shape) for b in g.action.bounds())
            actions[g.name] = rng.uniform(low, high, (n_envs, g.n_agents, *g.action.shape))
    return actions
