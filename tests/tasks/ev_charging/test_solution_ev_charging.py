"""EV-charging exact references against the worked numbers of docs/models/ev_charging.md §6."""

from __future__ import annotations

import math

import numpy as np
import pytest

from econbench.envs.ev_charging.solution import (
    BatchGame,
    Instance,
    Stations,
    batch_wait,
    erlang_c,
    mmc_wait,
    pigouvian_tolls,
    price_of_anarchy,
    separable_game,
    system_optimum,
    wardrop,
)

# Example 1: slow/cheap/near, fast, ultra-fast/far; e = 40 kWh, v = $20/h
STATIONS = Stations(plugs=(10, 4, 6), power=(50.0, 150.0, 250.0), price=(0.35, 0.55, 0.60))
DETOUR = (0.10, 0.20, 0.35)


def example1(demand: float) -> Instance:
    return Instance.single(STATIONS, 40.0, DETOUR, demand, 20.0)


def test_erlang_c_against_closed_forms() -> None:
    assert erlang_c(1, 0.6) == pytest.approx(0.6)  # M/M/1: the wait probability is rho
    a, c = 3.0, 4  # textbook formula with factorials
    top = a**c / math.factorial(c) / (1 - a / c)
    assert erlang_c(c, a) == pytest.approx(top / (sum(a**n / math.factorial(n) for n in range(c)) + top))
    assert mmc_wait(0.5, 1, 1.0) == pytest.approx(0.5 / (1.0 - 0.5))  # M/M/1 queue wait rho / (mu - lambda)
    assert mmc_wait(1.0, 1, 1.0) == math.inf


def test_pigou() -> None:
    ue, so, poa = separable_game([lambda x: 1.0, lambda x: x], 1.0)
    np.testing.assert_allclose(ue, [0.0, 1.0], atol=1e-8)
    np.testing.assert_allclose(so, [0.5, 0.5], atol=1e-8)
    assert poa == pytest.approx(4 / 3, rel=1e-9)


def test_roughgarden_mm1_bound_is_attained() -> None:
    """M/M/1 delays 1/(u - x) with load R: PoA <= (1 + sqrt(u/(u - R)))/2, tight on a Pigou-type instance."""
    u, R = 1.0, 0.9
    _, _, poa = separable_game([lambda x: 1.0 / (u - R), lambda x: 1.0 / (u - x)], R)
    assert poa == pytest.approx((1 + math.sqrt(u / (u - R))) / 2, rel=1e-7)
    assert poa == pytest.approx(2.0811388, abs=1e-7)


def test_three_stations_at_18_ev_per_hour() -> None:
    inst = example1(18.0)
    ue, so = wardrop(inst), system_optimum(inst)
    np.testing.assert_allclose(ue.loads, [8.1729, 9.8271, 0.0], atol=1e-4)
    np.testing.assert_allclose(so.loads, [7.1068, 7.9618, 2.9314], atol=1e-4)
    np.testing.assert_allclose(ue.waits * 60, [2.196, 4.196, 0.0], atol=1e-3)
    np.testing.assert_allclose(so.waits * 60, [0.841, 1.753, 0.0], atol=1e-3)
    assert ue.per_ev_cost[:2] == pytest.approx([32.7319, 32.7319], abs=1e-4)  # equal on used stations
    np.testing.assert_allclose(so.per_ev_cost, [32.2802, 31.9176, 34.2], atol=1e-4)
    assert ue.total_cost == pytest.approx(589.1748, abs=1e-3)
    assert so.total_cost == pytest.approx(583.7845, abs=1e-3)
    assert ue.total_cost / so.total_cost == pytest.approx(1.0092334, abs=1e-7)
    np.testing.assert_allclose(pigouvian_tolls(inst, so), [1.9198, 2.2825, 0.0], atol=1e-4)
    assert inst.relative_gap(ue.flows) < 1e-9
    # naive splits (docs/models/ev_charging.md §6): equal and proportional to capacity
    equal = np.full((1, 1, 3), 6.0)
    proportional = (18.0 * inst.capacity / inst.capacity.sum())[None, None, :]
    assert inst.total_cost(equal) == pytest.approx(586.932, abs=1e-3)
    assert inst.relative_gap(equal) == pytest.approx(0.0329, abs=1e-4)
    assert inst.total_cost(proportional) == pytest.approx(596.360, abs=1e-3)
    assert inst.relative_gap(proportional) == pytest.approx(0.0527, abs=1e-4)


def test_tolls_make_the_optimum_an_equilibrium() -> None:
    inst = example1(18.0)
    so = system_optimum(inst)
    tolls = pigouvian_tolls(inst, so)
    tolled = Instance.single(
        Stations(STATIONS.plugs, STATIONS.power, tuple(p + t / 40.0 for p, t in zip(STATIONS.price, tolls))),
        40.0,
        DETOUR,
        18.0,
        20.0,
    )
    np.testing.assert_allclose(wardrop(tolled).loads, so.loads, atol=1e-6)


@pytest.mark.parametrize(
    "demand, ue_loads, so_loads, poa",
    [
        (6.0, (0, 6, 0), (0.533, 5.467, 0), 1.00037),
        (12.0, (3.758, 8.242, 0), (5.681, 6.319, 0), 1.00620),
        (24.0, (9.516, 11.360, 3.124), (7.114, 7.972, 8.913), 1.04029),
        (42.0, (9.613, 11.483, 20.903), (7.994, 9.246, 24.760), 1.01837),
    ],
)
def test_demand_sweep(demand: float, ue_loads: tuple[float, ...], so_loads: tuple[float, ...], poa: float) -> None:
    inst = example1(demand)
    np.testing.assert_allclose(wardrop(inst).loads, ue_loads, atol=1e-3)
    np.testing.assert_allclose(system_optimum(inst).loads, so_loads, atol=1e-3)
    assert price_of_anarchy(inst) == pytest.approx(poa, abs=1e-5)


def test_two_zones_two_classes() -> None:
    """Example 2 by SLSQP with exact gradients: the Beckmann value and the class splits of docs/models/ev_charging.md §6."""
    from scipy.integrate import quad

    inst = Instance(
        STATIONS,
        40.0,
        np.array([[0.10, 0.20, 0.35], [0.40, 0.15, 0.10]]),
        np.array([[8.0, 4.0], [10.0, 6.0]]),
        np.array([10.0, 40.0]),
    )
    ue, so = wardrop(inst), system_optimum(inst)
    assert inst.relative_gap(ue.flows) < 1e-8
    np.testing.assert_allclose(ue.loads, [8.774, 8.802, 10.425], atol=2e-3)
    np.testing.assert_allclose(ue.flows[0], [[8, 0, 0], [0, 4, 0]], atol=1e-5)  # zone A: low VOT S1, high VOT S2
    np.testing.assert_allclose(ue.flows[1, 1], [0, 0, 6], atol=1e-5)  # zone B high VOT: S3
    np.testing.assert_allclose(ue.flows[1, 0], [0.774, 4.802, 4.425], atol=2e-3)
    np.testing.assert_allclose(inst.time_costs(ue.flows)[1, 0], 2.6603, atol=1e-4)
    beckmann = (ue.flows * inst.fixed_time()).sum() + sum(
        quad(lambda u, s=s: mmc_wait(u, STATIONS.plugs[s], inst.mu[s]), 0.0, ue.loads[s])[0] for s in range(3)
    )
    assert beckmann == pytest.approx(54.118194, abs=1e-6)
    np.testing.assert_allclose(so.loads, [8.000, 4.893, 15.107], atol=1e-3)
    assert so.total_cost == pytest.approx(822.622, abs=1e-3)
    # the earlier 830.978 / 1.01016 came from a Frank-Wolfe iterate (gap ~1e-5); the exact equilibrium costs a bit less
    assert ue.total_cost == pytest.approx(830.978, abs=0.02)
    assert ue.total_cost / so.total_cost == pytest.approx(1.01016, abs=3e-5)


def _batch_game() -> BatchGame:
    rng = np.random.default_rng(2024)
    n = 40
    detour = np.stack([rng.uniform(0.05, 0.25, n), rng.uniform(0.10, 0.30, n), rng.uniform(0.20, 0.50, n)], axis=1)
    return BatchGame(STATIONS, 40.0, detour, 20.0)


def test_batch_wait_counts_full_rounds() -> None:
    assert batch_wait(1, 2, 1.0) == 0.0
    assert batch_wait(4, 2, 1.0) == pytest.approx((0 + 0 + 1 + 1) / 4)
    assert batch_wait(5, 2, 0.5) == pytest.approx(0.5 * (0 + 0 + 1 + 1 + 2) / 5)


def test_atomic_batch_game() -> None:
    game = _batch_game()
    naive = game.naive()
    assert game.counts(naive).tolist() == [3, 35, 2]
    assert game.total_cost(naive) == pytest.approx(1960.285, abs=1e-3)
    assert game.nash_conv(naive) == pytest.approx(660.736, abs=2e-3)
    assert game.regrets(naive).max() == pytest.approx(20.573, abs=1e-3)
    nash, sweeps = game.best_response_dynamics()
    assert game.counts(nash).tolist() == [12, 12, 16] and sweeps + 1 == 8  # the last sweep confirms
    assert game.total_cost(nash) == pytest.approx(1407.568, abs=1e-3)
    assert game.nash_conv(nash) == 0.0
    best = game.optimum()
    assert game.counts(best).tolist() == [10, 12, 18]
    assert game.total_cost(best) == pytest.approx(1389.895, abs=1e-3)
    assert game.nash_conv(best) == pytest.approx(35.302, abs=1e-3)
    assert game.regrets(best).max() == pytest.approx(3.167, abs=1e-3)
    assert game.total_cost(nash) / game.total_cost(best) == pytest.approx(1.012715, abs=1e-6)


def test_the_assignment_is_optimal_on_a_small_game() -> None:
    """Brute force over all 3^6 profiles of a 6-driver game."""
    import itertools

    rng = np.random.default_rng(0)
    game = BatchGame(
        Stations((1, 2, 1), (50.0, 150.0, 250.0), (0.35, 0.55, 0.60)), 40.0, rng.uniform(0, 0.5, (6, 3)), 20.0
    )
    brute = min(game.total_cost(np.array(p)) for p in itertools.product(range(3), repeat=6))
    assert game.total_cost(game.optimum()) == pytest.approx(brute, rel=1e-12)


def test_bad_instances_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="capacity"):
        example1(100.0)
    with pytest.raises(ValueError, match="one value per station"):
        Stations((1, 2), (50.0,), (0.3, 0.4))
    with pytest.raises(ValueError, match="one origin and one class"):
        from econbench.envs.ev_charging.solution import wardrop_single

        wardrop_single(Instance(STATIONS, 40.0, np.array([DETOUR, DETOUR]), np.array([[1.0], [2.0]]), np.array([20.0])))
