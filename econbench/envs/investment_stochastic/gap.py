"""InvestmentStochastic's equilibrium gap: a measure-zero firm's dynamic-programming best response to the
profile's aggregate law, simulated against the recorded prices (exact up to the grid where the path agrees
with the law, a lower bound otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.backend import get_backend
from econbench.core import GroupPolicy, Task
from econbench.envs.investment_stochastic import solution
from econbench.metrics.best_response import discounted, gap_result, record
from econbench.metrics.gaps import GapResult


def _rate_table_lookup(z: np.ndarray, K_grid: np.ndarray, K: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Linear interpolation in K (clamped) of a rate table ``z (n_K, n_u)`` at shock indices ``s``."""
    pos = np.clip((K - K_grid[0]) / (K_grid[1] - K_grid[0]), 0.0, K_grid.size - 1.0)
    i = np.minimum(pos.astype(np.int64), K_grid.size - 2)
    w = pos - i
    return (1.0 - w) * z[i, s] + w * z[i + 1, s]


def _probe_law(
    task: Task, profile: Mapping[str, GroupPolicy], K_grid: np.ndarray, u_grid: np.ndarray, backend: Any
) -> np.ndarray:
    """The profile's aggregate law ``K'(K, u)`` on the grid, from symmetric states (every ``k_i = K``)."""
    p, b = task.params, get_backend(backend)
    K, u = np.meshgrid(K_grid, u_grid, indexing="ij")
    obs = np.broadcast_to(np.stack([K.ravel(), K.ravel(), u.ravel()], axis=-1)[:, None, :], (K.size, p.n_firms, 3))
    z = b.to_numpy(profile["firms"](b.asarray(np.ascontiguousarray(obs))))[..., 0]
    z = np.clip(z, 0.0, p.z_max)
    return (K.ravel()[:, None] * (1.0 - p.delta + z) ** p.alpha).mean(axis=1).reshape(K.shape)


def stochastic_price_taker_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[GapResult]:
    """Gain of a measure-zero firm's DP best response to the profile's aggregate law ``K' = G(K, u)``.

    The law is read off the policies at symmetric states on the DP grid; where
    the recorded path agrees with it (policies that ignore own capacity, as
    the equilibrium does) the best response is exact up to the grid.
    """
    p = task.params
    u_grid, P = solution.shock_process(p)
    K_grid = solution.k_grid(p)
    runs = record(task, profile, seeds, episodes, backend, progress)

    def shocks(u: np.ndarray) -> np.ndarray:
        du = u_grid[1] - u_grid[0] if u_grid.size > 1 else 1.0
        return np.clip(np.rint((u - u_grid[0]) / du).astype(np.int64), 0, u_grid.size - 1)

    law = np.clip(_probe_law(task, profile, K_grid, u_grid, backend), K_grid[0], K_grid[-1])
    K = np.concatenate([r.obs["firms"][:, :, 0, 1] for r in runs], axis=1)  # (T+1, n)
    s = shocks(np.concatenate([r.obs["firms"][:, :, 0, 2] for r in runs], axis=1))
    predicted = np.stack([_rate_table_lookup(law, K_grid, K[t], s[t]) for t in range(K.shape[0] - 1)])
    resid = float(np.max(np.abs(predicted - K[1:]) / K[1:]))
    # the evaluation truncates at the horizon, so the exact best response is the finite-horizon plan
    _, plan = solution.price_taker_plan(p, law, K_grid, u_grid, P, horizon=task.horizon, z_max=p.z_max)
    dev, val = [], []
    for r in runs:
        o = r.obs["firms"][:-1]  # (T, n, N, 3)
        Kt, ut = o[:, :, 0, 1], o[:, :, 0, 2]
        st = shocks(ut)
        z_t = np.stack([_rate_table_lookup(plan[t], K_grid, Kt[t], st[t]) for t in range(Kt.shape[0])])
        z_t = np.clip(z_t, 0.0, p.z_max)[:, :, None]
        price = (p.a0 + ut - p.a1 * Kt)[:, :, None]
        k = r.obs["firms"][0, :, :, 0].copy()
        rewards = np.empty(o[..., 0].shape)
        for t in range(rewards.shape[0]):
            rewards[t] = (price[t] - z_t[t]) * k
            k = k * (1.0 - p.delta + z_t[t]) ** p.alpha
        dev.append(discounted(rewards, task.discount))
        val.append(r.returns["firms"])
    if resid < 1e-8:
        method = "exact (to the grid): finite-horizon DP best response to the profile's aggregate law"
    else:
        method = (
            "lower bound: finite-horizon DP best response to the aggregate law probed at symmetric states "
            f"(max relative error on the recorded path {resid:.2e}), against recorded prices"
        )
    return [gap_result(task, policy, "firms", method, dev, val)]
