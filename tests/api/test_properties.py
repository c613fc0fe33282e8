"""Accounting identities of the dynamics, for arbitrary valid states and actions (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from econbench.backend import get_backend
from econbench.envs.investment_lq.dynamics import MarketDynamics, OutputState
from econbench.envs.investment_oligopoly.dynamics import OligopolyDynamics, OligopolyState
from econbench.envs.investment_stochastic.dynamics import CapacityDynamics, CapacityState
from econbench.registry import make_task

B = get_backend("numpy")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_oligopoly_welfare_is_consumer_surplus_plus_profits(n: int, seed: int) -> None:
    p = make_task("InvestmentOligopoly-v0", n_firms=n).params
    rng = np.random.default_rng(seed)
    q = rng.uniform(0, 3, (5, n))
    u = rng.uniform(-p.u_max, p.u_max, (5, n, 1))
    out = OligopolyDynamics(p, B).step(OligopolyState(q), {"firms": u}, None, np.zeros(5, dtype=np.int64))
    Q = q.sum(axis=1)
    consumer_surplus = 0.5 * p.a1 * Q**2  # area under a0 - a1 Q above the price
    np.testing.assert_allclose(out.welfare, consumer_surplus + out.rewards["firms"].sum(axis=1), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(out.state.q, q + u[..., 0])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_lq_market_welfare_is_consumer_surplus_plus_mean_profit(n: int, seed: int) -> None:
    p = make_task("InvestmentLQ-v0", n_firms=n).params
    rng = np.random.default_rng(seed)
    y = rng.uniform(500, 3000, (4, n))
    u = rng.uniform(-p.u_max, p.u_max, (4, n, 1))
    out = MarketDynamics(p, B).step(OutputState(y), {"firms": u}, None, np.zeros(4, dtype=np.int64))
    Y = y.mean(axis=1)
    np.testing.assert_allclose(out.welfare, 0.5 * p.a1 * Y**2 + out.rewards["firms"].mean(axis=1), rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_capacity_accumulation_and_shock_chain(n: int, seed: int) -> None:
    task = make_task("InvestmentStochastic-v0", n_firms=n)
    p = task.params
    dyn = CapacityDynamics(p, B)
    rng = np.random.default_rng(seed)
    k = rng.uniform(20, 160, (6, n))
    s = rng.integers(0, p.n_shocks, 6)
    z = rng.uniform(0, p.z_max, (6, n, 1))
    noise = rng.uniform(size=6)
    out = dyn.step(CapacityState(k, s), {"firms": z}, noise, np.zeros(6, dtype=np.int64))
    np.testing.assert_allclose(out.state.k, k * (1 - p.delta + z[..., 0]) ** p.alpha)
    assert ((out.state.s >= 0) & (out.state.s < p.n_shocks)).all()
    # the inverse-CDF draw picks the state whose cumulative interval contains the uniform
    from econbench.envs.investment_stochastic.solution import shock_process

    _, P = shock_process(p)
    cum = np.cumsum(P[s], axis=1)
    expected = (noise[:, None] > cum[:, :-1]).sum(axis=1)
    np.testing.assert_array_equal(out.state.s, expected)
