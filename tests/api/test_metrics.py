"""Evaluation protocol, optimality gaps and equilibrium gaps against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.envs.investment_lq import solution as lq_sol
from econbench.envs.investment_oligopoly import solution as olig_sol
from econbench.metrics import bootstrap_ci, equilibrium_gap, evaluate, iqm, optimality_gap
from econbench.metrics.evaluate import rollout
from econbench.registry import make_task


def test_common_random_numbers_across_policies() -> None:
    task = make_task("InvestmentStochastic-Planner-v0")
    a = rollout(task, task.policy("exact"), 8, seed=5, record=True)
    b = rollout(task, task.policy("maintain"), 8, seed=5, record=True)
    np.testing.assert_array_equal(a.obs["planner"][0], b.obs["planner"][0])  # same initial states
    np.testing.assert_array_equal(a.obs["planner"][:, :, 0, 1], b.obs["planner"][:, :, 0, 1])  # same shocks


def test_evaluate_follows_the_card_protocol() -> None:
    res = evaluate("InvestmentLQ-Planner-v0", "exact")
    card = make_task("InvestmentLQ-Planner-v0").card["protocol"]
    assert res.scores.shape == (len(card["eval_seeds"]), card["episodes_per_seed"])
    lo, hi = res.ci
    assert lo < res.mean < hi
    assert evaluate("InvestmentLQ-Planner-v0", "exact").mean == res.mean


def test_optimality_gap_of_a_wrong_linear_law_matches_the_closed_form() -> None:
    """A planner that adjusts only 90% as much as the REE follows the law (0.9 k0, 1 + 0.9 (k1 - 1))."""
    task = make_task("InvestmentLQ-Planner-v0")
    p = task.params
    sol = lq_sol.solve_planner(p)
    k0, k1 = 0.9 * sol.kappa0, 1.0 + 0.9 * (sol.kappa1 - 1.0)

    def sluggish(obs: np.ndarray) -> np.ndarray:
        return k0 + (k1 - 1.0) * obs

    gap = optimality_gap(task, sluggish)
    y0 = np.concatenate(
        [
            rollout(task, task.policy("exact"), 64, s, record=True).obs["planner"][0, :, 0, 0]
            for s in task.card["protocol"]["eval_seeds"]
        ]
    )
    v_star = lq_sol.planner_value(p, y0)
    v_pi = lq_sol.planner_value_of_law(p, k0, k1, y0)
    expected = float(np.mean((v_star - v_pi) / np.abs(v_star)))
    assert gap.raw == pytest.approx(expected, rel=1e-4)
    assert 0 < gap.normalized < 1
    assert gap.normalized_ci[0] < gap.normalized < gap.normalized_ci[1]


def test_optimality_gap_ends() -> None:
    assert optimality_gap("InvestmentOligopoly-Firm-v0", "exact").normalized == 0.0
    assert optimality_gap("InvestmentOligopoly-Firm-v0", "reference").normalized == pytest.approx(1.0)
    with pytest.raises(ValueError, match="multi-agent"):
        optimality_gap("InvestmentLQ-v0", "exact")


def test_lq_market_gap_is_zero_at_the_ree_and_matches_the_closed_form_for_freeze() -> None:
    task = make_task("InvestmentLQ-v0", n_firms=3)
    p = task.params
    (ree,) = equilibrium_gap(task, "exact", seeds=[0], episodes=8)
    assert ree.method.startswith("exact") and abs(ree.relative) < 1e-9
    (frz,) = equilibrium_gap(task, "freeze", seeds=[0], episodes=8)
    assert frz.method.startswith("exact")
    first = rollout(task, task.policy("freeze"), 8, 0, record=True).obs["firms"][0]
    # the industry keeps Y constant (law (0, 1)); each firm copies it: rule h = (0, 1, 0)
    expected = np.array(
        [[lq_sol.price_taker_gain(p, 0.0, 1.0, (0.0, 1.0, 0.0), y, Y) for y, Y in row] for row in first]
    )
    np.testing.assert_allclose(frz.gains, expected, rtol=1e-4)


def test_oligopoly_gap_matches_lyapunov_for_a_linear_deviation() -> None:
    """Firm 0 plays half its MPE rule (docs/models/investment_oligopoly.md §5's example), firm 1 the MPE: exact per-episode gains."""
    task = make_task("InvestmentOligopoly-v0")
    p = task.params
    F = np.array(olig_sol.solve_mpe(p).F)
    F[0] *= 0.5
    mpe = task.policy("exact")["firms"]

    def profile(obs: np.ndarray) -> np.ndarray:
        x = np.concatenate([np.ones(obs.shape[:1] + (1,)), obs[:, :, 0]], axis=1)
        return np.clip(-(x @ F.T), -p.u_max, p.u_max)[..., None]

    (gap,) = equilibrium_gap(task, {"firms": profile}, seeds=[3], episodes=6)
    assert gap.method.startswith("exact")
    first = rollout(task, {"firms": mpe}, 6, 3, record=True).obs["firms"][0]
    x0s = np.concatenate([np.ones((6, 1)), first[:, :, 0]], axis=1)
    expected = np.stack([olig_sol.best_response_gains(p, F, x0) for x0 in x0s])
    np.testing.assert_allclose(gap.gains, expected, rtol=1e-5, atol=1e-9)
    assert gap.gains[:, 0].min() > 0 and gap.epsilon == pytest.approx(expected.mean(axis=0).max(), rel=1e-5)


def test_nonlinear_profiles_get_a_lower_bound() -> None:
    task = make_task("InvestmentOligopoly-v0")
    mpe = task.policy("exact")["firms"]
    (gap,) = equilibrium_gap(
        task, {"firms": lambda o: np.clip(mpe(o) + 0.05 * np.sin(3 * o[..., :1]), -1, 1)}, seeds=[0], episodes=4
    )
    assert gap.is_lower_bound and gap.epsilon > 0


def test_stochastic_market_gap_is_near_zero_at_equilibrium() -> None:
    (gap,) = equilibrium_gap("InvestmentStochastic-v0", "exact", seeds=[0], episodes=16)
    assert gap.method.startswith("exact (to the grid)")
    assert abs(gap.relative) < 1e-3  # grid error only (docs/models/investment_stochastic.md §5: ~1e-4)
    (bad,) = equilibrium_gap("InvestmentStochastic-v0", "maintain", seeds=[0], episodes=4)
    assert bad.relative > 1.0


def test_statistics() -> None:
    x = np.arange(1.0, 101.0)
    assert iqm(x) == pytest.approx(50.5)
    lo, hi = bootstrap_ci(x, strata=np.repeat([0, 1], 50))
    assert lo < x.mean() < hi and hi - lo < 20
    with pytest.raises(ValueError):
        bootstrap_ci(np.array([]))
