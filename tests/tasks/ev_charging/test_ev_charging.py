"""EV charging: the queues, the static modes against their exact references, the invariants of the day."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from econbench.backend import get_backend
from econbench.core import BatchedEnv
from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.city import batch_game, build_city, steady_instance
from econbench.envs.ev_charging.dynamics import AT_STATION, COUNTERS, IDLE, STRANDED, TO_STATION
from econbench.envs.ev_charging.queues import fifo_assign
from econbench.registry import make_task
from tests.conftest import LARGE_IDS

SMALL, STEADY, BATCH, LARGE = (
    "econbench/EVCharging-v0",
    "econbench/EVCharging-Steady-v0",
    "econbench/EVCharging-Batch-v0",
    "econbench/EVCharging-LargeCity-v0",
)


def counter(env: BatchedEnv, name: str) -> np.ndarray:
    return np.asarray(env.state.counters)[:, COUNTERS.index(name)]


def run(task_id: str, policy: str, n_envs: int, seed: int = 0, **params: object) -> BatchedEnv:
    task = make_task(task_id, **params)
    env = BatchedEnv(task, n_envs, seed=seed)
    obs = env.reset()
    act = task.policy(policy)["drivers"]
    for _ in range(env.horizon):
        obs, *_ = env.step({"drivers": act(obs["drivers"])})
    return env


# ---------------------------------------------------------------------------- queues
def sequential_fifo(
    plugs: list[list[float]], queue: np.ndarray, arrival: np.ndarray, service: np.ndarray, key: np.ndarray
) -> tuple[np.ndarray, list[list[float]]]:
    """The textbook recursion, one EV at a time in (arrival, key) order."""
    free = [list(p) for p in plugs]
    start = np.zeros(len(arrival))
    for i in sorted(range(len(arrival)), key=lambda i: (arrival[i], key[i], i)):
        q = int(queue[i])
        j = int(np.argmin(free[q]))
        start[i] = max(arrival[i], free[q][j])
        free[q][j] = start[i] + service[i]
    return start, free


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.booleans())
def test_fifo_assign_is_the_sequential_recursion(seed: int, m: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    Q, C = 4, 3
    plugs = np.where(rng.random((Q, C)) < 0.8, rng.uniform(0, 20, (Q, C)), np.inf)
    plugs[:, 0] = rng.uniform(0, 20, Q)  # every queue has a plug
    queue = rng.integers(0, Q, m)
    arrival = np.round(rng.uniform(0, 30, m)) if ties else rng.uniform(0, 30, m)
    service = rng.exponential(10.0, m)
    key = rng.random(m)
    b = get_backend("numpy")
    start, finish, free = fifo_assign(b, plugs.copy(), queue, arrival, service, key)
    want, want_free = sequential_fifo(plugs.tolist(), queue, arrival, service, key)
    np.testing.assert_allclose(start, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(finish, want + service, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.sort(free, axis=1), np.sort(np.asarray(want_free), axis=1), atol=1e-12)


def test_fifo_assign_leaves_its_input_alone() -> None:
    plugs = np.zeros((1, 2))
    fifo_assign(get_backend("numpy"), plugs, np.zeros(3, dtype=np.int64), np.zeros(3), np.ones(3))
    assert (plugs == 0).all()


# ---------------------------------------------------------------------------- one-shot mode = the atomic game (B4)
def test_batch_card_is_the_spec_example_3() -> None:
    game = batch_game(make_task(BATCH).params)
    nash, _ = game.best_response_dynamics()
    assert tuple(game.counts(nash)) == (12, 12, 16)
    assert tuple(game.counts(game.optimum())) == (10, 12, 18)


@pytest.mark.parametrize("policy, total", [("exact", 1407.568), ("optimum", 1389.895), ("least_cost", 1960.285)])
def test_batch_mode_total_cost_is_the_games(policy: str, total: float) -> None:
    """The random FIFO order moves waits between EVs but not their sum, so the total is exact."""
    env = run(BATCH, policy, n_envs=3)
    p = env.task.params
    game = batch_game(p)
    choice = {"exact": game.best_response_dynamics()[0], "optimum": game.optimum(), "least_cost": game.naive()}[policy]
    np.testing.assert_allclose(counter(env, "cost"), game.total_cost(choice), rtol=1e-12)
    np.testing.assert_allclose(
        counter(env, "cost"), total, atol=5e-4
    )  # Example 3's figure (docs/models/ev_charging.md §6)


def test_batch_mode_expected_cost_per_ev_is_the_games() -> None:
    """Each EV's cost averaged over random orders is the game's expected cost ``v (tau + Wbar(n) + T) + p e``."""
    task = make_task(BATCH)
    game = batch_game(task.params)
    nash = game.best_response_dynamics()[0]
    env = BatchedEnv(task, 4000, seed=3)
    obs = env.reset()
    _, out, term, _ = env.step({"drivers": task.policy("exact")["drivers"](obs["drivers"])})
    assert bool(term.all())
    costs = -np.asarray(out.rewards["drivers"])  # (envs, N)
    want = game.costs(nash)
    se = costs.std(axis=0) / math.sqrt(costs.shape[0])
    assert np.all(np.abs(costs.mean(axis=0) - want) < 4.5 * se + 1e-9)
    assert se.max() < 0.5


# ---------------------------------------------------------------------------- steady mode = Wardrop with Erlang C (B3)
@pytest.mark.parametrize(
    "policy, attr, per_ev", [("exact", "wardrop", 32.7319), ("optimum", "system_optimum", 32.4325)]
)
def test_steady_mode_long_run_cost_is_the_formula(policy: str, attr: str, per_ev: float) -> None:
    """Poisson requests split at random by the exact flows see M/M/c queues: the mean cost per EV after a
    warm-up is the Beckmann-Wardrop formula's (docs/models/ev_charging.md §6, Example 1), to sampling error."""
    task = make_task(STEADY, horizon=2880)  # 10 days per env
    env = BatchedEnv(task, 64, seed=11)
    obs = env.reset()
    act = task.policy(policy)["drivers"]
    warm = 288
    for t in range(env.horizon):
        obs, *_ = env.step({"drivers": act(obs["drivers"])})
        if t == warm - 1:
            cost0, served0, wait0 = counter(env, "cost"), counter(env, "served"), counter(env, "wait_h")
    per_env = (counter(env, "cost") - cost0) / (counter(env, "served") - served0)
    assignment = getattr(solution, attr)(steady_instance(task.params))
    exact = assignment.total_cost / 18.0
    assert exact == pytest.approx(per_ev, abs=5e-5)
    se = per_env.std(ddof=1) / math.sqrt(per_env.size)
    assert abs(per_env.mean() - exact) < 4 * se and se < 0.05
    waits = (counter(env, "wait_h") - wait0) / (counter(env, "served") - served0)
    mean_wait = float(assignment.loads @ assignment.waits) / 18.0
    assert abs(waits.mean() - mean_wait) < 4 * waits.std(ddof=1) / math.sqrt(waits.size)
    assert counter(env, "lost").sum() == 0 and counter(env, "unserved").sum() == 0


def test_steady_requests_are_poisson() -> None:
    env = run(STEADY, "shortest_wait", n_envs=64)
    hours = env.horizon * env.task.params.step_minutes / 60.0
    n = counter(env, "requests")
    assert abs(n.mean() - 18.0 * hours) < 4 * math.sqrt(18.0 * hours / n.size)
    assert abs(n.var(ddof=1) / n.mean() - 1.0) < 0.5  # Poisson: variance = mean


# ---------------------------------------------------------------------------- the day: invariants
def _random_valid(rng: np.random.Generator, mask: np.ndarray, nvec: tuple[int, ...]) -> np.ndarray:
    heads, at = [], 0
    for n in nvec:
        heads.append((rng.random(mask.shape[:-1] + (n,)) * mask[..., at : at + n]).argmax(-1))
        at += n
    return np.stack(heads, -1)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([SMALL, STEADY]), st.sampled_from(["deterministic", "exponential"]))
def test_invariants_under_random_play(seed: int, task_id: str, service: str) -> None:
    """Drivers and energy are conserved, no station serves more EVs than it has plugs, no wait is negative."""
    task = make_task(task_id, service=service, horizon=96)
    env = BatchedEnv(task, 3, seed=seed)
    obs = env.reset()
    rng = np.random.default_rng(seed)
    city = build_city(task.params)
    p = task.params
    soc0 = np.asarray(env.state.soc).copy()
    for _ in range(env.horizon):
        act = _random_valid(rng, np.asarray(env.action_masks()["drivers"]), task.group("drivers").action.nvec)
        act[..., 0] *= rng.random(act.shape[:2]) < 0.05  # most drivers keep to their schedule
        obs, *_ = env.step({"drivers": act})
        s = env.state
        status, now = np.asarray(s.status), np.asarray(s.clock)[:, None]
        at = status == AT_STATION
        assert np.all(np.asarray(s.t_start)[at] >= 0) and np.all(np.asarray(s.t_free)[at] >= np.asarray(s.t_start)[at])
        charging = at & (np.asarray(s.t_start) <= now) & (now < np.asarray(s.t_free))
        for e in range(env.n_envs):
            used = np.bincount(np.asarray(s.station)[e][charging[e]], minlength=city.plugs.size)
            assert np.all(used <= city.plugs)
        assert np.all(np.asarray(s.plug_free)[np.isfinite(np.asarray(s.plug_free))] >= 0)
        assert counter(env, "wait_h").min() >= 0
        if p.mode == "dynamic":
            soc = np.asarray(s.soc)
            assert soc.min() >= -1e-9 and soc.max() <= p.battery_kwh + 1e-9
            pending = np.where(at, np.asarray(s.energy), 0.0)
            np.testing.assert_allclose(
                (soc + pending).sum(1),
                soc0.sum(1) + counter(env, "energy_kwh") - counter(env, "driven_kwh"),
                rtol=1e-10,
            )
        else:
            in_system = ((status == IDLE) | (status == TO_STATION)).sum(1)
            accounted = counter(env, "served") + counter(env, "unserved") + counter(env, "lost") + in_system
            np.testing.assert_array_equal(counter(env, "requests"), accounted)
        assert set(np.unique(status)) <= {0, 1, 2, 3, 4, 5}


def test_stranded_drivers_stay_stranded_and_pay() -> None:
    env = run(SMALL, "no_charging", n_envs=4, soc0_low=0.0, soc0_high=0.05)
    status = np.asarray(env.state.status)
    assert (status == STRANDED).sum() == counter(env, "stranded").sum() > 0
    assert counter(env, "energy_kwh").sum() == 0


def test_charging_pays_and_herding_costs() -> None:
    """The card is tuned so that charging pays (every rule beats never charging) and congestion matters:
    herding on the nearest station costs more than choosing by price and queue."""
    scores = {
        name: -counter(run(SMALL, name, n_envs=4), "cost").mean()
        for name in ("least_cost", "shortest_wait", "no_charging", "nearest")
    }
    assert scores["least_cost"] > scores["nearest"] > scores["no_charging"]
    assert scores["shortest_wait"] > scores["nearest"]


def test_options_are_the_nearest_stations() -> None:
    p = make_task(LARGE).params
    city = build_city(p)
    assert city.plugs.size == p.n_stations == 1000
    assert np.all(np.diff(city.option_minutes, axis=1) >= 0)
    node = 517
    x, y = node % p.grid, node // p.grid
    sx, sy = city.station_node % p.grid, city.station_node // p.grid
    minutes = (np.abs(sx - x) + np.abs(sy - y)) * p.edge_minutes
    np.testing.assert_allclose(city.option_minutes[node], np.sort(minutes)[: p.n_options])


# ---------------------------------------------------------------------------- the large city
def test_large_city_is_marked_and_steps() -> None:
    assert LARGE in LARGE_IDS
    task = make_task(LARGE, n_drivers=20_000, n_stations=200)
    env = BatchedEnv(task, 1, seed=0)
    obs = env.reset()
    act = task.policy("shortest_wait")["drivers"]
    for _ in range(120):  # to 10:00, through the morning commute
        obs, *_ = env.step({"drivers": act(obs["drivers"])})
    assert obs["drivers"].shape == (1, 20_000, 20) and obs["drivers"].dtype == np.float32
    assert counter(env, "served")[0] > 0


def test_state_is_under_a_kilobyte_per_driver() -> None:
    """The issue's memory budget, counted on the arrays a step keeps: state, observations, actions, rewards."""
    task = make_task(LARGE, n_drivers=10_000, n_stations=100)
    env = BatchedEnv(task, 1, seed=0)
    obs = env.reset()
    act = task.policy("nearest")["drivers"](obs["drivers"])
    obs, out, *_ = env.step({"drivers": act})
    import dataclasses

    state = sum(np.asarray(getattr(env.state, f.name)).nbytes for f in dataclasses.fields(env.state))
    per_driver = (state + obs["drivers"].nbytes + act.nbytes + out.rewards["drivers"].nbytes) / 10_000
    assert per_driver <= 1024, per_driver


# ---------------------------------------------------------------------------- bad configurations
@pytest.mark.parametrize(
    "params, words",
    [
        ({"mode": "weekly"}, "mode must be one of"),
        ({"station_nodes": [0, 1, 99]}, "station_nodes must lie in"),
        ({"n_stations": 2}, "station_nodes needs one node per station"),
        ({"service": "erlang"}, "service must be one of"),
        ({"vot_shares": [0.5, 0.5, 0.5]}, "shares must sum to 1"),
    ],
)
def test_bad_configurations_are_named(params: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        make_task(SMALL, **params)


def test_oneshot_needs_one_step() -> None:
    with pytest.raises(ValueError, match="horizon must be 1"):
        make_task(BATCH, horizon=2)


# ---------------------------------------------------------------------------- metrics
def test_allocation_metrics_place_policies_against_the_references() -> None:
    from econbench.envs.ev_charging.metrics import ev_metrics

    task = make_task(STEADY)
    exact = ev_metrics(task, task.policy("exact"), seed=1, episodes=16)
    nearest = ev_metrics(task, task.policy("nearest"), seed=1, episodes=16)
    assert exact["distance_to_wardrop"] < 0.04 < nearest["distance_to_wardrop"]
    assert nearest["station_loads_eph"][1:] == [0.0, 0.0] and nearest["wardrop_relative_gap"] == float("inf")
    assert exact["price_of_anarchy"] == pytest.approx(1.0092334, abs=1e-7)
    assert exact["lost_share"] == 0.0 and exact["unserved_share"] == 0.0
    batch = make_task(BATCH)
    m = ev_metrics(batch, batch.policy("optimum"), seed=0, episodes=2)
    assert m["counts"] == [10, 12, 18] and m["max_regret"] == pytest.approx(3.167, abs=5e-4)
    assert m["efficiency_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert ev_metrics(batch, batch.policy("exact"), seed=0, episodes=2)["efficiency_ratio"] == pytest.approx(
        1.012715, abs=1e-6
    )


@pytest.mark.parametrize(
    "bad, words",
    [
        (lambda a: a[:, :-1], "has shape"),
        (lambda a: np.where(a == a, 4, a), "out of range"),  # head 0 has 4 choices (0 = schedule, 1..3 = options)
        (lambda a: a.astype(float), "must be integer"),
    ],
)
def test_bad_actions_are_named_and_change_nothing(bad: object, words: str) -> None:
    from econbench.core import ActionError

    task = make_task(SMALL)
    env = BatchedEnv(task, 2, seed=0)
    obs = env.reset()
    good = np.asarray(task.policy("least_cost")["drivers"](obs["drivers"]))
    before = np.asarray(env.state.soc).copy(), np.asarray(env.state.status).copy()
    with pytest.raises(ActionError, match=words):
        env.step({"drivers": bad(good)})  # type: ignore[operator]
    assert np.array_equal(np.asarray(env.state.soc), before[0]) and np.array_equal(
        np.asarray(env.state.status), before[1]
    )
    env.step({"drivers": good})  # the env still steps


def test_kept_observations_are_never_overwritten() -> None:
    """Observations come from recycled buffers (NumPy): any one a caller keeps must stay as it was."""
    task = make_task("econbench/EVCharging-v0")
    env = BatchedEnv(task, 2, seed=3)
    rule = task.policy("shortest_wait", env.backend)["drivers"]
    obs = env.reset()
    kept = [(obs["drivers"], obs["drivers"].copy())]
    for t in range(120):
        obs, *_ = env.step({"drivers": rule(obs["drivers"])})
        if t % 40 == 0:
            kept.append((obs["drivers"][1], obs["drivers"][1].copy()))
    assert len({a.base.ctypes.data for a, _ in kept}) == len(kept)
    for a, copy in kept:
        np.testing.assert_array_equal(a, copy)


# ---------------------------------------------------------------------------- the task's hooks
def test_steady_solution_hook_is_the_cards_wardrop_and_optimum() -> None:
    """``econbench solve``: spec B5 Example 1's figures as EVCharging-Steady's card states them."""
    task = make_task(STEADY)
    assert task.solution is not None
    s = task.solution(task.params)
    np.testing.assert_allclose(s["Wardrop station loads (EV/h)"], [8.1729, 9.8271, 0.0], atol=5e-5)
    np.testing.assert_allclose(s["system-optimum station loads (EV/h)"], [7.1068, 7.9618, 2.9314], atol=5e-5)
    assert s["Wardrop cost per EV ($)"] == pytest.approx(32.7319, abs=5e-5)
    assert s["system-optimum cost per EV ($)"] == pytest.approx(32.4325, abs=5e-5)
    assert s["price of anarchy TC(UE) / TC(SO)"] == pytest.approx(1.0092334, abs=1e-7)
    assert s["demand (EV/h)"] == 18.0 and s["Wardrop relative gap"] < 1e-12
    assert s["Wardrop flows (EV/h), origin x class x station"].shape == (1, 1, 3)


def test_batch_solution_hook_is_the_cards_game() -> None:
    """Spec B5 Example 3 as EVCharging-Batch's card states it; the totals are the card's reference scores."""
    task = make_task(BATCH)
    assert task.solution is not None
    s = task.solution(task.params)
    assert tuple(s["Nash equilibrium station counts"]) == (12, 12, 16)
    assert tuple(s["optimum station counts"]) == (10, 12, 18)
    assert s["Nash equilibrium total cost ($)"] == pytest.approx(1407.568, abs=5e-4)
    assert s["optimum total cost ($)"] == pytest.approx(1389.895, abs=5e-4)
    assert s["price of anarchy (Nash / optimum)"] == pytest.approx(1.012715, abs=1e-6)
    assert s["Nash equilibrium NashConv ($)"] == 0.0
    ref = task.card["reference_scores"]
    for key, policy in (
        ("Nash equilibrium total cost ($)", "exact"),
        ("optimum total cost ($)", "optimum"),
        ("naive profile total cost ($)", "least_cost"),
    ):
        assert -s[key] == pytest.approx(ref[policy]["score"], rel=1e-9)


def test_only_the_static_models_have_an_exact_solution() -> None:
    for task_id in (SMALL, "econbench/EVCharging-Driver-v0"):
        assert make_task(task_id).solution is None


def test_report_hook_is_ev_metrics() -> None:
    from econbench.envs.ev_charging.metrics import ev_metrics

    task = make_task(BATCH)
    assert task.report is not None
    got = task.report(task, task.policy("optimum"), seed=0, episodes=2, backend="numpy")
    assert got == {"ev_metrics": ev_metrics(task, task.policy("optimum"), seed=0, episodes=2)}
    assert got["ev_metrics"]["counts"] == [10, 12, 18]


def test_figure_hook_draws_the_rollout(tmp_path: object) -> None:
    pytest.importorskip("matplotlib")
    from pathlib import Path

    task = make_task(BATCH)
    assert task.figure is not None
    out = Path(task.figure(task, ["exact", "optimum"], Path(str(tmp_path)) / "ev.png", seed=0))
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_prints_the_ev_metrics_section(capsys: pytest.CaptureFixture[str]) -> None:
    """The report hook's output is one ``ev_metrics`` section of ``econbench evaluate --json``, beside the score."""
    import json

    from econbench.cli import main

    assert (
        main(["evaluate", "--task", "econbench/EVCharging-Steady-v0", "--seeds", "1000", "--episodes", "2", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert "cost_per_request" not in out and out["ev_metrics"]["cost_per_request"] > 0
