"""The competition's metrics (scripts/evaluate_submission.py of RICE-N, docs/models/rice.md §7).

Sums run over every stored timestep as upstream's do, so with a negotiation
protocol the capital, production, investment, abatement-cost and consumption
sums count the values carried through negotiation steps too (docs/models/rice.md §9.10);
``activity_only=True`` counts climate-economy steps only. Gross output is
summed over climate-economy steps only, as upstream fixed in PR #24.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from econbench.core import BatchedEnv, GroupPolicy, Task, profile_actions
from econbench.registry import make_task

# climate_economic_min_max_indices.txt: the extremes of two fixed policies (docs/models/rice.md §7)
CLIMATE_INDEX_MIN, CLIMATE_INDEX_MAX = 7.006738662719727, 1.2506777048110962
ECONOMIC_INDEX_MIN, ECONOMIC_INDEX_MAX = 606.57275390625, 9673.5322265625
SUMMED = {"capital_sum": "capital", "production_sum": "production", "investment_sum": "investment",
          "abatement_cost_sum": "abatement_cost", "consumption_sum": "consumption"}


def climate_index(temperature_rise: np.ndarray | float) -> np.ndarray | float:
    """1 at the coolest extreme (saving nothing, abating everything), 0 at the hottest."""
    return (temperature_rise - CLIMATE_INDEX_MIN) / (CLIMATE_INDEX_MAX - CLIMATE_INDEX_MIN)


def economic_index(gross_output_sum: np.ndarray | float) -> np.ndarray | float:
    return (gross_output_sum - ECONOMIC_INDEX_MIN) / (ECONOMIC_INDEX_MAX - ECONOMIC_INDEX_MIN)


def competition_metrics(task: Task | str, policy: str | Mapping[str, GroupPolicy], n_envs: int = 1, seed: int = 0,
                        activity_only: bool = False, dtype: str = "float64", **params: Any) -> dict[str, np.ndarray]:
    """One episode per env of a profile: each metric as an ``(n_envs,)`` array, plus per-region welfare.

    ``policy`` is a named policy of the task or one callable per group
    (observations in, actions out). ``region_welfare`` is each region's
    undiscounted sum of utilities, ``(n_envs, N)``.
    """
    task = make_task(task, **params) if isinstance(task, str) else task
    profile = task.policy(policy) if isinstance(policy, str) else dict(policy)
    env = BatchedEnv(task, n_envs, dtype=dtype, seed=seed)
    obs = env.reset(seed=seed)
    s0 = env.state
    t_at0 = np.asarray(s0.temperature[:, 0], dtype=np.float64)
    sums = {k: np.asarray(getattr(s0, name)).sum(axis=1) for k, name in SUMMED.items()}  # timestep 0 counts too
    gross = np.zeros(n_envs)
    reward = np.zeros((n_envs, task.params.n_regions))
    for _ in range(env.horizon):
        obs, out, term, trunc = env.step(profile_actions(profile, obs, env.action_masks))
        s = env.state
        activity = np.asarray(s.stage) == 0
        for key, name in SUMMED.items():
            v = np.asarray(getattr(s, name)).sum(axis=1)
            sums[key] += np.where(activity, v, 0.0) if activity_only else v
        gross += np.where(activity, np.asarray(s.gross_output).sum(axis=1), 0.0)
        reward += np.asarray(out.rewards["regions"])
        if bool(np.all(np.asarray(term) | np.asarray(trunc))):
            break
    rise = np.asarray(env.state.temperature[:, 0]) - t_at0
    return {
        "episode_reward_sum": reward.sum(axis=1),
        "temperature_rise": rise,
        "final_carbon_mass_at": np.asarray(env.state.carbon[:, 0]),
        **sums,
        "gross_output_sum_activity_steps": gross,
        "climate_index": np.asarray(climate_index(rise)),
        "economic_index": np.asarray(economic_index(gross)),
        "region_welfare": reward,
    }
