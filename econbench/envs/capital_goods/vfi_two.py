"""Reference ``V*`` for the planner with two households and one good (docs/models/capital_goods.md §5).

``V(K_1, K_2, s) = max_{K_1', K_2'} mean_i log(Y_i - (phi/2) (I_1 + I_2) I_i) + beta E V(K_1', K_2', s')``
with ``I_i = K_i' - (1-delta) K_i >= 0`` on a product grid and eight shock states (aggregate x two
idiosyncratic chains). The shared cost ``I_1 + I_2`` keeps the choice two-dimensional, but the problem
factorises enough to make brute force cheap:

* the expectation ``E V(K_1', K_2', s')`` depends on ``s`` and the choice only, not on today's stocks:
  one ``(8, 8) @ (8, n^2)`` product per sweep, then read off for every state;
* each household's own constraints (``I_i >= 0`` and ``(phi/2) I_i^2 <= (phi/2) (I_1 + I_2) I_i < Y_i``)
  confine ``K_i'`` to a short window above ``(1-delta) K_i`` whatever the other household does, so the
  flow utility is precomputed once on ``(s, K_1, K_2, window_1, window_2)``: ``w^2`` choices per state
  (``w`` about ``6 refine`` at 40 points) instead of every pair on the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from econbench.envs.capital_goods.params import CapitalParams
from econbench.envs.capital_goods.solution import chain

_INFEASIBLE = -1e300  # finite: NumPy's argmax is an order of magnitude slower on arrays holding -inf


@dataclass(frozen=True)
class TwoHouseholdSolution:
    k: np.ndarray  # (n,) state grid, both households
    k_choice: np.ndarray  # ((n-1) refine + 1,) grid of K' (the state grid when refine = 1)
    z: np.ndarray  # (8, 3): (Z_agg, Z_1, Z_2) of shock state s = 4 agg + 2 idio_1 + idio_2
    P: np.ndarray  # (8, 8)
    v: np.ndarray  # (8, n, n): V*(s, K_1, K_2)
    policy: np.ndarray  # (8, n, n, 2) int: indices of (K_1', K_2') on k_choice
    iterations: int

    @property
    def kprime(self) -> np.ndarray:
        return np.asarray(self.k_choice[self.policy])

    def value(self, k1: float | np.ndarray, k2: float | np.ndarray, s: int | np.ndarray) -> np.ndarray:
        """``V*`` between grid points, bilinear in ``(K_1, K_2)`` (clamped at the grid's ends)."""
        k1, k2, s = np.broadcast_arrays(
            np.asarray(k1, dtype=np.float64), np.asarray(k2, dtype=np.float64), np.asarray(s, dtype=np.int64)
        )
        i, a = self._bracket(k1)
        j, b = self._bracket(k2)
        v = self.v
        return np.asarray(
            (1 - a) * (1 - b) * v[s, i, j]
            + a * (1 - b) * v[s, i + 1, j]
            + (1 - a) * b * v[s, i, j + 1]
            + a * b * v[s, i + 1, j + 1]
        )

    def _bracket(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.clip(np.searchsorted(self.k, x) - 1, 0, self.k.size - 2)
        return i, np.clip((x - self.k[i]) / (self.k[i + 1] - self.k[i]), 0.0, 1.0)


def solve_vfi_two(
    p: CapitalParams, points: int = 40, refine: int = 3, tol: float = 1e-10, howard: int = 50, max_iter: int = 500
) -> TwoHouseholdSolution:
    """The planner's ``V*`` on a ``points x points`` grid over ``[vfi_low, vfi_high] K_ss``.

    ``K_ss`` is the two-household steady state (``p.k_ss``); the card's 1000 points are for one household.
    ``refine = 1`` keeps ``K'`` on the state grid: ``V`` is then the exact value of a feasible policy from
    the grid points, a lower bound on ``V*``, but a coarse grid's step is about the investment itself
    (``delta K``), so that bound sits far below ``V*`` (0.2 at 40 points). ``refine = m`` lets ``K'`` take
    ``m`` steps per grid interval and interpolates ``V`` bilinearly (monotone, so still a beta-contraction):
    much closer to ``V*`` at the cost of ``m^2`` times the work, but no longer a bound.
    """
    if p.n_households != 2 or p.n_capital != 1 or p.formulation != "planner":
        raise ValueError(
            "the two-household VFI needs n_households=2, n_capital=1 and the planner formulation; got "
            f"n_households={p.n_households}, n_capital={p.n_capital}, formulation={p.formulation!r}"
        )
    if points < 2 or refine < 1:
        raise ValueError(f"need points >= 2 and refine >= 1, got points={points}, refine={refine}")
    return _solve(
        p.alpha,
        p.beta,
        p.delta,
        p.phi,
        p.k_ss,
        p.vfi_low,
        p.vfi_high,
        points,
        refine,
        p.z_agg,
        p.agg_stay,
        p.z_idio,
        p.idio_stay,
        tol,
        howard,
        max_iter,
    )


def _windows(
    k: np.ndarray, kc: np.ndarray, delta: float, cost: float, y_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First index ``lo`` (n,) into the choice grid ``kc`` that one household can afford from each stock, and
    the investment of ``kc[lo + o]``, ``(n, w)``, NaN past what it can afford even when the other invests nothing.
    """
    invest = kc[None, :] - (1.0 - delta) * k[:, None]  # (K, K')
    ok = (invest >= 0.0) & (cost * invest**2 < y_max[:, None])
    lo = np.argmax(ok, axis=1)  # feasible K' are contiguous: investment rises along the row
    width = max(int(ok.sum(axis=1).max()), 1)
    idx = lo[:, None] + np.arange(width)[None, :]
    inside = idx < kc.size
    idx = np.minimum(idx, kc.size - 1)
    inv = np.take_along_axis(invest, idx, axis=1)
    return lo, np.where(inside & np.take_along_axis(ok, idx, axis=1), inv, np.nan)


def _expect(P: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``P @ v`` without BLAS: its threads turn these tiny products into the bottleneck on a busy machine."""
    out: np.ndarray = np.einsum("st,tk->sk", P, v)
    return out


@lru_cache(maxsize=8)
def _solve(
    alpha: float,
    beta: float,
    delta: float,
    phi: float,
    k_ss: float,
    lo: float,
    hi: float,
    n: int,
    refine: int,
    z_agg: tuple[float, float],
    agg_stay: float,
    z_idio: tuple[float, float],
    idio_stay: float,
    tol: float,
    howard: int,
    max_iter: int,
) -> TwoHouseholdSolution:
    za, pa = chain(z_agg, agg_stay)
    zi, pi = chain(z_idio, idio_stay)
    s = np.arange(8)
    z = np.stack([za[s // 4], zi[s // 2 % 2], zi[s % 2]], axis=1)
    P = np.kron(pa, np.kron(pi, pi))
    kc = np.linspace(lo * k_ss, hi * k_ss, (n - 1) * refine + 1)
    k = kc[::refine]
    nf = kc.size
    cost = 0.5 * phi
    y1 = (z[:, 0] * z[:, 1])[:, None] * k[None] ** alpha  # (8, n)
    y2 = (z[:, 0] * z[:, 2])[:, None] * k[None] ** alpha
    start, inv = _windows(k, kc, delta, cost, float(za.max() * zi.max()) * k**alpha)
    w = inv.shape[1]

    # flow utility on (s, i1, i2, o1, o2): choice K_1' = kc[start[i1] + o1], K_2' = kc[start[i2] + o2]
    i1 = inv[:, None, :, None]
    i2 = inv[None, :, None, :]
    total = i1 + i2
    c1 = y1[:, :, None, None, None] - cost * (total * i1)[None]
    c2 = y2[:, None, :, None, None] - cost * (total * i2)[None]
    feasible = (c1 > 0.0) & (c2 > 0.0)  # NaN investment compares False
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(
            feasible, 0.5 * (np.log(np.where(feasible, c1, 1.0)) + np.log(np.where(feasible, c2, 1.0))), _INFEASIBLE
        )
    if not feasible.any(axis=(-2, -1)).all():
        raise ValueError("some state has no feasible choice on this grid (raise vfi_low or the number of points)")

    # linear interpolation from the state grid to the choice grid
    lower = np.minimum(np.arange(nf) // refine, n - 2)
    weight = (kc - k[lower]) / (k[lower + 1] - k[lower])

    cells = (slice(None), start[:, None], start[None, :])
    rows = np.arange(8)[:, None, None]
    v = np.zeros((8, n * n))
    f1 = f2 = np.zeros((8, n, n), dtype=np.int64)
    it = 0
    for it in range(1, max_iter + 1):
        ev = np.zeros((8, nf + w - 1, nf + w - 1))  # padding: windows past the grid's end are infeasible
        e = _expect(P, v).reshape(8, n, n)  # E[V(K', s') | s] on the state grid, then at every choice
        e = e[:, lower] * (1.0 - weight)[:, None] + e[:, lower + 1] * weight[:, None]
        ev[:, :nf, :nf] = e[:, :, lower] * (1.0 - weight) + e[:, :, lower + 1] * weight
        q = np.ascontiguousarray(sliding_window_view(ev, (w, w), axis=(1, 2))[cells])  # C order: argmax is fast
        q *= beta
        q += u
        q = q.reshape(8, n, n, w * w)
        best = np.argmax(q, axis=-1)[..., None]
        v_new = np.take_along_axis(q, best, axis=-1).reshape(8, -1)
        u_pol = np.take_along_axis(u.reshape(q.shape), best, axis=-1).reshape(8, -1)
        o1, o2 = np.divmod(best[..., 0], w)
        f1, f2 = start[:, None] + o1, start[None, :] + o2
        if refine == 1:  # K' on the grid: one corner
            corner, wt = (f1 * n + f2).reshape(8, -1, 1), np.ones((8, n * n, 1))
        else:
            corner = (lower[f1] * n + lower[f2])[..., None] + np.array([0, 1, n, n + 1])
            a, b = weight[f1][..., None], weight[f2][..., None]
            wt = np.concatenate([(1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b], axis=-1).reshape(8, n * n, -1)
            corner = corner.reshape(8, n * n, -1)
        for _ in range(howard):  # evaluate the improved policy a few times before the next maximisation
            v_new = u_pol + beta * (wt * _expect(P, v_new)[rows, corner]).sum(-1)
        done = np.max(np.abs(v_new - v)) < tol
        v = v_new
        if done:
            break
    out = TwoHouseholdSolution(k, kc, z, P, v.reshape(8, n, n), np.stack([f1, f2], axis=-1), it)
    for arr in (out.k, out.k_choice, out.z, out.P, out.v, out.policy):  # shared by every caller through the cache
        arr.flags.writeable = False
    return out
