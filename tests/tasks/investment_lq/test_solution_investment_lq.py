"""Exact LQ Lucas–Prescott industry against docs/models/investment_lq.md §4-§5.

Reference numbers are docs/models/investment_lq.md §5's (QuantEcon "Rational Expectations Equilibrium",
reproduced there with quantecon 0.11.4); quantecon is used here only as an
independent cross-check of the generic LQ machinery.
"""

from __future__ import annotations

import numpy as np
import pytest
import quantecon as qe

from econbench import lq
from econbench.cards import params_from_card
from econbench.envs.investment_lq import solution as sol
from econbench.envs.investment_lq.params import LQParams

CAND1 = (94.0886298678, 0.923409232937)  # Ex.2 (i), not an REE
CAND2 = (93.2119845412, 0.984323478873)  # Ex.2 (ii), not an REE
CAND3 = (95.0818452486, 0.952459076301)  # Ex.2 (iii), the REE to 7 digits


@pytest.fixture(scope="module")
def p() -> LQParams:
    return params_from_card(LQParams, "InvestmentLQ-Planner-v0")


# --- generic machinery (econbench.lq) ------------------------------------------


def test_solve_lq_matches_plain_riccati_iteration(p: LQParams) -> None:
    A, B, R, Q = sol.planner_matrices(p)
    P, F = lq.solve_lq(A, B, R, Q, p.beta)
    P_it, F_it = lq.riccati_iteration(A, B, R, Q, p.beta)
    np.testing.assert_allclose(F, F_it, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(P, P_it, rtol=1e-9)


def test_solve_lq_matches_quantecon_with_cross_term() -> None:
    rng = np.random.default_rng(0)
    A = np.eye(3) + 0.1 * rng.standard_normal((3, 3))
    B = rng.standard_normal((3, 2))
    R = np.diag([1.0, 2.0, 0.5])
    Q = np.array([[1.0, 0.2], [0.2, 2.0]])
    N = 0.1 * rng.standard_normal((2, 3))
    P, F = lq.solve_lq(A, B, R, Q, 0.9, N=N)
    P_qe, F_qe, _ = qe.LQ(Q, R, A, B, N=N, beta=0.9).stationary_values()
    np.testing.assert_allclose(F, F_qe, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(P, P_qe, rtol=1e-8, atol=1e-10)
    # the optimal rule's Lyapunov value is the Riccati matrix (cross term included)
    np.testing.assert_allclose(lq.evaluate_linear_policy(A, B, R, Q, F, 0.9, N=N), P, rtol=1e-9)


def test_evaluate_linear_policy_rejects_explosive_rule(p: LQParams) -> None:
    A, B, R, Q = sol.planner_matrices(p)
    with pytest.raises(ValueError, match="spectral radius"):
        # Y' = 1.1 Y: sqrt(0.95) * 1.1 > 1
        lq.evaluate_linear_policy(A, B, R, Q, np.array([[-0.1, 0.0]]), p.beta)


# --- planner / REE --------------------------------------------------------------


def test_planner_law(p: LQParams) -> None:
    s = sol.solve_planner(p)
    assert s.kappa0 == pytest.approx(95.0818745921, abs=1e-6)
    assert s.kappa1 == pytest.approx(0.9524590627, abs=1e-9)
    assert s.steady_state == pytest.approx(2000.0, rel=1e-9)


def test_kappa1_closed_form(p: LQParams) -> None:
    k1 = sol.kappa1_closed_form(p)
    assert k1 == pytest.approx(0.95245906, abs=5e-9)
    s = sol.solve_planner(p)
    assert s.kappa1 == pytest.approx(k1, abs=1e-10)
    assert s.kappa0 == pytest.approx((1 - k1) * p.a0 / p.a1, rel=1e-9)


def test_planner_value_and_P(p: LQParams) -> None:
    s = sol.solve_planner(p)
    np.testing.assert_allclose(s.P, [[0.26270469, -525.40937], [-525.40937, -949181.254]], rtol=2e-8)
    v = sol.planner_value(p, np.array([1000.0, 1500.0, 2000.0]))
    np.testing.assert_allclose(v[:2], [1_737_295.31, 1_934_323.83], atol=0.006)
    assert v[2] == pytest.approx(100_000 / (1 - p.beta), rel=1e-10)  # 2,000,000
    assert float(sol.planner_value(p, 2000.0)) == pytest.approx(2_000_000.0, rel=1e-10)


def test_planner_value_against_direct_sum(p: LQParams) -> None:
    """Independent check: sum the discounted surplus along the REE path."""
    s = sol.solve_planner(p)
    Y, total = 1500.0, 0.0
    for t in range(1200):  # 0.95^1200 ~ 1e-27
        Y_next = s.kappa0 + s.kappa1 * Y
        total += p.beta**t * (p.a0 * Y - p.a1 * Y**2 / 2 - p.gamma / 2 * (Y_next - Y) ** 2)
        Y = Y_next
    assert float(sol.planner_value(p, 1500.0)) == pytest.approx(total, rel=1e-10)


# --- price-taking firm ------------------------------------------------------------


def test_ex1_firm_rule(p: LQParams) -> None:
    h = sol.firm_best_response(p, 95.5, 0.95)
    np.testing.assert_allclose(h, (96.94871795, 1.0, -0.04628205), atol=5e-9)


def test_firm_rule_matches_quantecon_lq(p: LQParams) -> None:
    k0, k1 = 95.5, 0.95
    A = np.array([[1, 0, 0], [0, k1, k0], [0, 0, 1.0]])
    B = np.array([[1.0], [0], [0]])
    R = np.array([[0, p.a1 / 2, -p.a0 / 2], [p.a1 / 2, 0, 0], [-p.a0 / 2, 0, 0]])
    _, F, _ = qe.LQ(p.gamma / 2, R, A, B, beta=p.beta).stationary_values()
    h = sol.firm_best_response(p, k0, k1)
    np.testing.assert_allclose(h, (-F[0, 2], 1 - F[0, 0], -F[0, 1]), atol=1e-8)


def test_ex2_candidates(p: LQParams) -> None:
    np.testing.assert_allclose(sol.firm_best_response(p, *CAND1), (117.18858, 1.0, -0.03572947), atol=5e-6)
    np.testing.assert_allclose(sol.firm_best_response(p, *CAND2), (53.54183, 1.0, -0.07205028), atol=5e-6)
    np.testing.assert_allclose(sol.firm_best_response(p, *CAND3), (95.08189100, 1.0, -0.04754094), atol=5e-8)
    assert not sol.is_ree(p, *CAND1)
    assert not sol.is_ree(p, *CAND2)
    s = sol.solve_planner(p)
    assert sol.is_ree(p, s.kappa0, s.kappa1)
    # the candidate is off in the 7th digit of kappa0 (docs/models/investment_lq.md §5): REE only at a loose tolerance
    assert sol.is_ree(p, *CAND3, tol=1e-6)
    assert not sol.is_ree(p, *CAND3, tol=1e-8)


def test_monopoly_law(p: LQParams) -> None:
    m0, m1 = sol.monopoly_law(p)
    assert m0 == pytest.approx(73.4729440350, abs=1e-8)
    assert m1 == pytest.approx(0.9265270560, abs=1e-10)
    assert m0 / (1 - m1) == pytest.approx(1000.0, rel=1e-9)


@pytest.mark.parametrize(
    ("law", "gain", "rel"),
    [(CAND1, 606_724, 0.41), (CAND2, 3_522_236, 2.9)],
)
def test_best_response_gain_wrong_laws(p: LQParams, law: tuple[float, float], gain: float, rel: float) -> None:
    k0, k1 = law
    g = sol.price_taker_gain(p, k0, k1, (k0, k1, 0.0), 1500.0, 1500.0)
    assert abs(g - gain) < 1.0
    v_pi = sol.firm_value(p, k0, k1, (k0, k1, 0.0), 1500.0, 1500.0)
    v_br = sol.firm_value(p, k0, k1, sol.firm_best_response(p, k0, k1), 1500.0, 1500.0)
    assert v_br - v_pi == pytest.approx(g, rel=1e-8)
    assert g / abs(v_br) == pytest.approx(rel, abs=0.005 if rel < 1 else 0.05)


def test_best_response_gain_at_ree_is_zero(p: LQParams) -> None:
    s = sol.solve_planner(p)
    h = (s.kappa0, s.kappa1, 0.0)
    g = sol.price_taker_gain(p, s.kappa0, s.kappa1, h, 1500.0, 1500.0)
    v = sol.firm_value(p, s.kappa0, s.kappa1, h, 1500.0, 1500.0)
    assert abs(g) / abs(v) < 1e-9


def test_firm_value_against_direct_sum(p: LQParams) -> None:
    """Independent check of the Lyapunov value: simulate the firm copying a wrong law."""
    k0, k1 = CAND1
    y = Y = 1500.0
    total = 0.0
    for t in range(1500):
        y_next = k0 + k1 * y
        total += p.beta**t * ((p.a0 - p.a1 * Y) * y - p.gamma / 2 * (y_next - y) ** 2)
        y, Y = y_next, k0 + k1 * Y
    assert sol.firm_value(p, k0, k1, (k0, k1, 0.0), 1500.0, 1500.0) == pytest.approx(total, rel=1e-10)


def test_planner_wrong_law_gaps(p: LQParams) -> None:
    v_star = float(sol.planner_value(p, 1500.0))
    gaps = [(v_star - float(sol.planner_value_of_law(p, *law, 1500.0))) / abs(v_star) for law in (CAND1, CAND2)]
    assert gaps[0] == pytest.approx(0.0867, abs=5e-5)
    assert gaps[1] == pytest.approx(0.372, abs=5e-4)
    s = sol.solve_planner(p)
    assert float(sol.planner_value_of_law(p, s.kappa0, s.kappa1, 1500.0)) == pytest.approx(v_star, rel=1e-12)
