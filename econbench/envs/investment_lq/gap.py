"""InvestmentLQ's equilibrium gap: a measure-zero firm cannot move prices, so its deviation is simulated
against the prices the profile produced, with its exact LQ best response to the industry's law of motion
fitted on the same paths. Exact when the fit is (a linear symmetric profile), a lower bound otherwise: the
deviation is a feasible plan evaluated against the true prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.core import GroupPolicy, Task
from econbench.envs.investment_lq import solution
from econbench.metrics.best_response import FIT_EXACT_TOL, discounted, gap_result, lstsq, record
from econbench.metrics.gaps import GapResult


def lq_price_taker_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[GapResult]:
    """Gain of a measure-zero firm's exact LQ best response to the fitted law ``Y' = k0 + k1 Y``."""
    p = task.params
    runs = record(task, profile, seeds, episodes, backend, progress)
    Y = np.concatenate([r.obs["firms"][:, :, 0, 1] for r in runs], axis=1)  # (T+1, n)
    X = np.stack([np.ones(Y[:-1].size), Y[:-1].ravel()], axis=1)
    (k0, k1), resid = lstsq(X, Y[1:].ravel())
    h0, h1, h2 = solution.firm_best_response(p, float(k0), float(k1))
    dev, val = [], []
    for r in runs:
        y_obs = r.obs["firms"]  # (T+1, n, N, 2)
        Yt = y_obs[:-1, :, :1, 1]  # (T, n, 1)
        price = p.a0 - p.a1 * Yt
        y = y_obs[0, :, :, 0].copy()
        rewards = np.empty(y_obs[:-1, :, :, 0].shape)
        for t in range(rewards.shape[0]):
            u = np.clip(h0 + (h1 - 1.0) * y + h2 * Yt[t], -p.u_max, p.u_max)
            rewards[t] = price[t] * y - 0.5 * p.gamma * u * u
            y = y + u
        dev.append(discounted(rewards, task.discount))
        val.append(r.returns["firms"])
    exact = resid < FIT_EXACT_TOL
    method = (
        "exact: LQ best response to the industry's linear law"
        if exact
        else f"lower bound: LQ best response to the least-squares law (max relative residual {resid:.2e})"
    )
    return [gap_result(task, policy, "firms", method, dev, val)]
