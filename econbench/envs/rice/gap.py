"""A lower bound on each region's best-response gain: constant savings or mitigation deviations.

Climate cooperation fails through free riding: a region that abates less than
agreed keeps its output and shares the damage. The bound measures exactly
that incentive. Every region in turn replaces its mitigation (within its
agreed minimum, so the deviation is a feasible plan) or its savings with each
constant level, keeping every other head (trade, tariffs, negotiation moves)
as the profile plays it, against the other regions' actual policies. One head
at a time keeps the search at 20 deviations per region, affordable for learned
profiles, whose networks act for every region of every deviation. The dynamics
are deterministic, so one episode per deviation decides; deviations run as
extra environments of one batch, ``CHUNK_ENVS`` at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.backend import get_backend
from econbench.core import BatchedEnv, GroupPolicy, Task, profile_actions

CHUNK_ENVS = 256


def _returns(
    task: Task, profile: Mapping[str, GroupPolicy], deviations: np.ndarray, seed: int, backend: Any
) -> np.ndarray:
    """Episode returns ``(len(deviations), N)``; row k: region ``deviations[k, 0]`` plays level
    ``deviations[k, 2]`` on head ``deviations[k, 1]`` (0 savings, 1 mitigation). Region -1: the profile itself.
    """
    b = get_backend(backend)
    xp = b.xp
    n = len(deviations)
    env = BatchedEnv(task, n, b, seed=seed)
    obs = env.reset(seed=seed)
    N = task.params.n_regions
    who = deviations[:, 0]
    rows = np.flatnonzero(who >= 0)
    total = np.zeros((n, N))
    for _ in range(env.horizon):
        acts = profile_actions(profile, obs, env.action_masks)
        a = np.array(b.to_numpy(acts["regions"]), dtype=np.int64, copy=True)
        if len(rows):
            floor = b.to_numpy(env.dynamics.mitigation_floor(env.state))[rows, who[rows]].astype(np.int64)
            head, level = deviations[rows, 1], deviations[rows, 2]
            a[rows, who[rows], head] = np.where(head == 1, np.maximum(level, floor), level)
        obs, out, term, trunc = env.step({"regions": b.asarray(a, dtype=xp.int64)})
        total += b.to_numpy(out.rewards["regions"])
        if bool(np.all(b.to_numpy(term | trunc))):
            break
    return total


def deviation_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[Any]:
    """Each region's best constant savings or mitigation deviation against the profile: a lower bound."""
    from econbench.metrics.gaps import GapResult

    p = task.params
    N, levels = p.n_regions, p.rate_nvec
    grid = np.array([(i, h, k) for i in range(N) for h in (0, 1) for k in range(levels)], dtype=np.int64)
    values, gains = [], []
    for seed in seeds:
        base = _returns(task, profile, np.array([[-1, 0, 0]] * episodes), seed, backend)  # (episodes, N)
        best = np.full(N, -np.inf)
        chunks = range(0, len(grid), CHUNK_ENVS)
        for start in chunks:
            chunk = grid[start : start + CHUNK_ENVS]
            ret = _returns(task, profile, chunk, seed, backend)
            np.maximum.at(best, chunk[:, 0], ret[np.arange(len(chunk)), chunk[:, 0]])
            if progress:
                print(f"  {task.name} deviations {start + len(chunk)}/{len(grid)}", flush=True)
        values.append(base)
        gains.append(np.maximum(best[None, :] - base, 0.0))  # the profile's own play is always available
    method = (
        "lower bound: best constant-level deviation of one region at a time in savings or mitigation, "
        "other heads as the profile's, mitigation kept at or above the agreed minimum"
    )
    return [GapResult(task.id, policy, "regions", method, np.concatenate(gains), np.concatenate(values))]
