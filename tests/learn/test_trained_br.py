"""The trained best-response gap against the exact one, where theory gives both."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.learn.trained_gap import trained_best_response_gap
from econbench.metrics import equilibrium_gap

pytest.importorskip("torch")


def test_trained_deviation_recovers_most_of_the_exact_lq_gain() -> None:
    """Against frozen duopolists, firm 0 retrained alone finds most of its exact LQ best-response gain."""
    exact = equilibrium_gap("InvestmentOligopoly-v0", "freeze", episodes=16)[0].gains.mean(axis=0)[0]
    trained = trained_best_response_gap(
        "InvestmentOligopoly-v0", "freeze", "firms", 65_536, seeds=[0], episodes=16, agent=0, n_envs=64, num_steps=64
    )
    gain = trained.gains[0, 0]
    assert trained.gains[0, 1] == 0.0  # only firm 0 deviated
    assert 0.5 * exact < gain <= exact * 1.01  # a budgeted best response cannot beat the exact one
    assert trained.method.startswith("trained best response: agent 0 of firms")


def test_group_retraining_on_rbc_runs_and_reports_per_seed() -> None:
    gap = trained_best_response_gap("RBCTax-v0", "no_tax", "government", 256, seeds=[0, 1], n_envs=8, num_steps=16)
    assert gap.gains.shape == (2, 1) and np.isfinite(gap.gains).all()
    lo, hi = gap.epsilon_ci
    assert lo <= hi


def test_unilateral_deviation_on_rice_respects_the_agreements() -> None:
    """Region 0 retrained alone under the bilateral protocol: its learned policy acts through the masks
    (a masked-out action would raise), and only region 0's return changes."""
    gap = trained_best_response_gap(
        "RICECooperation-Bilateral-v0", "mitigation_5", "regions", 480, seeds=[0], agent=0, n_envs=4, num_steps=60
    )
    assert gap.gains.shape == (1, 27) and np.isfinite(gap.gains).all()
    assert gap.gains[0, 0] != 0.0
    assert gap.method.startswith("trained best response: agent 0 of regions")


def test_best_response_to_a_run_trains_on_the_runs_task_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A run trained with --param (here the game's opaque-prices mode) is retrained against on that same task."""
    from econbench.learn import SharedPPOConfig, shared_ppo
    from econbench.learn.runs import run_params

    run = shared_ppo.train(
        SharedPPOConfig.for_task(
            "econbench/CapitalGoodsGame-1v1-v0",
            params={"opaque_prices": True},
            total_timesteps=256,
            n_envs=4,
            num_steps=32,
            out=str(tmp_path / "runs"),
            run_name="base",
            skip_eval=True,
            critic_warmup=0,
        )
    )
    gap = trained_best_response_gap(
        "econbench/CapitalGoodsGame-1v1-v0",
        str(run),
        "firms",
        128,
        seeds=[0],
        episodes=2,
        agent=0,
        n_envs=4,
        num_steps=32,
        workdir=tmp_path / "br",
        critic_warmup=0,
    )
    assert run_params(tmp_path / "br" / "CapitalGoodsGame-1v1-v0" / "br_firms_seed0") == {"opaque_prices": True}
    assert gap.gains.shape == (1, 1) and np.isfinite(gap.gains).all()
