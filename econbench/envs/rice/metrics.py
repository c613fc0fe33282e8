"""The competition's metrics (scripts/evaluate_submission.py of RICE-N, docs/models/rice.md §7).

Sums run over every stored timestep as upstream's do, so with a negotiation
protocol the capital, production, investment, abatement-cost and consumption
sums count the values carried through negotiation steps too (docs/models/rice.md §9.10);
``activity_only=True`` counts climate-economy steps only. Gross output is
summed over climate-economy steps only, as upstream fixed in PR #24.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.core import BatchedEnv, GroupPolicy, Task, profile_actions

# climate_economic_min_max_indices.txt: the extremes of two fixed policies (docs/models/rice.md §7)
CLIMATE_INDEX_MIN, CLIMATE_INDEX_MAX = 7.006738662719727, 1.2506777048110962
ECONOMIC_INDEX_MIN, ECONOMIC_INDEX_MAX = 606.57275390625, 9673.5322265625
SUMMED = {
    "capital_sum": "capital",
    "production_sum": "production",
    "investment_sum": "investment",
    "abatement_cost_sum": "abatement_cost",
    "consumption_sum": "consumption",
}


def climate_index(temperature_rise: np.ndarray | float) -> np.ndarray | float:
    """1 at the coolest extreme (saving nothing, abating everything), 0 at the hottest."""
    return (temperature_rise - CLIMATE_INDEX_MIN) / (CLIMATE_INDEX_MAX - CLIMATE_INDEX_MIN)


def economic_index(gross_output_sum: np.ndarray | float) -> np.ndarray | float:
    return (gross_output_sum - ECONOMIC_INDEX_MIN) / (ECONOMIC_INDEX_MAX - ECONOMIC_INDEX_MIN)


def competition_metrics(
    task: Task,
    policy: str | Mapping[str, GroupPolicy],
    n_envs: int = 1,
    seed: int = 0,
    activity_only: bool = False,
    dtype: str = "float64",
    backend: Backend | str = "numpy",
) -> dict[str, np.ndarray]:
    """One episode per env of a profile: each metric as an ``(n_envs,)`` array, plus per-region welfare.

    ``task`` is a built task (``econbench.make_task(id, **params)``); ``policy``
    a named policy of it or one callable per group (observations in, actions
    out, on ``backend``). ``region_welfare`` is each region's undiscounted sum
    of utilities, ``(n_envs, N)``.
    """
    profile = task.policy(policy, backend) if isinstance(policy, str) else dict(policy)
    env = BatchedEnv(task, n_envs, backend, dtype=dtype, seed=seed)
    host = env.backend.to_numpy
    obs = env.reset(seed=seed)
    s0 = env.state
    t_at0 = host(s0.temperature[:, 0]).astype(np.float64)
    sums = {k: host(getattr(s0, name)).sum(axis=1) for k, name in SUMMED.items()}  # timestep 0 counts too
    gross = np.zeros(n_envs)
    reward = np.zeros((n_envs, task.params.n_regions))
    for _ in range(env.horizon):
        obs, out, term, trunc = env.step(profile_actions(profile, obs, env.action_masks))
        s = env.state
        activity = host(s.stage) == 0
        for key, name in SUMMED.items():
            v = host(getattr(s, name)).sum(axis=1)
            sums[key] += np.where(activity, v, 0.0) if activity_only else v
        gross += np.where(activity, host(s.gross_output).sum(axis=1), 0.0)
        reward += host(out.rewards["regions"])
        if bool(np.all(host(term) | host(trunc))):
            break
    rise = host(env.state.temperature[:, 0]) - t_at0
    return {
        "episode_reward_sum": reward.sum(axis=1),
        "temperature_rise": rise,
        "final_carbon_mass_at": host(env.state.carbon[:, 0]),
        **sums,
        "gross_output_sum_activity_steps": gross,
        "climate_index": np.asarray(climate_index(rise)),
        "economic_index": np.asarray(economic_index(gross)),
        "region_welfare": reward,
    }


def report(
    task: Task, profile: Mapping[str, GroupPolicy], seed: int = 0, episodes: int = 1, backend: Backend | str = "numpy"
) -> dict[str, Any]:
    """The task's ``report`` hook (what ``econbench evaluate`` prints beside the score): the competition's metrics
    and each region's welfare in the first episode of ``seed``. RICE-N draws nothing at random, so every episode
    is that one and ``episodes`` changes nothing."""
    m = competition_metrics(task, profile, seed=seed, backend=backend)
    return {
        "competition_metrics": {k: float(v[0]) for k, v in m.items() if k != "region_welfare"},
        "region_welfare": m["region_welfare"][0].tolist(),
    }
