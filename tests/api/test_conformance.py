"""The simulators against theory: exact policies stepped in the batched envs must reproduce the
Riccati and VFI values, laws of motion and steady states of the solution modules."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.core import BatchedEnv
from econbench.envs.investment_lq import solution as lq_sol
from econbench.envs.investment_oligopoly import solution as olig_sol
from econbench.envs.investment_stochastic import solution as sto_sol
from econbench.envs.investment_stochastic.dynamics import CapacityState
from econbench.registry import make_task


def _run(task_id: str, n_envs: int, seed: int, policy: str = "exact", state: object = None, **params: object):
    task = make_task(task_id, **params)
    env = BatchedEnv(task, n_envs, seed=seed)
    obs = env.reset()
    if state is not None:
        env.state = state
        obs = env.observe()
    first = {g: o.copy() for g, o in obs.items()}
    profile = task.policy(policy)
    total = {g.name: np.zeros((n_envs, g.n_agents)) for g in task.groups}
    welfare = np.zeros(n_envs)
    disc = 1.0
    for _ in range(task.horizon):
        obs, out, *_ = env.step({g: f(obs[g]) for g, f in profile.items()})
        for g in total:
            total[g] += disc * out.rewards[g]
        welfare += disc * out.welfare
        disc *= task.discount
    return task, first, obs, total, welfare, disc


def test_lq_planner_return_is_the_riccati_value() -> None:
    """V(Y0) = sum_{t<T} beta^t r_t + beta^T V(Y_T) exactly, for the REE policy."""
    task, first, last, total, _, disc = _run("InvestmentLQ-Planner-v0", 16, seed=3)
    p = task.params
    y0, yT = first["planner"][:, 0, 0], last["planner"][:, 0, 0]
    np.testing.assert_allclose(
        total["planner"][:, 0] + disc * lq_sol.planner_value(p, yT), lq_sol.planner_value(p, y0), rtol=1e-10
    )


def test_lq_market_follows_the_ree_law_and_equals_the_planner() -> None:
    task = make_task("InvestmentLQ-v0")
    sol = lq_sol.solve_planner(task.params)
    env = BatchedEnv(task, 8, seed=1)
    obs = env.reset()
    policy = task.policy("exact")["firms"]
    planner_task = make_task("InvestmentLQ-Planner-v0")
    for _ in range(50):
        Y = obs["firms"][:, 0, 1]
        obs, out, *_ = env.step({"firms": policy(obs["firms"])})
        np.testing.assert_allclose(obs["firms"][:, 0, 1], sol.kappa0 + sol.kappa1 * Y, rtol=1e-12)
        # every firm adjusts by the same amount, so welfare is the planner's reward at Y
        u = sol.kappa0 + (sol.kappa1 - 1.0) * Y
        p = planner_task.params
        np.testing.assert_allclose(out.welfare, p.a0 * Y - 0.5 * p.a1 * Y**2 - 0.5 * p.gamma * u**2, rtol=1e-10)


@pytest.mark.parametrize("n_firms", [1, 2, 4, 10, 50])
def test_oligopoly_mpe_values_and_steady_state(n_firms: int) -> None:
    task, first, last, total, _, disc = _run("InvestmentOligopoly-v0", 8, seed=2, n_firms=n_firms)
    p = task.params
    sol = olig_sol.solve_mpe(p)
    for e in range(8):
        x0 = np.concatenate([[1.0], first["firms"][e, :, 0]])
        xT = np.concatenate([[1.0], last["firms"][e, :, 0]])
        expected = olig_sol.firm_values(p, sol.F, x0)
        tail = olig_sol.firm_values(p, sol.F, xT)
        np.testing.assert_allclose(total["firms"][e] + disc * tail, expected, rtol=1e-9)
    Q = last["firms"][:, 0, 0] + last["firms"][:, 0, 1]
    np.testing.assert_allclose(Q, sol.steady_state_output, rtol=1e-8)


def test_stochastic_planner_monte_carlo_matches_vfi() -> None:
    """From (k=80, u=0) the mean discounted surplus of 4000 simulated paths is V*(80, 0)."""
    task = make_task("InvestmentStochastic-Planner-v0")
    sol = sto_sol.solve_planner(task.params)
    ik = int(np.argmin(np.abs(sol.k_grid - 80.0)))
    mid = sol.u_grid.size // 2
    n = 4000
    state = CapacityState(np.full((n, 1), sol.k_grid[ik]), np.full(n, mid, dtype=np.int64))
    _, _, _, total, welfare, _ = _run("InvestmentStochastic-Planner-v0", n, seed=11, state=state)
    se = welfare.std() / np.sqrt(n)
    assert abs(welfare.mean() - sol.v[ik, mid]) < 4 * se + 1e-3 * abs(sol.v[ik, mid])
    np.testing.assert_allclose(total["planner"][:, 0], welfare)


def test_stochastic_market_mean_capacity_is_near_the_invariant_mean() -> None:
    task = make_task("InvestmentStochastic-v0")
    sol = sto_sol.solve_planner(task.params)
    mu = sto_sol.invariant_distribution(sol).sum(axis=1)
    env = BatchedEnv(task, 512, seed=4)
    obs = env.reset()
    policy = task.policy("exact")["firms"]
    Ks = []
    for t in range(task.horizon):
        obs, *_ = env.step({"firms": policy(obs["firms"])})
        if t >= 100:
            Ks.append(obs["firms"][:, 0, 1])
    assert abs(np.mean(Ks) - mu @ sol.k_grid) < 1.0  # grid spacing 0.35, sampling noise ~0.1
