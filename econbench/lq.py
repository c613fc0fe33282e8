"""Discounted linear-quadratic control and N-player LQ games (NumPy/SciPy only).

Convention (as QuantEcon's ``LQ`` and ``nnash``): a player *minimises*
``sum_t beta^t (x'Rx + u'Qu + 2u'Nx)`` subject to ``x' = Ax + Bu`` and plays
``u = -Fx``; its cost-to-go is ``x'Px``, so the value of a reward maximiser is
``-x'Px``. Recipes: ``docs/models/investment_lq.md`` §4, ``docs/models/investment_oligopoly.md`` §4-§5.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

Array = np.ndarray


def _as2d(m: Array | float) -> Array:
    return np.atleast_2d(np.asarray(m, dtype=float))


def _spectral_radius(m: Array) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(m)))) if m.size else 0.0


def _riccati_policy(A: Array, B: Array, Q: Array, N: Array, P: Array, beta: float) -> Array:
    """``F = (Q + beta B'PB)^{-1} (beta B'PA + N)``: the greedy rule for cost-to-go P."""
    return np.linalg.solve(Q + beta * B.T @ P @ B, beta * B.T @ P @ A + N)


def riccati_iteration(
    A: Array,
    B: Array,
    R: Array,
    Q: Array | float,
    beta: float,
    N: Array | None = None,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> tuple[Array, Array]:
    """Plain Riccati fixed-point iteration from ``P = 0``.

    Slow (the constant-state entry converges at rate beta) but assumption-free;
    kept as the fallback of ``solve_lq`` and as its independent check.
    """
    A, B, R, Q = _as2d(A), _as2d(B), _as2d(R), _as2d(Q)
    N = np.zeros((B.shape[1], A.shape[0])) if N is None else _as2d(N)
    P = np.zeros_like(R)
    for _ in range(max_iter):
        F = _riccati_policy(A, B, Q, N, P, beta)
        G = beta * B.T @ P @ A + N
        P_new = R + beta * A.T @ P @ A - G.T @ F
        P_new = 0.5 * (P_new + P_new.T)
        if np.max(np.abs(P_new - P)) <= tol * max(1.0, np.max(np.abs(P_new))):
            return P_new, _riccati_policy(A, B, Q, N, P_new, beta)
        P = P_new
    raise RuntimeError(f"Riccati iteration did not converge in {max_iter} iterations")


def solve_lq(
    A: Array,
    B: Array,
    R: Array,
    Q: Array | float,
    beta: float,
    N: Array | None = None,
) -> tuple[Array, Array]:
    """Stationary discounted LQ solution ``(P, F)``.

    Discounting is absorbed by scaling ``A, B`` by ``sqrt(beta)`` so SciPy's
    generalised-Schur DARE solver applies; its answer is accepted only if it
    satisfies the discounted Riccati equation, since the indefinite ``R`` of
    economic problems is outside the solver's textbook assumptions.
    """
    A, B, R, Q = _as2d(A), _as2d(B), _as2d(R), _as2d(Q)
    N = np.zeros((B.shape[1], A.shape[0])) if N is None else _as2d(N)
    sb = np.sqrt(beta)
    try:
        P = scipy.linalg.solve_discrete_are(sb * A, sb * B, R, Q, s=N.T)
        P = 0.5 * (P + P.T)
        F = _riccati_policy(A, B, Q, N, P, beta)
        resid = R + beta * A.T @ P @ A - (beta * B.T @ P @ A + N).T @ F - P
        scale = max(1.0, float(np.max(np.abs(P))))
        stable = _spectral_radius(sb * (A - B @ F)) < 1.0
        if np.all(np.isfinite(P)) and np.max(np.abs(resid)) <= 1e-8 * scale and stable:
            return P, F
    except (np.linalg.LinAlgError, ValueError):
        pass
    return riccati_iteration(A, B, R, Q, beta, N)


def evaluate_linear_policy(
    A: Array,
    B: Array,
    R: Array,
    Q: Array | float,
    F: Array,
    beta: float,
    N: Array | None = None,
) -> Array:
    """Cost-to-go matrix of the rule ``u = -Fx`` (a Lyapunov solve, docs/models/investment_lq.md §4).

    Exact in one solve, unlike iterating, whose constant-state entry converges
    only at rate beta (the nnash pitfall of docs/models/investment_oligopoly.md §4).
    """
    A, B, R, Q, F = _as2d(A), _as2d(B), _as2d(R), _as2d(Q), _as2d(F)
    N = np.zeros((B.shape[1], A.shape[0])) if N is None else _as2d(N)
    a_cl = np.sqrt(beta) * (A - B @ F)
    rho = _spectral_radius(a_cl)
    if rho >= 1.0:
        raise ValueError(
            f"rule u = -Fx gives an unbounded discounted cost: spectral radius of sqrt(beta)(A - BF) is {rho:.6g} >= 1"
        )
    stage = R + F.T @ Q @ F - F.T @ N - N.T @ F
    P = scipy.linalg.solve_discrete_lyapunov(a_cl.T, stage)
    return 0.5 * (P + P.T)


def _closed_loop_without(A: Array, Bs: Sequence[Array], Fs: Sequence[Array], i: int) -> Array:
    """``A - sum_{j != i} B_j F_j``: the dynamics player i faces."""
    out = _as2d(A).copy()
    for j, (B, F) in enumerate(zip(Bs, Fs)):
        if j != i:
            out -= _as2d(B) @ _as2d(F)
    return out


def solve_mpe(
    A: Array,
    Bs: Sequence[Array],
    Rs: Sequence[Array],
    Qs: Sequence[Array | float],
    beta: float,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> tuple[list[Array], list[Array]]:
    """Linear Markov-perfect equilibrium of an N-player LQ game (docs/models/investment_oligopoly.md §4).

    All players' first-order conditions are solved jointly each iteration, so
    the loop needs no ordering of players; the returned ``P_i`` come from a
    Lyapunov solve at the converged rules, not from the loop, whose
    constant-state entries lag.
    """
    A = _as2d(A)
    Bs = [_as2d(B) for B in Bs]
    Rs = [_as2d(R) for R in Rs]
    Qs = [_as2d(Q) for Q in Qs]
    n_players = len(Bs)
    if not (len(Rs) == len(Qs) == n_players):
        raise ValueError("Bs, Rs and Qs must have one entry per player")
    ks = [B.shape[1] for B in Bs]
    offs = np.concatenate([[0], np.cumsum(ks)])
    n, K = A.shape[0], int(offs[-1])
    B_all = np.hstack(Bs)
    Ps = [np.zeros((n, n)) for _ in range(n_players)]
    F = np.full((K, n), np.inf)  # the first solve (P = 0) gives F = 0; never stop there
    for _ in range(max_iter):
        G = np.zeros((K, K))
        H = np.zeros((K, n))
        for i in range(n_players):
            rows = slice(offs[i], offs[i + 1])
            BtP = beta * Bs[i].T @ Ps[i]
            G[rows] = BtP @ B_all
            G[rows, rows] += Qs[i]
            H[rows] = BtP @ A
        F_new = np.linalg.solve(G, H)
        Fs = [F_new[offs[i] : offs[i + 1]] for i in range(n_players)]
        a_cl = A - sum(B @ Fi for B, Fi in zip(Bs, Fs))
        Ps = [Rs[i] + Fs[i].T @ Qs[i] @ Fs[i] + beta * a_cl.T @ Ps[i] @ a_cl for i in range(n_players)]
        done = np.max(np.abs(F_new - F)) < tol
        F = F_new
        if done:
            break
    else:
        raise RuntimeError(f"MPE iteration did not converge in {max_iter} iterations")
    Fs = [F[offs[i] : offs[i + 1]].copy() for i in range(n_players)]
    Ps = [
        evaluate_linear_policy(_closed_loop_without(A, Bs, Fs, i), Bs[i], Rs[i], Qs[i], Fs[i], beta)
        for i in range(n_players)
    ]
    return Fs, Ps


def best_response(
    A: Array,
    Bs: Sequence[Array],
    Rs: Sequence[Array],
    Qs: Sequence[Array | float],
    Fs: Sequence[Array],
    i: int,
    beta: float,
) -> tuple[Array, Array]:
    """Player i's exact best response ``(F_br, P_br)`` to the others' linear rules (docs/models/investment_oligopoly.md §5)."""
    A_i = _closed_loop_without(A, Bs, Fs, i)
    P_br, F_br = solve_lq(A_i, Bs[i], Rs[i], Qs[i], beta)
    return F_br, P_br


def best_response_gain(
    A: Array,
    Bs: Sequence[Array],
    Rs: Sequence[Array],
    Qs: Sequence[Array | float],
    Fs: Sequence[Array],
    i: int,
    beta: float,
    x0: Array,
) -> float:
    """``x0'(P_pi - P_br)x0 >= 0``: what player i gains from x0 by deviating optimally.

    This is the exact per-player equilibrium gap (exploitability) of a linear profile.
    """
    x0 = np.asarray(x0, dtype=float)
    _, P_br = best_response(A, Bs, Rs, Qs, Fs, i, beta)
    P_pi = evaluate_linear_policy(_closed_loop_without(A, Bs, Fs, i), Bs[i], Rs[i], Qs[i], Fs[i], beta)
    return float(x0 @ (P_pi - P_br) @ x0)
