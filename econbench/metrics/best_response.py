"""Best-response checks of a policy profile, one per kind of agent.

* Price takers (the competitive markets): a measure-zero firm cannot move
  prices, so its deviation is simulated against the prices the profile
  actually produced, with the exact best response (LQ Riccati, or dynamic
  programming) to the aggregate law of motion fitted from the same
  trajectories. It is exact when the fit is (a linear symmetric profile in
  the LQ market), and a valid lower bound otherwise: the deviation is a
  feasible plan evaluated against the true prices.
* Strategic firms (the oligopoly): each firm's exact LQ best response to
  least-squares linear fits of the others' rules, rolled out against the
  others' actual policies with common random numbers. Exact when the others
  are linear, a lower bound otherwise.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
from tqdm.auto import tqdm

from econbench import lq
from econbench.core import Array, GroupPolicy, Task
from econbench.metrics.evaluate import Rollout, rollout
from econbench.metrics.gaps import GapResult

FIT_EXACT_TOL = 1e-9  # relative residual below which a fitted linear rule is the rule itself


def _record(task: Task, profile: Mapping[str, GroupPolicy], seeds: list[int], episodes: int, backend: Any,
            progress: bool) -> list[Rollout]:
    return [rollout(task, profile, episodes, s, backend, record=True)
            for s in tqdm(seeds, desc=f"{task.name} record", disable=not progress, leave=False)]


def _lstsq(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients and the largest absolute residual relative to the scale of ``y``."""
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = float(np.max(np.abs(X @ coef - y))) / max(float(np.max(np.abs(y))), 1e-12)
    return coef, resid


def _discounted(rewards: np.ndarray, discount: float) -> np.ndarray:
    """Sum over the leading (time) axis with weights ``discount**t``."""
    w = discount ** np.arange(rewards.shape[0])
    return np.tensordot(w, rewards, axes=(0, 0))


def _result(task: Task, policy: str, group: str, method: str, dev: list[np.ndarray], val: list[np.ndarray]) -> GapResult:
    dev_v, base_v = np.concatenate(dev), np.concatenate(val)
    return GapResult(task.id, policy, group, method, dev_v - base_v, base_v)


def lq_price_taker_gap(task: Task, profile: Mapping[str, GroupPolicy], policy: str, seeds: list[int], episodes: int,
                       backend: Any = "numpy", progress: bool = False) -> list[GapResult]:
    """Gain of a measure-zero firm's exact LQ best response to the fitted law ``Y' = k0 + k1 Y``."""
    from econbench.envs.investment_lq import solution

    p = task.params
    runs = _record(task, profile, seeds, episodes, backend, progress)
    Y = np.concatenate([r.obs["firms"][:, :, 0, 1] for r in runs], axis=1)  # (T+1, n)
    X = np.stack([np.ones(Y[:-1].size), Y[:-1].ravel()], axis=1)
    (k0, k1), resid = _lstsq(X, Y[1:].ravel())
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
        dev.append(_discounted(rewards, task.discount))
        val.append(r.returns["firms"])
    exact = resid < FIT_EXACT_TOL
    method = ("exact: LQ best response to the industry's linear law" if exact else
              f"lower bound: LQ best response to the least-squares law (max relative residual {resid:.2e})")
    return [_result(task, policy, "firms", method, dev, val)]


def _rate_table_lookup(z: np.ndarray, K_grid: np.ndarray, K: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Linear interpolation in K (clamped) of a rate table ``z (n_K, n_u)`` at shock indices ``s``."""
    pos = np.clip((K - K_grid[0]) / (K_grid[1] - K_grid[0]), 0.0, K_grid.size - 1.0)
    i = np.minimum(pos.astype(np.int64), K_grid.size - 2)
    w = pos - i
    return (1.0 - w) * z[i, s] + w * z[i + 1, s]


def _probe_law(task: Task, profile: Mapping[str, GroupPolicy], K_grid: np.ndarray, u_grid: np.ndarray,
               backend: Any) -> np.ndarray:
    """The profile's aggregate law ``K'(K, u)`` on the grid, from symmetric states (every ``k_i = K``)."""
    from econbench.backend import get_backend

    p, b = task.params, get_backend(backend)
    K, u = np.meshgrid(K_grid, u_grid, indexing="ij")
    obs = np.broadcast_to(np.stack([K.ravel(), K.ravel(), u.ravel()], axis=-1)[:, None, :], (K.size, p.n_firms, 3))
    z = b.to_numpy(profile["firms"](b.asarray(np.ascontiguousarray(obs))))[..., 0]
    z = np.clip(z, 0.0, p.z_max)
    return (K.ravel()[:, None] * (1.0 - p.delta + z) ** p.alpha).mean(axis=1).reshape(K.shape)


def stochastic_price_taker_gap(task: Task, profile: Mapping[str, GroupPolicy], policy: str, seeds: list[int],
                               episodes: int, backend: Any = "numpy", progress: bool = False) -> list[GapResult]:
    """Gain of a measure-zero firm's DP best response to the profile's aggregate law ``K' = G(K, u)``.

    The law is read off the policies at symmetric states on the DP grid; where
    the recorded path agrees with it (policies that ignore own capacity, as
    the equilibrium does) the best response is exact up to the grid.
    """
    from econbench.envs.investment_stochastic import solution

    p = task.params
    u_grid, P = solution.shock_process(p)
    K_grid = solution.k_grid(p)
    runs = _record(task, profile, seeds, episodes, backend, progress)

    def shocks(u: np.ndarray) -> np.ndarray:
        du = u_grid[1] - u_grid[0] if u_grid.size > 1 else 1.0
        return np.clip(np.rint((u - u_grid[0]) / du).astype(np.int64), 0, u_grid.size - 1)

    law = np.clip(_probe_law(task, profile, K_grid, u_grid, backend), K_grid[0], K_grid[-1])
    K = np.concatenate([r.obs["firms"][:, :, 0, 1] for r in runs], axis=1)  # (T+1, n)
    s = shocks(np.concatenate([r.obs["firms"][:, :, 0, 2] for r in runs], axis=1))
    predicted = np.stack([_rate_table_lookup(law, K_grid, K[t], s[t])
                          for t in range(K.shape[0] - 1)])
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
        dev.append(_discounted(rewards, task.discount))
        val.append(r.returns["firms"])
    if resid < 1e-8:
        method = "exact (to the grid): finite-horizon DP best response to the profile's aggregate law"
    else:
        method = ("lower bound: finite-horizon DP best response to the aggregate law probed at symmetric states "
                  f"(max relative error on the recorded path {resid:.2e}), against recorded prices")
    return [_result(task, policy, "firms", method, dev, val)]


def lq_game_gap(task: Task, profile: Mapping[str, GroupPolicy], policy: str, seeds: list[int], episodes: int,
                backend: Any = "numpy", progress: bool = False) -> list[GapResult]:
    """Each strategic firm's LQ best response to linear fits of the others, rolled out against the true others."""
    from econbench.envs.investment_oligopoly import solution

    p = task.params
    n = p.n_firms
    runs = _record(task, profile, seeds, episodes, backend, progress)
    obs = np.concatenate([r.obs["firms"][:-1] for r in runs], axis=1)  # (T, e, N, 2)
    act = np.concatenate([r.actions["firms"] for r in runs], axis=1)[..., 0]  # (T, e, N)
    F = np.zeros((n, n + 1))
    worst = 0.0
    for i in range(n):
        X = np.stack([np.ones(obs[:, :, i, 0].size), obs[:, :, i, 0].ravel(), obs[:, :, i, 1].ravel()], axis=1)
        (c, own, cross), resid = _lstsq(X, act[:, :, i].ravel())
        worst = max(worst, resid)
        F[i] = -cross
        F[i, 0], F[i, 1 + i] = -c, -own
    A, Bs, Rs, Qs = solution.game_matrices(p)
    Fs = [F[i : i + 1] for i in range(n)]
    dev = np.empty((sum(r.returns["firms"].shape[0] for r in runs), n))
    for i in tqdm(range(n), desc=f"{task.name} best responses", disable=not progress, leave=False):
        F_br, _ = lq.best_response(A, Bs, Rs, Qs, Fs, i, p.beta)
        dev[:, i] = np.concatenate([_deviate(task, profile, i, F_br[0], s, episodes, backend) for s in seeds])
    base = np.concatenate([r.returns["firms"] for r in runs])
    exact = worst < FIT_EXACT_TOL
    method = ("exact: LQ best response to the others' linear rules" if exact else
              f"lower bound: LQ best response to least-squares linear fits (max relative residual {worst:.2e})")
    return [GapResult(task.id, policy, "firms", method, dev - base, base)]


def _deviate(task: Task, profile: Mapping[str, GroupPolicy], i: int, f_br: np.ndarray, seed: int, episodes: int,
             backend: Any) -> np.ndarray:
    """Firm i's discounted profit when it alone plays ``u_i = -f_br . (1, q_1..q_N)``."""
    p = task.params

    def override(t: int, obs: dict[str, Array], actions: dict[str, Array]) -> dict[str, Array]:
        q = np.asarray(obs["firms"][..., 0])
        u = np.clip(-(f_br[0] + q @ f_br[1:]), -p.u_max, p.u_max)
        a = np.array(actions["firms"], copy=True)
        a[:, i, 0] = u
        return {"firms": a}

    if str(getattr(backend, "name", backend)) != "numpy":
        raise ValueError("the strategic best-response check runs on the numpy backend")
    return rollout(task, profile, episodes, seed, backend, override=override).returns["firms"][:, i]


GapFunction = Callable[..., list[GapResult]]
