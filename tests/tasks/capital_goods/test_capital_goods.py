"""The capital-goods economy against the numbers of docs/models/capital_goods.md (§4, §5)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from econbench.backend import get_backend
from econbench.core import BatchedEnv
from econbench.envs.capital_goods import solution
from econbench.envs.capital_goods.dynamics import CapitalDynamics, CapitalState
from econbench.envs.capital_goods.params import CapitalParams
from econbench.metrics import evaluate
from econbench.registry import make_task

HOUSEHOLDS = "econbench/CapitalGoods-v0"
PLANNER = "econbench/CapitalGoods-Planner-v0"


def params(**kw: object) -> CapitalParams:
    return replace(make_task(PLANNER).params, **kw)


# docs/models/capital_goods.md §4 table: alpha, N_h, N_c -> K (corrected), Y, C, s_ss
STEADY = [
    (0.3, 1, 1, 25.63427, 2.64634, 2.38350, 0.09932),
    (0.3, 1, 2, 17.05079, 2.34166, 2.10907, 0.09932),
    (0.3, 4, 1, 11.34144, 2.07205, 1.86625, 0.09932),
    (0.3, 100, 1, 1.70746, 1.17410, 1.05748, 0.09932),
    (0.3, 100, 5, 0.66251, 0.88381, 0.79602, 0.09932),
    (0.7, 1, 1, 133.46377, 30.74358, 23.61854, 0.23176),
    (0.7, 4, 2, 26.95745, 10.03402, 7.70857, 0.23176),
]


@pytest.mark.parametrize("alpha, n_h, n_c, k, y, c, s", STEADY)
def test_steady_state_reproduces_the_spec_table(
    alpha: float, n_h: int, n_c: int, k: float, y: float, c: float, s: float
) -> None:
    ss = solution.steady_state(params(alpha=alpha, n_households=n_h, n_capital=n_c))
    assert ss.k == pytest.approx(k, abs=6e-6)
    assert ss.y == pytest.approx(y, abs=6e-6)
    assert ss.c == pytest.approx(c, abs=6e-6)
    assert ss.saving == pytest.approx(s, abs=6e-6)


@pytest.mark.parametrize("formulation", ["planner", "market"])
def test_steady_state_is_a_rest_point_of_the_dynamics(formulation: str) -> None:
    """At K_ss with Z = 1, spending the steady share (split over the goods) keeps every stock where it is and
    consumes the table's C (N_h = 4, N_c = 2; the market household pays twice and gets half back)."""
    p = params(n_households=4, n_capital=2, z_agg=(1.0, 1.2), z_idio=(1.0, 1.1), formulation=formulation)
    dyn = CapitalDynamics(p, get_backend("numpy"))
    state = CapitalState(np.full((1, 4, 2), p.k_ss), np.zeros(1, dtype=np.int64), np.zeros((1, 4), dtype=np.int64))
    out = dyn.step(state, {"households": np.full((1, 4, 2), p.saving_ss / 2)}, np.zeros((1, 5)), np.zeros(1))
    np.testing.assert_allclose(out.state.k, p.k_ss, rtol=1e-12)
    np.testing.assert_allclose(np.exp(out.welfare), solution.steady_state(p).c, rtol=1e-12)


@pytest.mark.parametrize(
    "alpha, values", [(0.3, (39.682, 40.703, 43.485, 44.525)), (0.7, (153.841, 155.023, 158.280, 159.513))]
)
def test_value_function_iteration_reproduces_v_star(alpha: float, values: tuple[float, ...]) -> None:
    """docs/models/capital_goods.md §5: V* on the 1000-point grid over [0.4, 1.8] K_ss, at the grid point below K_ss, four shock states."""
    p = params(alpha=alpha)
    sol = solution.solve_vfi(p)
    np.testing.assert_allclose(sol.z, [0.72, 0.88, 1.08, 1.32])
    below = np.searchsorted(sol.k, p.k_ss) - 1
    np.testing.assert_allclose(sol.v[:, below], values, atol=6e-4)
    assert np.all(np.diff(sol.v, axis=1) > 0)  # more capital is better
    assert sol.iterations < 100


@pytest.mark.parametrize("alpha, mean, sd, saving", [(0.3, 25.500, 2.108, 0.0990), (0.7, 132.405, 12.276, None)])
def test_ergodic_capital_of_the_exact_policy(alpha: float, mean: float, sd: float, saving: float | None) -> None:
    """The simulated ergodic moments of docs/models/capital_goods.md §5, against the exact invariant distribution on the grid
    (those are from a finite simulation of a persistent chain: to 0.5 % and 3 %)."""
    p = params(alpha=alpha)
    sol = solution.solve_vfi(p)
    pi = solution.invariant_distribution(sol)
    m = float((pi * sol.k[None]).sum())
    assert m == pytest.approx(mean, rel=5e-3)
    assert float(np.sqrt((pi * (sol.k[None] - m) ** 2).sum())) == pytest.approx(sd, rel=3e-2)
    if saving is not None:
        invest = np.maximum(sol.kprime - (1 - p.delta) * sol.k[None], 0.0)
        share = p.sole_cost * invest**2 / (sol.z[:, None] * sol.k[None] ** p.alpha)
        assert float((pi * share).sum()) == pytest.approx(saving, abs=5e-4)


def test_exact_policy_attains_v_star_in_the_env() -> None:
    """Rolled out from K_ss in each shock state, the VFI policy's discounted mean log consumption is V*(K_ss, z)."""
    task = make_task(PLANNER)
    p = task.params
    sol = solution.solve_vfi(p)
    policy = task.policy("exact")["planner"]
    n = 256
    env = BatchedEnv(task, 4 * n, "numpy", seed=3)
    env.reset()
    s = np.repeat(np.arange(4), n)
    env.state = CapitalState(np.full((4 * n, 1, 1), p.k_ss), s // 2, (s % 2)[:, None])
    obs, ret, disc = env.observe(), np.zeros(4 * n), 1.0
    for _ in range(p.horizon):
        obs, out, _, _ = env.step({"planner": policy(obs["planner"])})
        ret += disc * out.rewards["planner"][:, 0]
        disc *= p.beta
    by_state = ret.reshape(4, n)
    v_star = sol.value(p.k_ss, np.arange(4))
    se = by_state.std(axis=1) / np.sqrt(n)
    assert np.all(np.abs(by_state.mean(axis=1) - v_star) < 4 * se + 2e-3), (by_state.mean(axis=1), v_star)


def test_exact_beats_constant_saving_by_the_spec_margin() -> None:
    """Constant saving at the steady share loses a little: docs/models/capital_goods.md §5 says 0.06 % of consumption from K_ss;
    from the card's spread of starts (0.5 to 1.25 K_ss) the loss is larger but stays below 0.2 %."""
    exact, const = evaluate(PLANNER, "exact"), evaluate(PLANNER, "constant_saving")
    loss = solution.consumption_equivalent_loss(const.scores, exact.scores, 0.98)
    assert 0.0 < float(loss.mean()) < 2e-3


# ------------------------------------------------------------------ formulations
def _state(p: CapitalParams, rng: np.random.Generator, n_envs: int = 3) -> CapitalState:
    k = rng.uniform(0.5, 1.5, (n_envs, p.n_households, p.n_capital)) * p.k_ss
    return CapitalState(k, rng.integers(0, 2, n_envs), rng.integers(0, 2, (n_envs, p.n_households)))


def test_market_with_rebates_allocates_as_the_planner() -> None:
    """Twice the planner's spending at marginal-cost prices buys the same capital, and the rebate returns the
    difference: every stock and total consumption agree (docs/models/capital_goods.md §4, caution 1)."""
    rng = np.random.default_rng(0)
    planner = params(n_households=5, n_capital=3)
    market = replace(planner, formulation="market", rebate=True)
    b = get_backend("numpy")
    state = _state(planner, rng)
    s = rng.uniform(0.0, 0.15, (3, 5, 3))
    a_p, a_m = CapitalDynamics(planner, b).allocate(state, s), CapitalDynamics(market, b).allocate(state, 2 * s)
    np.testing.assert_allclose(a_m.invest, a_p.invest, rtol=1e-12)
    np.testing.assert_allclose(a_m.consumption.sum(axis=1), a_p.consumption.sum(axis=1), rtol=1e-12)
    # resources: consumption plus the cost of the capital goods is output
    cost = (0.5 * planner.phi * a_p.total**2).sum(axis=1)
    np.testing.assert_allclose(a_p.consumption.sum(axis=1) + cost, a_p.y.sum(axis=1), rtol=1e-12)
    kept = CapitalDynamics(replace(market, rebate=False), b).allocate(state, 2 * s)
    np.testing.assert_allclose(a_p.consumption.sum(axis=1) - kept.consumption.sum(axis=1), cost, rtol=1e-12)


@pytest.mark.parametrize("n_h", [1, 2, 10])
def test_proportional_sharing_prices_a_households_capital_below_marginal_cost(n_h: int) -> None:
    """Spec A6 caution 2: at symmetry, household i's extra spending per extra unit of its own capital is
    phi I / (2 - 1/N_h) under proportional sharing (phi I for the whole economy)."""
    p = params(n_households=n_h)
    dyn = CapitalDynamics(p, get_backend("numpy"))
    state = CapitalState(np.full((1, n_h, 1), p.k_ss), np.ones(1, dtype=np.int64), np.ones((1, n_h), dtype=np.int64))
    s = np.full((1, n_h, 1), 0.1)
    y = dyn.allocate(state, s).y[0, 0]
    h = 1e-7
    bumped = s.copy()
    bumped[0, 0, 0] += h
    a0, a1 = dyn.allocate(state, s), dyn.allocate(state, bumped)
    marginal = h * y / (a1.invest[0, 0, 0] - a0.invest[0, 0, 0])
    assert marginal == pytest.approx(p.phi * a0.total[0, 0] / (2.0 - 1.0 / n_h), rel=1e-5)


@pytest.mark.parametrize("formulation, rebate", [("planner", True), ("market", True), ("market", False)])
def test_own_reward_steady_state_is_a_symmetric_rest_point_of_each_households_euler_equation(
    formulation: str, rebate: bool
) -> None:
    """At K = own_reward_capital, a household's own marginal cost of capital (finite difference of its spending
    net of its rebate, per unit of its own capital) satisfies its deterministic Euler equation."""
    p = params(n_households=5, formulation=formulation, rebate=rebate, z_agg=(1.0, 1.2), z_idio=(1.0, 1.1))
    k = solution.own_reward_capital(p)
    dyn = CapitalDynamics(p, get_backend("numpy"))
    state = CapitalState(np.full((1, 5, 1), k), np.zeros(1, dtype=np.int64), np.zeros((1, 5), dtype=np.int64))
    y = k**p.alpha
    invest = p.n_households * p.delta * k  # I_j at rest
    lo, hi = 0.0, 1.0  # the common share that buys I_j
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if dyn.allocate(state, np.full((1, 5, 1), mid)).total[0, 0] < invest else (lo, mid)
    s = np.full((1, 5, 1), 0.5 * (lo + hi))
    h = 1e-7
    bumped = s.copy()
    bumped[0, 0, 0] += h
    a0, a1 = dyn.allocate(state, s), dyn.allocate(state, bumped)
    cost = (a0.consumption[0, 0] - a1.consumption[0, 0]) / (a1.invest[0, 0, 0] - a0.invest[0, 0, 0])
    assert cost * (1 - p.beta * (1 - p.delta)) == pytest.approx(p.beta * p.alpha * y / k, rel=1e-5)


def test_saving_above_the_cap_is_scaled_and_consumption_stays_positive() -> None:
    p = params(n_households=3, n_capital=2)
    dyn = CapitalDynamics(p, get_backend("numpy"))
    state = _state(p, np.random.default_rng(1))
    a = dyn.allocate(state, np.ones((3, 3, 2)))
    np.testing.assert_allclose(a.saving.sum(axis=-1), p.max_saving)
    assert np.all(a.consumption > 0)


def test_uninformed_households_see_only_their_own_and_the_mean_stocks() -> None:
    task = make_task(HOUSEHOLDS, informed_share=0.5)
    p = task.params
    env = BatchedEnv(task, 2, "numpy", seed=0)
    obs = env.reset()["households"]
    k = env.state.k[:, :, 0]
    n = p.n_households
    assert p.n_informed == 2
    for i in range(n):
        others = obs[:, i, 4 : 4 + n - 1]
        if i < 2:
            np.testing.assert_allclose(others, k[:, [(i + m) % n for m in range(1, n)]])
            assert np.all(obs[:, i, -1] == 1.0)
        else:
            assert np.all(others == 0.0) and np.all(obs[:, i, -1] == 0.0)
        np.testing.assert_allclose(obs[:, i, 0], k[:, i])
        np.testing.assert_allclose(obs[:, i, 3], k.mean(axis=1))


def test_own_rewards_are_each_households_log_consumption() -> None:
    shared, own = make_task(HOUSEHOLDS), make_task(HOUSEHOLDS, reward="own")
    out = []
    for task in (shared, own):
        env = BatchedEnv(task, 2, "numpy", seed=5)
        env.reset()
        out.append(env.step({"households": np.full((2, 4, 1), 0.1)})[1])
    np.testing.assert_allclose(out[1].rewards["households"].mean(axis=1), out[0].rewards["households"][:, 0])
    assert np.ptp(out[1].rewards["households"]) > 0  # idiosyncratic shocks and stocks differ


@pytest.mark.parametrize(
    "override, match",
    [
        ({"formulation": "monopoly"}, "formulation"),
        ({"reward": "mine"}, "reward"),
        ({"informed_share": 1.5}, "informed_share"),
        ({"max_saving": 1.0}, "max_saving"),
        ({"n_households": 0}, "n_households"),
        ({"z_agg": [0.8]}, "z_agg"),
    ],
)
def test_bad_configuration_is_refused_by_name(override: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_task(HOUSEHOLDS, **override)


def test_no_exact_policy_beyond_one_household_and_good() -> None:
    assert "exact" not in make_task(HOUSEHOLDS).policies
    with pytest.raises(ValueError, match="one household and one good"):
        solution.solve_vfi(params(n_households=2))


# ------------------------------------------------------------------ the smooth optimum and Euler errors
def test_time_iteration_agrees_with_value_function_iteration() -> None:
    """Two solutions of one problem: the Euler policy's K' is within a VFI grid step of VFI's choice."""
    p = params()
    vfi, euler = solution.solve_vfi(p), solution.solve_euler(p)
    step = vfi.k[1] - vfi.k[0]
    smooth = np.stack([np.interp(vfi.k, euler.k, euler.invest[s]) for s in range(4)]) + (1 - p.delta) * vfi.k[None]
    inner = slice(50, -50)  # away from the grid's ends, where VFI's choice is clamped
    assert np.max(np.abs(smooth - vfi.kprime)[:, inner]) < step


def test_euler_errors_separate_the_optimum_from_constant_saving() -> None:
    from econbench.envs.capital_goods.metrics import euler_errors

    exact, const = euler_errors(make_task(PLANNER), "exact"), euler_errors(make_task(PLANNER), "constant_saving")
    assert exact.max < -5.5  # the time-iteration policy solves the Euler equation to interpolation error
    assert -3.0 < const.mean < -1.5  # a constant share is off by about 1 %


def test_euler_errors_with_many_households_draw_the_others_shocks() -> None:
    """At 100 households the others' moves are drawn; a profile's errors do not depend on which draw."""
    from econbench.envs.capital_goods.metrics import euler_errors

    task = make_task(HOUSEHOLDS, n_households=100)
    a, b = (
        euler_errors(task, "constant_saving", seed=0, episodes=4),
        euler_errors(task, "constant_saving", seed=1, episodes=4),
    )
    assert a.errors.shape == (16, 100, 1)
    assert abs(a.mean - b.mean) < 0.1 and -3.0 < a.mean < -1.0


@pytest.mark.parametrize("task_id", [HOUSEHOLDS, PLANNER, "econbench/CapitalGoods-Market-v0"])
@pytest.mark.parametrize(
    "dtype, tiny", [("float64", 1e-320), ("float64", 5e-324), ("float32", 1e-40), ("float32", 1.4e-45)]
)
def test_subnormal_saving_shares_stay_finite(task_id: str, dtype: str, tiny: float) -> None:
    """An in-range share of 1e-320 (1e-40 in float32) once made I_j / X_j = sqrt(2 / (phi X_j)) infinite: capital
    became inf, then NaN for the rest of the episode. Every household saves that little, or half of them do."""
    task = make_task(task_id)
    env = BatchedEnv(task, 2, "numpy", dtype=dtype, seed=0)
    env.reset()
    g = task.groups[0]
    shape = (2, g.n_agents, *g.action.shape)
    some = np.where(np.arange(int(np.prod(shape))).reshape(shape) % 2 == 0, tiny, 0.2)
    for actions in (np.full(shape, tiny), some):
        env.reset(seed=0)
        for _ in range(task.horizon):
            obs, out, _, _ = env.step({g.name: actions.astype(dtype)})
            assert np.isfinite(obs[g.name]).all() and np.isfinite(out.rewards[g.name]).all()
            assert np.isfinite(out.welfare).all() and np.isfinite(env.state.k).all()


def test_tiny_spending_keeps_the_reference_rounding() -> None:
    """Normal spending takes the reference's expression, bit for bit; the finite form differs only below the floor."""
    for formulation in ("planner", "market"):
        p = params(formulation=formulation, n_households=1, reward="own")
        dyn = CapitalDynamics(p, get_backend("numpy"))
        k = np.full((3, 1, 1), p.k_ss)
        state = CapitalState(k, np.zeros(3, dtype=np.int64), np.zeros((3, 1), dtype=np.int64))
        shares = np.array([0.1, 1e-300, 1e-320])[:, None, None]
        a = dyn.allocate(state, shares)
        y = a.y[:, 0]
        x = shares[:, 0, 0] * y
        direct = np.sqrt(2.0 / (p.phi * x[:2])) if formulation == "planner" else 1.0 / np.sqrt(p.phi * x[:2])
        np.testing.assert_array_equal(a.invest[:2, 0, 0], x[:2] * direct)
        assert 0.0 < a.invest[2, 0, 0] < 1e-150
