"""Exact solution of the LQ Lucas–Prescott industry (QuantEcon "Rational Expectations Equilibrium").

The competitive equilibrium is the planner's solution (docs/models/investment_lq.md §2), so the REE
law ``Y' = kappa0 + kappa1 Y`` comes from one Riccati equation; a price-taking
firm's exact best response to any believed law is another LQ problem over
``(y, Y, 1)``, which gives the equilibrium gap of learned play in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from econbench.envs.investment_lq.params import LQParams
from econbench.lq import evaluate_linear_policy, solve_lq

Array = np.ndarray


def planner_matrices(p: LQParams) -> tuple[Array, Array, Array, Array]:
    """``(A, B, R, Q)`` for state ``(Y, 1)``, control ``Y' - Y``; reward = ``-(x'Rx + u'Qu)``."""
    A = np.eye(2)
    B = np.array([[1.0], [0.0]])
    R = np.array([[p.a1 / 2, -p.a0 / 2], [-p.a0 / 2, 0.0]])
    Q = np.array([[p.gamma / 2]])
    return A, B, R, Q


@dataclass(frozen=True)
class PlannerSolution:
    """The REE law ``Y' = kappa0 + kappa1 Y`` and the planner's cost-to-go ``P`` and rule ``F``."""

    kappa0: float
    kappa1: float
    P: Array
    F: Array

    @property
    def steady_state(self) -> float:
        return self.kappa0 / (1.0 - self.kappa1)


def solve_planner(p: LQParams) -> PlannerSolution:
    A, B, R, Q = planner_matrices(p)
    P, F = solve_lq(A, B, R, Q, p.beta)
    return PlannerSolution(kappa0=float(-F[0, 1]), kappa1=float(1.0 - F[0, 0]), P=P, F=F)


def _quad(P: Array, Y0: float | Array) -> Array:
    """``x'Px`` at ``x = (Y0, 1)``, vectorised over Y0."""
    Y = np.asarray(Y0, dtype=float)
    return P[0, 0] * Y**2 + 2 * P[0, 1] * Y + P[1, 1]


def planner_value(p: LQParams, Y0: float | Array) -> Array:
    """Infinite-horizon optimal discounted surplus ``V*(Y0) = -x'Px``."""
    return -_quad(solve_planner(p).P, Y0)


def kappa1_closed_form(p: LQParams) -> float:
    """Stable root of ``beta gamma z^2 - (beta a1 + gamma(1+beta)) z + gamma = 0``.

    An Euler-equation answer independent of any Riccati solver; the roots are
    ``z`` and ``1/(beta z)``, so the smaller one is the stable one.
    """
    roots = np.roots([p.beta * p.gamma, -(p.beta * p.a1 + p.gamma * (1 + p.beta)), p.gamma])
    return float(np.min(np.abs(roots)))


def _firm_matrices(p: LQParams, kappa0: float, kappa1: float) -> tuple[Array, Array, Array, Array]:
    """Firm's LQ over ``(y, Y, 1)`` believing ``Y' = kappa0 + kappa1 Y``; control ``y' - y``."""
    A = np.array([[1.0, 0.0, 0.0], [0.0, kappa1, kappa0], [0.0, 0.0, 1.0]])
    B = np.array([[1.0], [0.0], [0.0]])
    R = np.array([[0.0, p.a1 / 2, -p.a0 / 2], [p.a1 / 2, 0.0, 0.0], [-p.a0 / 2, 0.0, 0.0]])
    Q = np.array([[p.gamma / 2]])
    return A, B, R, Q


def _rule_to_F(h: tuple[float, float, float]) -> Array:
    """``y' = h0 + h1 y + h2 Y`` as ``u = y' - y = -F (y, Y, 1)``."""
    h0, h1, h2 = h
    return np.array([[1.0 - h1, -h2, -h0]])


def firm_best_response(p: LQParams, kappa0: float, kappa1: float) -> tuple[float, float, float]:
    """``(h0, h1, h2)`` of the optimal rule ``y' = h0 + h1 y + h2 Y`` under a believed law."""
    _, F = solve_lq(*_firm_matrices(p, kappa0, kappa1), p.beta)
    return float(-F[0, 2]), float(1.0 - F[0, 0]), float(-F[0, 1])


def is_ree(p: LQParams, kappa0: float, kappa1: float, tol: float = 1e-6) -> bool:
    """Whether the believed law is self-confirming: ``h(Y, Y) = kappa0 + kappa1 Y``.

    Relative tolerance, because kappa0 is of order 100 while kappa1 is of order 1.
    """
    h0, h1, h2 = firm_best_response(p, kappa0, kappa1)
    return bool(
        abs(h0 - kappa0) <= tol * max(1.0, abs(kappa0)) and abs(h1 + h2 - kappa1) <= tol * max(1.0, abs(kappa1))
    )


def monopoly_law(p: LQParams) -> tuple[float, float]:
    """``(m0, m1)`` of a monopolist's law ``Y' = m0 + m1 Y`` (revenue ``(a0 - a1 Y) Y``)."""
    A, B, _, Q = planner_matrices(p)
    R = np.array([[p.a1, -p.a0 / 2], [-p.a0 / 2, 0.0]])
    _, F = solve_lq(A, B, R, Q, p.beta)
    return float(-F[0, 1]), float(1.0 - F[0, 0])


def firm_value(
    p: LQParams,
    kappa0: float,
    kappa1: float,
    h: tuple[float, float, float],
    y0: float,
    Y0: float,
) -> float:
    """Discounted profit of a measure-zero firm following ``y' = h0 + h1 y + h2 Y``
    while the industry follows ``Y' = kappa0 + kappa1 Y``."""
    A, B, R, Q = _firm_matrices(p, kappa0, kappa1)
    P = evaluate_linear_policy(A, B, R, Q, _rule_to_F(h), p.beta)
    x0 = np.array([y0, Y0, 1.0])
    return float(-x0 @ P @ x0)


def price_taker_gain(
    p: LQParams,
    kappa0: float,
    kappa1: float,
    h: tuple[float, float, float],
    y0: float,
    Y0: float,
) -> float:
    """``V_BR - V_pi`` at ``(y0, Y0)``: the exact gain of a price-taking firm from
    switching from rule ``h`` to its LQ best response to the industry law."""
    best = firm_best_response(p, kappa0, kappa1)
    return firm_value(p, kappa0, kappa1, best, y0, Y0) - firm_value(p, kappa0, kappa1, h, y0, Y0)


def planner_value_of_law(p: LQParams, kappa0: float, kappa1: float, Y0: float | Array) -> Array:
    """Discounted surplus from ``Y0`` when the industry follows ``Y' = kappa0 + kappa1 Y``."""
    A, B, R, Q = planner_matrices(p)
    F = np.array([[1.0 - kappa1, -kappa0]])
    return -_quad(evaluate_linear_policy(A, B, R, Q, F, p.beta), Y0)


def summary(p: LQParams) -> dict[str, object]:
    """What ``econbench solve`` prints: the REE law, the firm rule, values, the monopoly benchmark."""
    sol = solve_planner(p)
    h = firm_best_response(p, sol.kappa0, sol.kappa1)
    ys = [p.y0_low, 0.5 * (p.y0_low + p.y0_high), p.steady_state]
    return {
        "REE law of motion Y' = kappa0 + kappa1 Y": (sol.kappa0, sol.kappa1),
        "closed-form kappa1 (stable root)": kappa1_closed_form(p),
        "firm rule y' = h0 + h1 y + h2 Y": h,
        "steady state a0/a1": p.steady_state,
        **{f"V*(Y={y:g}) (infinite horizon)": float(planner_value(p, y)) for y in ys},
        "monopoly law (m0, m1)": monopoly_law(p),
    }
