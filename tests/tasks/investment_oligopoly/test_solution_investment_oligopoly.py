"""N-firm dynamic Cournot MPE against docs/models/investment_oligopoly.md §4-§5.

Reference numbers are docs/models/investment_oligopoly.md §4's; quantecon.nnash is an independent check of
the duopoly rules F (never of its P, whose constant entry is unconverged).
"""

from __future__ import annotations

import numpy as np
import pytest
import quantecon as qe

from econbench import lq
from econbench.cards import params_from_card
from econbench.envs.investment_oligopoly import solution as sol
from econbench.envs.investment_oligopoly.params import OligopolyParams

X0 = np.array([1.0, 1.0, 1.0])


def params(n: int) -> OligopolyParams:
    return params_from_card(OligopolyParams, "InvestmentOligopoly-v0", n_firms=n)


@pytest.fixture(scope="module")
def duo() -> OligopolyParams:
    return params(2)


def test_duopoly_rules_match_spec(duo: OligopolyParams) -> None:
    F = sol.solve_mpe(duo).F
    np.testing.assert_allclose(F[0], [-0.66846615, 0.29512482, 0.07584666], atol=3e-8)
    np.testing.assert_allclose(F[1], [-0.66846615, 0.07584666, 0.29512482], atol=3e-8)


def test_duopoly_rules_match_nnash(duo: OligopolyParams) -> None:
    A, Bs, Rs, Qs = sol.game_matrices(duo)
    z = np.zeros((3, 1))
    zq = np.zeros((1, 1))
    F1, F2, _, _ = qe.nnash(
        A,
        Bs[0],
        Bs[1],
        Rs[0],
        Rs[1],
        Qs[0],
        Qs[1],
        zq,
        zq,
        z,
        z,
        zq,
        zq,
        beta=duo.beta,
        tol=1e-12,
        max_iter=10_000,
    )
    F = sol.solve_mpe(duo).F
    np.testing.assert_allclose(F[0], F1[0], atol=1e-8)
    np.testing.assert_allclose(F[1], F2[0], atol=1e-8)


def test_duopoly_closed_loop_and_steady_state(duo: OligopolyParams) -> None:
    M = sol.closed_loop(duo, sol.solve_mpe(duo).F)
    np.testing.assert_allclose(M[1], [0.66846615, 0.70487518, -0.07584666], atol=3e-8)
    np.testing.assert_allclose(M[2], [0.66846615, -0.07584666, 0.70487518], atol=3e-8)
    q = sol.steady_state(duo, sol.solve_mpe(duo).F)
    np.testing.assert_allclose(q, [1.801934, 1.801934], atol=1e-6)
    Q = q.sum()
    assert Q == pytest.approx(3.603868, abs=1e-6)
    assert duo.a0 - duo.a1 * Q == pytest.approx(2.792264, abs=1e-6)
    assert sol.solve_mpe(duo).steady_state_output == pytest.approx(3.603868, abs=1e-6)


def test_duopoly_output_path(duo: OligopolyParams) -> None:
    M = sol.closed_loop(duo, sol.solve_mpe(duo).F)
    x = X0.copy()
    path = []
    for _ in range(20):
        path.append(x[1:].sum())
        x = M @ x
    np.testing.assert_allclose(path[:5], [2.0, 2.5950, 2.9693, 3.2047, 3.3528], atol=5e-5)
    assert path[19] == pytest.approx(3.6036, abs=5e-5)


def test_duopoly_values_by_lyapunov(duo: OligopolyParams) -> None:
    s = sol.solve_mpe(duo)
    np.testing.assert_allclose(sol.firm_values(duo, s.F, X0), [128.865037] * 2, atol=1e-6)
    np.testing.assert_allclose([-X0 @ P @ X0 for P in s.P], [128.865037] * 2, atol=1e-6)


def test_duopoly_values_against_direct_sum(duo: OligopolyParams) -> None:
    """Independent check: discounted profit along the closed-loop path."""
    F = sol.solve_mpe(duo).F
    M = sol.closed_loop(duo, F)
    x, total = X0.copy(), 0.0
    for t in range(1000):  # 0.96^1000 ~ 2e-18
        q = x[1:]
        u = -F[0] @ x
        total += duo.beta**t * ((duo.a0 - duo.a1 * q.sum()) * q[0] - duo.gamma * u**2)
        x = M @ x
    assert sol.firm_values(duo, F, X0)[0] == pytest.approx(total, rel=1e-10)


# F own, F const, F cross, MPE steady-state Q, static Cournot Q (docs/models/investment_oligopoly.md §4)
A4_TABLE = {
    1: (0.31716143, -0.79290356, None, 2.500000, 2.500),
    2: (0.29512482, -0.66846613, 0.07584666, 3.603868, 3.333),
    3: (0.27737604, -0.56858949, 0.06861889, 4.114114, 3.750),
    4: (0.26303852, -0.49408156, 0.06262181, 4.383032, 4.000),
    5: (0.25126088, -0.43756216, 0.05762693, 4.541207, 4.167),
    10: (0.21400711, -0.28396527, 0.04161957, 4.824556, 4.545),
    20: (0.18092822, -0.17277515, 0.02734791, 4.932638, 4.762),
    50: (0.14949631, -0.08261443, 0.01387887, 4.979407, 4.902),
}
# MPE aggregate law (c0, c1) and CE law (kappa0, kappa1) where docs/models/investment_oligopoly.md §4 gives them
A4_LAWS = {
    1: ((0.792904, 0.682839), (1.164317, 0.767137)),
    2: ((1.336932, 0.629029), (1.585807, 0.682839)),
    4: ((1.976326, 0.549096), (2.097667, 0.580467)),
    10: ((2.839653, 0.411417), (2.873971, 0.425206)),
    50: ((4.130722, 0.170439), (4.137086, 0.172583)),
}


@pytest.mark.parametrize("n", sorted(A4_TABLE))
def test_a4_table(n: int) -> None:
    p = params(n)
    own, const, cross, q_ss, cournot = A4_TABLE[n]
    s = sol.solve_mpe(p)
    assert s.F.shape == (n, n + 1) and s.P.shape == (n, n + 1, n + 1)
    for i in range(n):  # symmetric equilibrium: every firm's row is a permutation
        assert s.F[i, 0] == pytest.approx(const, abs=2e-8)
        assert s.F[i, 1 + i] == pytest.approx(own, abs=2e-8)
        others = np.delete(s.F[i, 1:], i)
        if cross is not None:
            np.testing.assert_allclose(others, cross, atol=2e-8)
    assert s.steady_state_output == pytest.approx(q_ss, abs=1e-6)
    assert sol.static_cournot_output(p) == pytest.approx(cournot, abs=5e-4)
    kappa0, kappa1 = sol.competitive_law(p)
    assert kappa0 / (1 - kappa1) == pytest.approx(p.a0 / p.a1, rel=1e-9)  # CE steady state 5
    if n in A4_LAWS:
        (c0, c1), (k0, k1) = A4_LAWS[n]
        assert s.c0 == pytest.approx(c0, abs=1e-6)
        assert s.c1 == pytest.approx(c1, abs=1e-6)
        assert s.c0 / (1 - s.c1) == pytest.approx(q_ss, abs=1e-6)
        assert kappa0 == pytest.approx(k0, abs=1e-6)
        assert kappa1 == pytest.approx(k1, abs=1e-6)


def test_monopoly_persistence_equals_duopoly_ce_persistence() -> None:
    mono = sol.solve_mpe(params(1))
    _, k1 = sol.competitive_law(params(2))
    assert mono.c1 == pytest.approx(0.682839, abs=1e-6)
    assert mono.c1 == pytest.approx(k1, abs=1e-9)


def test_half_mpe_deviation_gain(duo: OligopolyParams) -> None:
    F = np.array(sol.solve_mpe(duo).F)
    F[0] *= 0.5
    g = sol.best_response_gains(duo, F, X0)
    v = sol.firm_values(duo, F, X0)
    assert g[0] == pytest.approx(0.962134, abs=1e-6)
    assert v[0] == pytest.approx(127.902903, abs=1e-6)
    assert v[0] + g[0] == pytest.approx(128.865037, abs=1e-6)  # V_BR: MPE row is the BR
    assert g[1] > 0  # firm 2's MPE rule is no longer a best response to 0.5 F_1


@pytest.mark.parametrize("n", [2, 10])
def test_gains_vanish_at_mpe(n: int) -> None:
    p = params(n)
    s = sol.solve_mpe(p)
    x0 = np.concatenate([[1.0], np.linspace(0.5, 1.5, n)])  # asymmetric start
    g = sol.best_response_gains(p, s.F, x0)
    v = sol.firm_values(p, s.F, x0)
    assert g.shape == (n,)
    assert np.max(np.abs(g) / np.abs(v)) < 1e-9


def test_solve_mpe_is_cached_and_read_only(duo: OligopolyParams) -> None:
    s = sol.solve_mpe(duo)
    assert sol.solve_mpe(params(2)) is s
    with pytest.raises(ValueError):
        s.F[0, 0] = 0.0


def test_lq_best_response_to_mpe_is_mpe_row(duo: OligopolyParams) -> None:
    """The lecture's own check: firm 1's LQ best response to F_2 is F_1."""
    A, Bs, Rs, Qs = sol.game_matrices(duo)
    s = sol.solve_mpe(duo)
    F_br, P_br = lq.best_response(A, Bs, Rs, Qs, [s.F[0:1], s.F[1:2]], 0, duo.beta)
    np.testing.assert_allclose(F_br, s.F[0:1], atol=1e-10)
    np.testing.assert_allclose(P_br, s.P[0], rtol=1e-9, atol=1e-9)


def test_lq_solve_mpe_reports_non_convergence(duo: OligopolyParams) -> None:
    A, Bs, Rs, Qs = sol.game_matrices(duo)
    with pytest.raises(RuntimeError, match="did not converge"):
        lq.solve_mpe(A, Bs, Rs, Qs, duo.beta, max_iter=5)
