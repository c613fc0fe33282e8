"""Exact solution of the N-firm dynamic Cournot game (QuantEcon "Markov Perfect Equilibrium", docs/models/investment_oligopoly.md §4).

The Markov-perfect equilibrium is a profile of linear rules ``u_i = -F_i x``
with ``x = (1, q_1, ..., q_N)``; because every ingredient is LQ, firm values and
best-response gains of *any* linear profile are exact Lyapunov/Riccati solves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from econbench import lq
from econbench.envs.investment_oligopoly.params import OligopolyParams

Array = np.ndarray


def game_matrices(p: OligopolyParams) -> tuple[Array, list[Array], list[Array], list[Array]]:
    """``(A, Bs, Rs, Qs)`` of the game; ``x'R_i x + gamma u_i^2`` is minus firm i's profit."""
    n = p.n_firms
    A = np.eye(n + 1)
    Bs, Rs, Qs = [], [], []
    for i in range(1, n + 1):
        B = np.zeros((n + 1, 1))
        B[i, 0] = 1.0
        R = np.zeros((n + 1, n + 1))
        R[0, i] = R[i, 0] = -p.a0 / 2
        R[i, 1:] = R[1:, i] = p.a1 / 2
        R[i, i] = p.a1
        Bs.append(B)
        Rs.append(R)
        Qs.append(np.array([[p.gamma]]))
    return A, Bs, Rs, Qs


@dataclass(frozen=True)
class MPESolution:
    """MPE rules ``F`` (N, N+1), firm cost-to-go ``P`` (N, N+1, N+1), and the
    aggregate law ``Q' = c0 + c1 Q`` valid from symmetric states."""

    F: Array
    P: Array
    c0: float
    c1: float
    steady_state_output: float


def _readonly(a: Array) -> Array:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def closed_loop(p: OligopolyParams, F: Array) -> Array:
    """``A - sum_j B_j F_j``: the state transition under the profile F."""
    A, Bs, _, _ = game_matrices(p)
    return A - sum(B @ np.atleast_2d(Fi) for B, Fi in zip(Bs, np.asarray(F)))


def steady_state(p: OligopolyParams, F: Array) -> Array:
    """Rest point ``(q_1, ..., q_N)`` of the closed loop under F (the constant state is 1)."""
    M = closed_loop(p, F)
    n = p.n_firms
    return np.linalg.solve(np.eye(n) - M[1:, 1:], M[1:, 0])


@functools.lru_cache(maxsize=64)
def solve_mpe(p: OligopolyParams) -> MPESolution:
    """Cached per params (frozen, hashable); arrays are read-only because they are shared."""
    A, Bs, Rs, Qs = game_matrices(p)
    Fs, Ps = lq.solve_mpe(A, Bs, Rs, Qs, p.beta)
    F = np.vstack(Fs)
    n = p.n_firms
    c0 = float(-F[:, 0].sum())
    c1 = float(1.0 - F[:, 1:].sum() / n)
    return MPESolution(
        F=_readonly(F),
        P=_readonly(np.stack(Ps)),
        c0=c0,
        c1=c1,
        steady_state_output=float(steady_state(p, F).sum()),
    )


def competitive_law(p: OligopolyParams) -> tuple[float, float]:
    """``(kappa0, kappa1)`` of the price-taking REE with N firms.

    It is the planner's law for surplus ``a0 Q - a1 Q^2/2 - (gamma/N)(Q'-Q)^2``:
    N firms each adjusting ``(Q'-Q)/N`` at cost ``gamma ((Q'-Q)/N)^2``.
    """
    A = np.eye(2)
    B = np.array([[1.0], [0.0]])
    R = np.array([[p.a1 / 2, -p.a0 / 2], [-p.a0 / 2, 0.0]])
    Q = np.array([[p.gamma / p.n_firms]])
    _, F = lq.solve_lq(A, B, R, Q, p.beta)
    return float(-F[0, 1]), float(1.0 - F[0, 0])


def firm_values(p: OligopolyParams, F: Array, x0: Array) -> Array:
    """Each firm's exact discounted profit ``-x0'P_i x0`` under the linear profile F (N, N+1)."""
    A, Bs, Rs, Qs = game_matrices(p)
    F = np.asarray(F, dtype=float)
    Fs = [F[i : i + 1] for i in range(p.n_firms)]
    x0 = np.asarray(x0, dtype=float)
    out = np.empty(p.n_firms)
    for i in range(p.n_firms):
        A_i = A - sum(Bs[j] @ Fs[j] for j in range(p.n_firms) if j != i)
        P_i = lq.evaluate_linear_policy(A_i, Bs[i], Rs[i], Qs[i], Fs[i], p.beta)
        out[i] = -x0 @ P_i @ x0
    return out


def best_response_gains(p: OligopolyParams, F: Array, x0: Array) -> Array:
    """Each firm's exact gain from its LQ best response to the others' rows of F."""
    A, Bs, Rs, Qs = game_matrices(p)
    F = np.asarray(F, dtype=float)
    Fs = [F[i : i + 1] for i in range(p.n_firms)]
    return np.array([lq.best_response_gain(A, Bs, Rs, Qs, Fs, i, p.beta, x0) for i in range(p.n_firms)])


def static_cournot_output(p: OligopolyParams) -> float:
    """Total output of the static N-firm Cournot game, ``N a0 / (a1 (N+1))``."""
    return p.n_firms * p.a0 / (p.a1 * (p.n_firms + 1))


def summary(p: OligopolyParams) -> dict[str, object]:
    """What ``econbench solve`` prints: MPE rules, aggregate law, steady states against CE and Cournot."""
    sol = solve_mpe(p)
    row = sol.F[0]
    x0 = np.concatenate([[1.0], np.full(p.n_firms, p.cournot_output)])
    return {
        "MPE rule of firm 0, u = -F x, x = (1, q_1..q_N): F const, own, cross": (
            float(row[0]),
            float(row[1]),
            float(row[2]) if p.n_firms > 1 else 0.0,
        ),
        "MPE aggregate law Q' = c0 + c1 Q": (sol.c0, sol.c1),
        "MPE steady-state industry output": sol.steady_state_output,
        "competitive (price-taking) law (kappa0, kappa1)": competitive_law(p),
        "competitive steady-state output a0/a1": p.a0 / p.a1,
        "static Cournot output": static_cournot_output(p),
        "firm value at the static Cournot start": float(firm_values(p, sol.F, x0)[0]),
    }
