"""Exact (grid) solution of the nonlinear stochastic Lucas–Prescott industry (docs/models/investment_stochastic.md §2, §4).

The competitive equilibrium maximises expected discounted surplus, so the
planner's value-function iteration gives the equilibrium law of capacity. A
price-taking firm's problem is homogeneous of degree one in its own capacity,
so its best response to any aggregate law reduces to a small dynamic program
over ``(K, u)`` with a closed-form first-order condition; that gives the exact
equilibrium gap of learned play.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.special import ndtr

from econbench.envs.investment_stochastic.params import StochasticParams

Array = np.ndarray

_HOWARD_STEPS = 40  # policy-evaluation sweeps per improvement step (docs/models/investment_stochastic.md §4: 30-50)


def tauchen(n: int, rho: float, sigma: float, m: float) -> tuple[Array, Array]:
    """Tauchen (1986) discretisation of ``u' = rho u + sigma eps`` on ``n`` states.

    The grid spans ``+-m`` unconditional standard deviations; each row of the
    transition matrix integrates the normal innovation over the cell around
    each target, with the end cells open to infinity.
    """
    if n < 1:
        raise ValueError("tauchen needs n >= 1")
    if not abs(rho) < 1:
        raise ValueError("tauchen needs |rho| < 1 (a stationary AR(1))")
    if n == 1:
        return np.zeros(1), np.ones((1, 1))
    sd = sigma / np.sqrt(1.0 - rho**2)
    grid = np.linspace(-m * sd, m * sd, n)
    half = 0.5 * (grid[1] - grid[0])
    mean = rho * grid[:, None]
    upper = ndtr((grid[None, :] - mean + half) / sigma)
    lower = ndtr((grid[None, :] - mean - half) / sigma)
    P = upper - lower
    P[:, 0] = upper[:, 0]
    P[:, -1] = 1.0 - lower[:, -1]
    return grid, P


def shock_process(p: StochasticParams) -> tuple[Array, Array]:
    """The card's Tauchen grid and transition matrix for the demand shock u."""
    return tauchen(p.n_shocks, p.rho, p.sigma, p.tauchen_m)


def k_grid(p: StochasticParams) -> Array:
    return np.linspace(p.k_grid_min, p.k_grid_max, p.k_grid_n)


def surplus(p: StochasticParams, k: Array, u: Array) -> Array:
    """Consumer surplus ``s(k, u) = (a0 + u) k - a1 k^2 / 2`` (broadcasting)."""
    return (p.a0 + u) * k - p.a1 * k**2 / 2


def investment_for(p: StochasticParams, k: Array, k_next: Array) -> Array:
    """Gross investment ``x`` that takes capacity from k to k' (negative = infeasible)."""
    return k * ((k_next / k) ** (1.0 / p.alpha) - (1.0 - p.delta))


@dataclass(frozen=True)
class StochasticSolution:
    """Planner VFI on the grid: value ``v``, next capacity ``kprime`` and the
    implied investment rate ``z`` (all ``(n_k, n_u)``), plus the index policy."""

    k_grid: Array
    u_grid: Array
    P: Array
    v: Array
    kprime: Array
    z: Array
    iterations: int
    policy_index: Array


def _readonly(a: Array) -> Array:
    a = np.array(a)
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=16)
def solve_planner(p: StochasticParams, tol: float = 1e-8) -> StochasticSolution:
    """Modified policy iteration: greedy step, then Howard sweeps, until the
    greedy step moves v by less than ``tol`` in sup norm.

    The maximand separates as ``s(k,u) + max_k' [-x(k,k') + beta E v(k',u')]``,
    so the work per step is one ``(n_k, n_k)`` slice per shock state.
    """
    k = k_grid(p)
    u, P = shock_process(p)
    n_k, n_u = k.size, u.size
    beta = p.beta
    x = investment_for(p, k[:, None], k[None, :])  # (k, k')
    neg_x = np.where(x >= 0.0, -x, -np.inf)
    if not np.all(np.isfinite(neg_x).any(axis=1)):
        raise ValueError("some grid capacity has no feasible successor on the grid")
    s = surplus(p, k[:, None], u[None, :])
    rows = np.arange(n_k)[:, None]
    cols = np.arange(n_u)[None, :]
    v = s / (1.0 - beta)
    pol = np.zeros((n_k, n_u), dtype=np.intp)
    for it in range(1, 10_001):
        ev = beta * v @ P.T  # ev[j, u] = beta E[v(k_j, u') | u]
        v_new = np.empty_like(v)
        for iu in range(n_u):
            obj = neg_x + ev[None, :, iu]
            pol[:, iu] = np.argmax(obj, axis=1)
            v_new[:, iu] = s[:, iu] + obj[np.arange(n_k), pol[:, iu]]
        err = float(np.max(np.abs(v_new - v)))
        v = v_new
        if err < tol:
            break
        flow = s - x[rows, pol]
        for _ in range(_HOWARD_STEPS):
            v = flow + beta * (v @ P.T)[pol, cols]
    else:
        raise RuntimeError("planner VFI did not converge in 10000 improvement steps")
    kprime = k[pol]
    z = (kprime / k[:, None]) ** (1.0 / p.alpha) - (1.0 - p.delta)
    return StochasticSolution(
        k_grid=_readonly(k),
        u_grid=_readonly(u),
        P=_readonly(P),
        v=_readonly(v),
        kprime=_readonly(kprime),
        z=_readonly(z),
        iterations=it,
        policy_index=_readonly(pol),
    )


def stationary_capital_iid(p: StochasticParams) -> float:
    """Analytic ``k^c = (a0 - delta - r/alpha)/a1``: expected price equals the user cost
    ``delta + r/h'(delta)`` when demand is i.i.d. (docs/models/investment_stochastic.md §2)."""
    return (p.a0 - p.delta - p.r / p.alpha) / p.a1


def invariant_distribution(sol: StochasticSolution, tol: float = 1e-12, max_iter: int = 200_000) -> Array:
    """Invariant distribution ``(n_k, n_u)`` of the (k, u) chain under the grid policy."""
    return policy_chain_invariant(np.asarray(sol.policy_index), np.asarray(sol.P), tol, max_iter)


def policy_chain_invariant(pol: np.ndarray, P: np.ndarray, tol: float = 1e-12, max_iter: int = 200_000) -> np.ndarray:
    """Invariant law ``(n_k, n_u)`` of the chain ``(k, u) -> (pol[k, u], u')`` with ``u' ~ P[u]`` on a grid.

    Power iteration from the uniform distribution: transient capacities die out,
    and the chain is aperiodic because each shock state repeats with positive
    probability, so this converges to the unique invariant law of the ergodic set.
    """
    n_k, n_u = pol.shape
    src = (pol * n_u)[:, :, None] + np.arange(n_u)[None, None, :]  # flat index of (k', u')
    T = scipy.sparse.csr_matrix(
        (np.broadcast_to(P[None, :, :], (n_k, n_u, n_u)).ravel(), (np.repeat(np.arange(n_k * n_u), n_u), src.ravel())),
        shape=(n_k * n_u, n_k * n_u),
    )
    Tt = T.T.tocsr()
    mu = np.full(n_k * n_u, 1.0 / (n_k * n_u))
    for _ in range(max_iter):
        mu_new = Tt @ mu
        if np.abs(mu_new - mu).sum() < tol:  # total-variation change
            mu = mu_new
            break
        mu = mu_new
    else:
        raise RuntimeError("invariant distribution did not converge")
    mu = mu / mu.sum()
    return mu.reshape(n_k, n_u)


def conditional_stationary_k(sol: StochasticSolution, from_above: bool = False) -> Array:
    """For each shock state held fixed forever, the capacity where ``kprime(k, u) = k``.

    Grid rounding can leave a flat band of adjacent fixed points (one or two grid
    steps wide). The policy is monotone in k, so iterating it from the bottom of
    the grid reaches the lowest one (the convention of docs/models/investment_stochastic.md §4) and from the top
    the highest; ``from_above`` picks the latter.
    """
    pol = np.asarray(sol.policy_index)
    n_k, n_u = pol.shape
    out = np.empty(n_u)
    for iu in range(n_u):
        i = n_k - 1 if from_above else 0
        for _ in range(n_k + 1):
            j = int(pol[i, iu])
            if j == i:
                break
            i = j
        else:
            raise RuntimeError(f"the policy cycles for shock state {iu}; it is not monotone")
        out[iu] = sol.k_grid[i]
    return out


# ---------------------------------------------------------------------------
# Price-taking firm's best response (by homogeneity, its value is k * w(K, u))


def _expectation_operator(law_kprime: Array, K_grid: Array, P: Array) -> scipy.sparse.csr_matrix:
    """Sparse M with ``(M w)(K, u) = E[w(K', u') | u]``, ``K' = law(K, u)``,
    w linear in K between grid points (flat index ``iK * n_u + iu``)."""
    K_grid = np.asarray(K_grid, dtype=float)
    law = np.asarray(law_kprime, dtype=float)
    n_K, n_u = law.shape
    if law.min() < K_grid[0] - 1e-9 * abs(K_grid[0]) or law.max() > K_grid[-1] + 1e-9 * abs(K_grid[-1]):
        raise ValueError("the aggregate law leaves the K grid; w cannot be interpolated there")
    lo = np.clip(np.searchsorted(K_grid, law, side="right") - 1, 0, n_K - 2)
    t = np.clip((law - K_grid[lo]) / (K_grid[lo + 1] - K_grid[lo]), 0.0, 1.0)
    row = np.arange(n_K * n_u).reshape(n_K, n_u)
    up = np.arange(n_u)
    # each (K, u) row: weights P[u, u'] (1 - t) at (lo, u') and P[u, u'] t at (lo + 1, u')
    r = np.broadcast_to(row[:, :, None], (n_K, n_u, n_u))
    w_lo = (1.0 - t)[:, :, None] * P[None, :, :]
    w_hi = t[:, :, None] * P[None, :, :]
    c_lo = lo[:, :, None] * n_u + up[None, None, :]
    data = np.concatenate([w_lo.ravel(), w_hi.ravel()])
    rows = np.concatenate([r.ravel(), r.ravel()])
    cols = np.concatenate([c_lo.ravel(), (c_lo + n_u).ravel()])
    return scipy.sparse.csr_matrix((data, (rows, cols)), shape=(n_K * n_u, n_K * n_u))


def _price(p: StochasticParams, K_grid: Array, u_grid: Array) -> Array:
    return p.a0 + np.asarray(u_grid)[None, :] - p.a1 * np.asarray(K_grid)[:, None]


def _growth(p: StochasticParams, z: Array) -> Array:
    """``h(z) = (1 - delta + z)^alpha``."""
    return (1.0 - p.delta + z) ** p.alpha


def _evaluate(p: StochasticParams, M: scipy.sparse.csr_matrix, price: Array, z: Array) -> Array:
    """Solve ``w = price - z + beta h(z) M w`` exactly, checking the value is finite.

    With ``T = beta diag(h) M >= 0``, a solution ``y > 0`` of ``(I - T) y = 1``
    exists iff ``rho(T) < 1``; otherwise the firm's discounted profit diverges
    (it can outgrow discounting) and no finite value exists.
    """
    shape = z.shape
    h = _growth(p, z).ravel()
    A = scipy.sparse.identity(h.size, format="csc") - p.beta * scipy.sparse.diags(h) @ M
    lu = scipy.sparse.linalg.splu(A.tocsc())
    y = lu.solve(np.ones(h.size))
    if not np.all(np.isfinite(y)) or np.min(y) <= 0.0:
        raise ValueError(
            "the firm's value is unbounded under this rate policy and aggregate law "
            "(it can outgrow discounting); pass horizon= for a finite-horizon value"
        )
    return lu.solve((price - z).ravel()).reshape(shape)


def _greedy_rate(p: StochasticParams, c: Array, z_max: float) -> Array:
    """argmax_z { -z + c h(z) } on ``[0, z_max]`` from the first-order condition
    ``1 = c alpha (1 - delta + z)^(alpha - 1)`` (h concave, so the FOC suffices)."""
    if p.alpha < 1.0:
        with np.errstate(over="ignore"):
            z = (np.maximum(c, 0.0) * p.alpha) ** (1.0 / (1.0 - p.alpha)) - (1.0 - p.delta)
    else:  # linear technology: bang-bang
        if not np.isfinite(z_max) and np.any(c > 1.0):
            raise ValueError("alpha = 1 and continuation value above cost: unbounded; pass z_max")
        z = np.where(c > 1.0, z_max, 0.0)
    return np.clip(z, 0.0, z_max)


def price_taker_best_response(
    p: StochasticParams,
    law_kprime: Array,
    K_grid: Array,
    u_grid: Array,
    P: Array,
    tol: float = 1e-10,
    z_max: float = np.inf,
    horizon: int | None = None,
    max_iter: int = 500,
) -> tuple[Array, Array]:
    """``(w, z)`` on ``(n_K, n_u)``: a measure-zero firm's value per unit capacity and
    optimal investment rate when the aggregate follows ``K' = law_kprime(K, u)``.

    Infinite horizon (default): solves ``w = max_z {p(K,u) - z + h(z) beta E[w(K',u')|u]}``
    by policy iteration (exact sparse evaluation, closed-form improvement), which
    is monotone and converges in a handful of steps. Under constant returns the
    firm can outgrow discounting wherever the law keeps prices persistently above
    the user cost (any under-investing law, or ``K' = K``); then no finite value
    exists and ``ValueError`` is raised. ``horizon`` (backward induction from
    ``w_T = 0``, returning period-0 objects) and ``z_max`` keep such cases finite.
    """
    P = np.asarray(P, dtype=float)
    M = _expectation_operator(law_kprime, K_grid, P)
    price = _price(p, K_grid, u_grid)
    if horizon is not None:
        w = np.zeros_like(price)
        z = np.zeros_like(price)
        for _ in range(horizon):
            c = p.beta * (M @ w.ravel()).reshape(w.shape)
            z = _greedy_rate(p, c, z_max)
            w = price - z + c * _growth(p, z)
        return w, z
    z = np.zeros_like(price)  # "never invest": always finite, beta (1-delta)^alpha < 1
    w = _evaluate(p, M, price, z)
    for _ in range(max_iter):
        c = p.beta * (M @ w.ravel()).reshape(w.shape)
        z = _greedy_rate(p, c, z_max)
        w_new = _evaluate(p, M, price, z)
        if np.max(np.abs(w_new - w)) < tol:
            return w_new, z
        w = w_new
    raise RuntimeError(f"price-taker policy iteration did not converge in {max_iter} steps")


def price_taker_policy_value(
    p: StochasticParams,
    law_kprime: Array,
    z_policy: Array,
    K_grid: Array,
    u_grid: Array,
    P: Array,
    horizon: int | None = None,
) -> Array:
    """``w`` (n_K, n_u) of a firm investing at rate ``z_policy(K, u)`` under the aggregate
    law: its discounted profit is ``k * w(K, u)`` (over ``horizon`` periods if given)."""
    M = _expectation_operator(law_kprime, K_grid, np.asarray(P, dtype=float))
    price = _price(p, K_grid, u_grid)
    z = np.asarray(z_policy, dtype=float)
    if horizon is None:
        return _evaluate(p, M, price, z)
    growth = p.beta * _growth(p, z)
    w = np.zeros_like(price)
    for _ in range(horizon):
        w = price - z + growth * (M @ w.ravel()).reshape(w.shape)
    return w


def price_taker_plan(
    p: StochasticParams,
    law_kprime: Array,
    K_grid: Array,
    u_grid: Array,
    P: Array,
    horizon: int,
    z_max: float = np.inf,
) -> tuple[Array, Array]:
    """Finite-horizon best response by backward induction: ``(w0, z)`` with ``z[t]`` the
    optimal rate ``t`` periods into a ``horizon``-period episode (shape ``(horizon, n_K, n_u)``).

    This is the exact object for a truncated episode, and it stays finite where
    the infinite-horizon value does not (a law that under-invests lets a
    constant-returns firm outgrow discounting).
    """
    M = _expectation_operator(law_kprime, K_grid, np.asarray(P, dtype=float))
    price = _price(p, K_grid, u_grid)
    w = np.zeros_like(price)
    z = np.empty((horizon,) + price.shape)
    for t in range(horizon - 1, -1, -1):
        c = p.beta * (M @ w.ravel()).reshape(w.shape)
        z[t] = _greedy_rate(p, c, z_max)
        w = price - z[t] + c * _growth(p, z[t])
    return w, z


def summary(p: StochasticParams) -> dict[str, object]:
    """What ``econbench solve`` prints: VFI facts, values, stationary capacities, the i.i.d. check."""
    sol = solve_planner(p)
    mu = invariant_distribution(sol)
    k_marg = mu.sum(axis=1)
    mean = float(k_marg @ sol.k_grid)
    sd = float(np.sqrt(k_marg @ (sol.k_grid - mean) ** 2))
    mid = sol.u_grid.size // 2
    return {
        "VFI grid (k points, shock states)": (sol.k_grid.size, sol.u_grid.size),
        "VFI improvement steps": sol.iterations,
        f"V*(k={sol.k_grid[np.argmin(np.abs(sol.k_grid - 80.0))]:.3f}, u=0)": float(
            sol.v[np.argmin(np.abs(sol.k_grid - 80.0)), mid]
        ),
        "conditional stationary k by shock state": tuple(float(k) for k in conditional_stationary_k(sol)),
        "invariant distribution of k: mean, sd": (mean, sd),
        "analytic stationary k with i.i.d. demand (a0 - delta - r/alpha)/a1": stationary_capital_iid(p),
        "optimal investment rate z on the grid: min, max": (float(sol.z.min()), float(sol.z.max())),
    }
