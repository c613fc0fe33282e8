"""The capital-goods game: market clearing, the competitive reference, markup steady states, static Nash."""

from __future__ import annotations

import numpy as np
import pytest

from econbench.backend import get_backend
from econbench.core import BatchedEnv
from econbench.envs.capital_game.dynamics import GameDynamics, GameState
from econbench.envs.capital_game.metrics import outcome
from econbench.metrics.evaluate import rollout
from econbench.metrics.gaps import equilibrium_gap
from econbench.registry import make_task

GAME, MARKET = "econbench/CapitalGoodsGame-v0", "econbench/CapitalGoods-Market-v0"
DETERMINISTIC = {"z_agg": [1.0, 1.0], "z_idio": [1.0, 1.0]}


def _dyn(**kw: object) -> GameDynamics:
    return GameDynamics(make_task(GAME, **kw).params, get_backend("numpy"))


def _state(dyn: GameDynamics, n_envs: int, seed: int = 0) -> GameState:
    rng = np.random.default_rng(seed)
    p = dyn.params
    k = rng.uniform(0.5, 1.5, (n_envs, p.n_households, p.n_capital)) * p.k_ss
    return GameState(
        k,
        rng.integers(0, 2, n_envs),
        rng.integers(0, 2, (n_envs, p.n_households)),
        np.ones((n_envs, p.n_capital)),
        np.ones((n_envs, p.n_firms)),
    )


@pytest.mark.parametrize("m,nc", [(1, 1), (2, 1), (3, 2), (10, 1)])
def test_market_clears_and_resources_add_up(m: int, nc: int) -> None:
    dyn = _dyn(n_households=3, firms_per_good=m, n_capital=nc)
    p, rng = dyn.params, np.random.default_rng(1)
    state = _state(dyn, 5)
    saving = rng.uniform(0.0, 0.4, (5, 3, nc))
    markup = rng.uniform(p.markup_low, p.markup_high, (5, p.n_firms))
    tr = dyn.trade(state, saving, markup)
    spend = saving * tr.y[..., None]
    supply = tr.supply.reshape(5, nc, m)
    np.testing.assert_allclose(spend.sum(1), tr.price * supply.sum(-1), rtol=1e-12)  # spending = price x quantity
    np.testing.assert_allclose(tr.invest.sum(1), supply.sum(-1), rtol=1e-12)  # every unit made is bought
    np.testing.assert_allclose(
        np.broadcast_to(tr.price[..., None], supply.shape), markup.reshape(5, nc, m) * p.phi * m * supply, rtol=1e-12
    )  # on schedule
    cost = 0.5 * p.phi * m * (supply**2).sum((-1, -2))
    np.testing.assert_allclose(tr.consumption.sum(1) + cost, tr.y.sum(1), rtol=1e-12)  # rebated: C + cost = Y


def test_competitive_profile_is_the_rebated_market() -> None:
    """Marginal-cost pricing reproduces the market formulation's economy episode by episode, at any M."""
    market = make_task(MARKET, n_households=2)
    base = rollout(market, market.policy("constant_saving"), 6, 3)
    for m in (1, 2, 10):
        game = make_task(GAME, n_households=2, firms_per_good=m)
        run = rollout(game, game.policy("competitive"), 6, 3)
        np.testing.assert_allclose(run.welfare, base.welfare, rtol=1e-10)
        np.testing.assert_allclose(run.returns["households"], base.returns["households"], rtol=1e-10)


def test_competitive_one_vs_one_is_the_planners_allocation() -> None:
    """A sole household buying at marginal cost, profits rebated, lives as the planner makes it live: the same
    welfare path as CapitalGoods-Planner-v0 spending half the share (it pays phi I per unit, half comes back)."""
    planner = make_task("econbench/CapitalGoods-Planner-v0")
    game = make_task("econbench/CapitalGoodsGame-1v1-v0")
    base = rollout(planner, planner.policy("constant_saving"), 5, 7)
    run = rollout(game, game.policy("competitive"), 5, 7)
    np.testing.assert_allclose(run.welfare, base.welfare, rtol=1e-10)


@pytest.mark.parametrize("m,markup", [(1, 1.0), (2, 1.5), (1, 3.0), (10, 1.2)])
def test_uniform_markup_steady_state(m: int, markup: float) -> None:
    """Constant spending at the competitive share and a uniform markup: K converges to K_ss markup^(-1/(2-alpha))."""
    task = make_task(GAME, n_households=m, firms_per_good=m, **DETERMINISTIC)
    p = task.params
    share = p.saving_ss / p.n_capital
    profile = {
        "households": lambda o: np.full(o.shape[:-1] + (1,), share),
        "firms": lambda o: np.full(o.shape[:-1] + (1,), markup),
    }
    env = BatchedEnv(task, 4, "numpy", seed=0)
    obs = env.reset()
    for _ in range(task.horizon):
        obs, *_ = env.step({k: f(obs[k]) for k, f in profile.items()})
    np.testing.assert_allclose(env.state.k, p.k_at_markup(markup), rtol=1e-6)
    np.testing.assert_allclose(obs["households"][..., 4], markup * p.k_at_markup(markup) / p.k_ss, rtol=1e-6)


@pytest.mark.parametrize("m", [2, 3, 10])
def test_static_nash_markup_is_a_one_period_best_response(m: int) -> None:
    dyn = _dyn(n_households=2, firms_per_good=m)
    p = dyn.params
    star = p.static_nash_markup
    assert star == pytest.approx((m - 0.5) / (m - 1))
    state = _state(dyn, 1)
    saving = np.full((1, 2, 1), 0.2)
    grid = np.linspace(1.0, 3.0, 2001)
    markups = np.full((grid.size, p.n_firms), star)
    markups[:, 0] = grid
    tr = dyn.trade(
        GameState(
            *(np.repeat(a, grid.size, axis=0) for a in (state.k, state.agg, state.idio, state.price, state.markup))
        ),
        np.repeat(saving, grid.size, axis=0),
        markups,
    )
    assert grid[np.argmax(tr.profit[:, 0])] == pytest.approx(star, abs=2e-3)


def test_sole_firm_profit_rises_with_its_markup() -> None:
    dyn = _dyn(n_households=1, firms_per_good=1)
    state = _state(dyn, 1)
    grid = np.linspace(1.0, 3.0, 50)
    st = GameState(
        *(np.repeat(a, grid.size, axis=0) for a in (state.k, state.agg, state.idio, state.price, state.markup))
    )
    tr = dyn.trade(st, np.full((grid.size, 1, 1), 0.2), grid[:, None])
    assert np.all(np.diff(tr.profit[:, 0]) > 0)
    assert dyn.params.static_nash_markup == dyn.params.markup_high


def test_gaps_separate_competitive_from_nash_play() -> None:
    """Competitive pricing leaves the firms a profitable deviation; the static-Nash markups leave none among constants."""
    comp = {g.group: g for g in equilibrium_gap(GAME, "competitive", seeds=[5], episodes=8)}
    nash = {g.group: g for g in equilibrium_gap(GAME, "static_nash", seeds=[5], episodes=8)}
    assert comp["firms"].epsilon > 0.1
    assert nash["firms"].epsilon < 0.01 * comp["firms"].epsilon
    assert comp["households"].epsilon == 0.0  # constant saving is the households' steady-state optimum


def test_outcome_distances() -> None:
    task = make_task(GAME, **DETERMINISTIC)
    p = task.params
    rep = outcome(task, "static_nash", episodes=2, steps=1200)
    assert rep.output_gap("static_nash") == 0.0
    ratio = p.k_at_markup(1.5) / p.k_ss
    assert rep.learned.capital / rep.competitive.capital == pytest.approx(ratio, rel=1e-6)
    assert rep.output_gap("competitive") == pytest.approx(1.0 - ratio, rel=1e-6)
    assert rep.welfare_ce() < 0.0


def test_information_modes_hide_what_they_say() -> None:
    full = BatchedEnv(make_task(GAME), 3, "numpy", seed=0)
    obs = full.reset()
    obs, *_ = full.step({"households": np.full((3, 2, 1), 0.2), "firms": np.array([[[1.2], [1.8]]] * 3)})
    assert np.all(obs["households"][..., 3] > 0) and np.all(obs["households"][..., 4] > 0)
    np.testing.assert_allclose(obs["firms"][..., 3], [[1.2, 1.8]] * 3)  # own markup
    np.testing.assert_allclose(obs["firms"][..., 4], [[1.8, 1.2]] * 3)  # rival's
    for flag, hidden in (
        ("opaque_stocks", {"households": [3], "firms": [1]}),
        ("opaque_prices", {"households": [4], "firms": [2, 4]}),
    ):
        env = BatchedEnv(make_task(GAME, **{flag: True}), 3, "numpy", seed=0)
        o = env.reset()
        o, *_ = env.step({"households": np.full((3, 2, 1), 0.2), "firms": np.array([[[1.2], [1.8]]] * 3)})
        for group, cols in hidden.items():
            assert np.all(o[group][..., cols] == 0.0)
            rest = [c for c in range(o[group].shape[-1]) if c not in cols]
            np.testing.assert_array_equal(o[group][..., rest], obs[group][..., rest])


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"formulation": "planner"}, "formulation='market'"),
        ({"informed_share": 0.5}, "informed_share"),
        ({"markup_low": 1.2}, "markup_low"),
        ({"firms_per_good": 0}, "firms_per_good"),
    ],
)
def test_bad_config(bad: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_task(GAME, **bad)
