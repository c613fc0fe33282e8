"""Stochastic Lucas–Prescott industry against docs/models/investment_stochastic.md §2 and §4.

Grid numbers are docs/models/investment_stochastic.md §4's (independently reproduced there); the analytic
i.i.d. capital ``(a0 - delta - r/alpha)/a1`` is exact. quantecon's Tauchen is an
independent check of ours; a plain VFI written here checks the Howard-accelerated one.
"""

from __future__ import annotations

import numpy as np
import pytest
import quantecon as qe

from econbench.cards import params_from_card
from econbench.envs.investment_stochastic import solution as sol
from econbench.envs.investment_stochastic.params import StochasticParams

CARD = "InvestmentStochastic-Planner-v0"


def params(**overrides: float) -> StochasticParams:
    return params_from_card(StochasticParams, CARD, **overrides)


@pytest.fixture(scope="module")
def p() -> StochasticParams:
    return params()


@pytest.fixture(scope="module")
def s(p: StochasticParams) -> sol.StochasticSolution:
    return sol.solve_planner(p)


@pytest.mark.parametrize(
    ("n", "rho", "sigma", "m"),
    [(9, 0.9, 0.02, 3.0), (9, 0.0, 0.02, 3.0), (5, 0.5, 0.1, 2.5), (2, -0.3, 1.0, 1.0), (25, 0.98, 0.01, 4.0)],
)
def test_tauchen_matches_quantecon(n: int, rho: float, sigma: float, m: float) -> None:
    grid, P = sol.tauchen(n, rho, sigma, m)
    mc = qe.markov.tauchen(n, rho, sigma, n_std=m)
    np.testing.assert_allclose(grid, mc.state_values, atol=1e-12, rtol=0)
    np.testing.assert_allclose(P, mc.P, atol=1e-12, rtol=0)


def test_u_grid(s: sol.StochasticSolution) -> None:
    assert s.u_grid[-1] == pytest.approx(0.13765, abs=5e-6)
    assert s.u_grid[0] == pytest.approx(-0.13765, abs=5e-6)
    np.testing.assert_allclose(np.diff(s.u_grid), 0.03441, atol=5e-6)


@pytest.mark.parametrize(("n", "value"), [(200, 842.2519), (400, 842.2589), (800, 842.2605)])
def test_value_at_80(n: int, value: float) -> None:
    s = sol.solve_planner(params(k_grid_n=n))
    assert np.interp(80.0, s.k_grid, s.v[:, 4]) == pytest.approx(value, abs=1e-3)


def test_matches_plain_vfi_on_small_grid() -> None:
    """Independent check of the Howard-accelerated VFI: textbook VFI, 60 points."""
    p = params(k_grid_n=60)
    k = np.linspace(p.k_grid_min, p.k_grid_max, p.k_grid_n)
    mc = qe.markov.tauchen(p.n_shocks, p.rho, p.sigma, n_std=p.tauchen_m)
    u, P = mc.state_values, mc.P
    x = k[:, None] * ((k[None, :] / k[:, None]) ** (1 / p.alpha) - (1 - p.delta))
    s_ku = (p.a0 + u[None, :]) * k[:, None] - p.a1 * k[:, None] ** 2 / 2
    v = np.zeros((k.size, u.size))
    for _ in range(2000):  # beta^2000 ~ 1e-43
        cont = p.beta * v @ P.T  # (k', u)
        obj = s_ku[:, None, :] - x[:, :, None] + cont[None, :, :]
        obj = np.where((x >= 0)[:, :, None], obj, -np.inf)
        v = obj.max(axis=1)
    ours = sol.solve_planner(p)
    np.testing.assert_allclose(ours.v, v, atol=1e-6)
    np.testing.assert_array_equal(ours.policy_index, obj.argmax(axis=1))


def test_iid_policy_and_stationary_capital() -> None:
    p0 = params(rho=0.0)
    s0 = sol.solve_planner(p0)
    assert np.array_equal(s0.kprime, np.repeat(s0.kprime[:, :1], s0.kprime.shape[1], axis=1))
    k_num = sol.conditional_stationary_k(s0)
    assert np.ptp(k_num) == 0.0
    k_c = sol.stationary_capital_iid(p0)
    assert k_c == pytest.approx(82.857143, abs=1e-6)
    assert k_c == pytest.approx(p0.k_competitive_iid, abs=1e-12)
    assert k_num[0] == pytest.approx(82.807, abs=1e-3)
    assert abs(k_num[0] - k_c) < s0.k_grid[1] - s0.k_grid[0]


@pytest.mark.parametrize(
    ("alpha", "numeric", "analytic"),
    [(0.4, 77.454, 77.500), (0.6, 81.594, 81.667), (0.8, 83.664, 83.750), (1.0, 84.958, 85.000)],
)
def test_alpha_sweep(alpha: float, numeric: float, analytic: float) -> None:
    pa = params(rho=0.0, alpha=alpha, k_grid_min=5.0, k_grid_n=600)
    sa = sol.solve_planner(pa)
    k_num = sol.conditional_stationary_k(sa)[0]
    k_c = sol.stationary_capital_iid(pa)
    assert k_c == pytest.approx(analytic, abs=1e-3)
    assert k_num == pytest.approx(numeric, abs=1e-3)
    assert abs(k_num - k_c) < sa.k_grid[1] - sa.k_grid[0]


def test_conditional_stationary_k(s: sol.StochasticSolution) -> None:
    expected = [71.228, 74.035, 76.842, 80.000, 82.807, 85.614, 88.772, 91.579, 94.386]
    np.testing.assert_allclose(sol.conditional_stationary_k(s), expected, atol=1e-3)
    high = sol.conditional_stationary_k(s, from_above=True)
    assert np.all(high >= sol.conditional_stationary_k(s))
    assert np.all(high - sol.conditional_stationary_k(s) <= 2 * (s.k_grid[1] - s.k_grid[0]))


def test_invariant_distribution(s: sol.StochasticSolution) -> None:
    mu = sol.invariant_distribution(s)
    assert mu.shape == s.v.shape and mu.min() >= 0 and mu.sum() == pytest.approx(1.0)
    # invariance under the (k, u) chain, checked with a direct push-forward
    pushed = np.zeros_like(mu)
    for iu in range(mu.shape[1]):
        np.add.at(pushed, s.policy_index[:, iu], mu[:, [iu]] * s.P[iu][None, :])
    np.testing.assert_allclose(pushed, mu, atol=1e-12)
    mk = mu.sum(axis=1)
    mean = mk @ s.k_grid
    sd = np.sqrt(mk @ (s.k_grid - mean) ** 2)
    assert mean == pytest.approx(82.864, abs=1e-3)
    assert sd == pytest.approx(4.164, abs=1e-3)
    # the marginal of u is the chain's own stationary law
    np.testing.assert_allclose(mu.sum(axis=0), qe.MarkovChain(s.P).stationary_distributions[0], atol=1e-10)


# --- price-taking firm ---------------------------------------------------------


def _continuation(p: StochasticParams, s: sol.StochasticSolution, w: np.ndarray) -> np.ndarray:
    """c(K, u) = beta E[w(K', u') | u] with K' the planner's grid choice."""
    return p.beta * np.einsum("kuv,uv->ku", w[s.policy_index], s.P)


def test_price_taker_replicates_planner(p: StochasticParams, s: sol.StochasticSolution) -> None:
    w, z = sol.price_taker_best_response(p, s.kprime, s.k_grid, s.u_grid, s.P)
    dk = s.k_grid[1] - s.k_grid[0]
    # FOC check, and the firm's own choice of k' on the grid at k = K (docs/models/investment_stochastic.md §4):
    c = _continuation(p, s, w)
    interior = z > 0
    np.testing.assert_allclose((c * p.alpha * (1 - p.delta + z) ** (p.alpha - 1))[interior], 1.0, atol=1e-9)
    k = s.k_grid
    x = k[:, None] * ((k[None, :] / k[:, None]) ** (1 / p.alpha) - (1 - p.delta))
    obj = np.where(x >= 0, -x, -np.inf)[:, :, None] + c[:, None, :] * k[None, :, None]
    firm_idx = obj.argmax(axis=1)
    # The law is a step function of K, so the firm's linearised choice can sit up
    # to two grid steps from the planner's (one step in the first estimate).
    assert np.max(np.abs(firm_idx - s.policy_index)) <= 2
    assert np.mean(np.abs(firm_idx - s.policy_index)) < 0.5
    kprime_firm = k[:, None] * (1 - p.delta + z) ** p.alpha
    assert np.mean(np.abs(kprime_firm - s.kprime)) < dk


def test_price_taker_gain_of_planner_rate_is_grid_small(p: StochasticParams, s: sol.StochasticSolution) -> None:
    w, _ = sol.price_taker_best_response(p, s.kprime, s.k_grid, s.u_grid, s.P)
    w_pi = sol.price_taker_policy_value(p, s.kprime, s.z, s.k_grid, s.u_grid, s.P)
    gain = w - w_pi
    assert gain.min() > -1e-9  # a best response is never beaten
    mu = sol.invariant_distribution(s)
    assert (mu * gain).sum() / (mu * w).sum() < 1e-3
    ergodic = mu > 1e-8
    assert np.max(gain[ergodic] / np.abs(w[ergodic])) < 1e-3


def test_policy_value_against_plain_iteration(p: StochasticParams, s: sol.StochasticSolution) -> None:
    """Independent check of the sparse solve: iterate the policy's Bellman map."""
    z = np.full_like(s.z, p.delta)
    price = p.a0 + s.u_grid[None, :] - p.a1 * s.k_grid[:, None]
    w = np.zeros_like(price)
    for _ in range(800):  # beta^800 ~ 1e-17; growth h(delta) = 1
        w = price - z + p.beta * np.einsum("kuv,uv->ku", w[s.policy_index], s.P)
    ours = sol.price_taker_policy_value(p, s.kprime, z, s.k_grid, s.u_grid, s.P)
    np.testing.assert_allclose(ours, w, atol=1e-10)


def test_finite_horizon_best_response_converges(p: StochasticParams, s: sol.StochasticSolution) -> None:
    w, z = sol.price_taker_best_response(p, s.kprime, s.k_grid, s.u_grid, s.P)
    w_h, z_h = sol.price_taker_best_response(p, s.kprime, s.k_grid, s.u_grid, s.P, horizon=p.horizon)
    np.testing.assert_allclose(w_h, w, atol=1e-5)
    np.testing.assert_allclose(z_h, z, atol=1e-4)


def test_wrong_law_has_positive_gain(p: StochasticParams, s: sol.StochasticSolution) -> None:
    # Industry over-invests: it follows the planner's law for demand 5% above the truth.
    wrong = sol.solve_planner(params(a0=1.05 * p.a0))
    w, _ = sol.price_taker_best_response(p, wrong.kprime, s.k_grid, s.u_grid, s.P)
    w_pi = sol.price_taker_policy_value(p, wrong.kprime, wrong.z, s.k_grid, s.u_grid, s.P)
    gain = w - w_pi
    assert gain.min() > 0
    mu = sol.invariant_distribution(wrong)
    assert (mu * gain).sum() / (mu * np.abs(w)).sum() > 0.1
    # keeping capacity constant under the true law is also strictly exploitable
    w_true, _ = sol.price_taker_best_response(p, s.kprime, s.k_grid, s.u_grid, s.P)
    w_keep = sol.price_taker_policy_value(p, s.kprime, np.full_like(s.z, p.delta), s.k_grid, s.u_grid, s.P)
    assert np.all(w_true - w_keep > 0)


def test_underinvesting_law_makes_firm_value_unbounded(p: StochasticParams, s: sol.StochasticSolution) -> None:
    """If the industry never grows (K' = K), prices at low K stay far above the user
    cost and a constant-returns firm can outgrow discounting: no finite best response."""
    frozen = np.repeat(s.k_grid[:, None], s.u_grid.size, axis=1)
    with pytest.raises(ValueError, match="unbounded"):
        sol.price_taker_best_response(p, frozen, s.k_grid, s.u_grid, s.P)
    w, z = sol.price_taker_best_response(p, frozen, s.k_grid, s.u_grid, s.P, horizon=20, z_max=p.z_max)
    assert np.all(np.isfinite(w)) and z.max() <= p.z_max


def test_solve_planner_cached_and_read_only(p: StochasticParams, s: sol.StochasticSolution) -> None:
    assert sol.solve_planner(params()) is s
    with pytest.raises(ValueError):
        s.v[0, 0] = 0.0
    z_check = (s.kprime / s.k_grid[:, None]) ** (1 / p.alpha) - (1 - p.delta)
    np.testing.assert_allclose(s.z, z_check, atol=1e-12)
    assert np.all(s.z >= -1e-12)  # irreversibility
