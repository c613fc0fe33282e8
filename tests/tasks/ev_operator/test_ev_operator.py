"""EVCharging-Operator-v0: hourly tolls against the exact Wardrop equilibria of docs/models/ev_operator.md §4 (Example 1)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from econbench.core import ActionError, BatchedEnv
from econbench.envs.ev_charging import solution
from econbench.envs.ev_operator.params import OperatorParams
from econbench.registry import make_task

TASK = "econbench/EVCharging-Operator-v0"


def _hourly_poa(policy: str, dtype: str = "float64") -> np.ndarray:
    """The achieved PoA of every hour of one day, ``-reward``, with the task's named policy."""
    task = make_task(TASK)
    env = BatchedEnv(task, 1, dtype=dtype, seed=0)
    obs = env.reset()
    act = task.policy(policy, env.backend)["operator"]
    rows = []
    for _ in range(env.horizon):
        obs, out, term, trunc = env.step({"operator": act(obs["operator"])})
        rows.append(-float(out.rewards["operator"][0, 0]))
        assert float(out.welfare[0]) == float(out.rewards["operator"][0, 0])
    assert bool(term[0]) and not bool(trunc[0])  # the day ends the episode
    return np.array(rows)


def _example1(demand: float) -> solution.Instance:
    p: OperatorParams = make_task(TASK).params
    return p.instance(demand)


def test_card_is_example_1_with_a_two_peak_day() -> None:
    p: OperatorParams = make_task(TASK).params
    assert (p.plugs, p.power, p.price, p.detour, p.energy, p.vot) == (
        (10, 4, 6),
        (50.0, 150.0, 250.0),
        (0.35, 0.55, 0.60),
        (0.10, 0.20, 0.35),
        40.0,
        20.0,
    )
    d = np.array(p.demand)
    assert d.size == p.horizon == 24 and d.min() == 4.0 and d.max() == 30.0
    assert ((d >= 18) & (d <= 30)).sum() >= 6  # the high-PoA region of the sweep in docs/models/ev_charging.md §6
    assert p.capacity == pytest.approx(65.0)


def test_pigouvian_tolls_reach_the_optimum_every_hour() -> None:
    poa = _hourly_poa("exact")
    np.testing.assert_allclose(poa, 1.0, atol=1e-6)
    assert abs(poa.sum() - 24.0) < 1e-9  # the episode return: -24 at the optimum


def test_pigouvian_tolls_in_float32() -> None:
    """The exact policy reads the hour back from a float32 observation."""
    np.testing.assert_allclose(_hourly_poa("exact", "float32"), 1.0, atol=1e-6)


def test_no_tolls_give_each_hour_its_price_of_anarchy() -> None:
    p: OperatorParams = make_task(TASK).params
    poa = _hourly_poa("no_tolls")
    expected = [solution.price_of_anarchy(_example1(d)) for d in p.demand]
    np.testing.assert_allclose(poa, expected, rtol=1e-10)
    at18 = [h for h, d in enumerate(p.demand) if d == 18.0]
    assert at18 and all(poa[h] == pytest.approx(1.0092334, abs=1e-7) for h in at18)  # docs/models/ev_charging.md §6
    at24 = [h for h, d in enumerate(p.demand) if d == 24.0]
    assert at24 and all(poa[h] == pytest.approx(1.04029, abs=1e-5) for h in at24)  # docs/models/ev_charging.md §6 sweep
    assert poa.max() > 1.04


def test_flat_tolls_help_but_do_not_reach_the_optimum() -> None:
    flat, none = _hourly_poa("flat_2"), _hourly_poa("no_tolls")
    assert np.all(flat >= 1.0 - 1e-12)
    assert 0.0 < (flat - 1.0).sum() < 0.5 * (none - 1.0).sum()


def test_tolls_are_transfers() -> None:
    """A toll common to every station moves nobody and is not a cost: the reward equals the no-toll one."""
    task = make_task(TASK)
    env = BatchedEnv(task, 3, seed=0)
    env.reset()
    for _ in range(task.horizon):
        acts = np.array([[[0.0, 0.0, 0.0]], [[3.0, 3.0, 3.0]], [[9.5, 9.5, 9.5]]])
        _, out, *_ = env.step({"operator": acts})
        r = out.rewards["operator"][:, 0]
        np.testing.assert_allclose(r[1:], r[0], rtol=0, atol=1e-12)


def test_no_tolls_beat_the_optimum_and_envs_are_independent() -> None:
    """Random tolls, one row per env: never below the optimum, and each env as if it ran alone."""
    task = make_task(TASK)
    rng = np.random.default_rng(0)
    tolls = rng.uniform(0.0, 4.0, (task.horizon, 5, 1, 3))
    batch = BatchedEnv(task, 5, seed=0)
    batch.reset()
    rewards = np.stack([batch.step({"operator": a})[1].rewards["operator"][:, 0] for a in tolls])
    assert np.all(rewards <= -1.0 + 1e-12)
    split = np.array(task.params.demand) >= 12.0  # the optimum uses several stations: random tolls miss it
    assert np.all(rewards[split] < -1.0 - 1e-6)
    single = BatchedEnv(task, 1, seed=0)
    single.reset()
    alone = np.array([single.step({"operator": a[3:4]})[1].rewards["operator"][0, 0] for a in tolls])
    np.testing.assert_array_equal(rewards[:, 3], alone)


def test_observation_is_hour_and_demand_over_capacity() -> None:
    task = make_task(TASK)
    p: OperatorParams = task.params
    env = BatchedEnv(task, 2, seed=0)
    obs = env.reset()["operator"]
    zeros = {"operator": np.zeros((2, 1, 3))}
    for h in range(task.horizon):
        assert obs.shape == (2, 1, 3)
        np.testing.assert_allclose(obs[0, 0], [h / 24, p.demand[h] / 65.0, p.demand[(h + 1) % 24] / 65.0])
        obs = env.step(zeros)[0]["operator"]


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((1, 1, 3), np.nan), "NaN"),
        (np.array([[[1.0, -0.5, 0.0]]]), "out of range"),
        (np.array([[[1.0, 0.0, 10.5]]]), "out of range"),
        (np.zeros((1, 3)), "shape"),
        (np.zeros((1, 1, 2)), "shape"),
        (np.zeros((1, 1, 3), dtype=np.int64), "floating point"),
    ],
)
def test_bad_tolls_raise(bad: np.ndarray, match: str) -> None:
    env = BatchedEnv(make_task(TASK), 1, seed=0)
    env.reset()
    with pytest.raises(ActionError, match=match):
        env.step({"operator": bad})
    with pytest.raises(ActionError, match="groups"):
        env.step({"planner": np.zeros((1, 1, 3))})


def test_gymnasium_env() -> None:
    env = gym.make(TASK)
    check_env(env.unwrapped)
    assert env.action_space.shape == (3,) and env.observation_space.shape == (3,)
    obs, _ = env.reset(seed=0)
    total, steps, term = 0.0, 0, False
    while not term:
        obs, reward, term, trunc, _ = env.step(np.zeros(3))
        total, steps = total + reward, steps + 1
    assert steps == 24 and term and not trunc  # the day ends by itself: terminated, not also truncated
    assert total == pytest.approx(make_task(TASK).card["reference_scores"]["no_tolls"]["score"], rel=1e-9)


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="capacity"):
        make_task(TASK, demand=[10.0, 70.0])
    with pytest.raises(ValueError, match="one value per station"):
        make_task(TASK, plugs=[10, 4])
    with pytest.raises(ValueError, match="above toll_max"):
        make_task(TASK, toll_max=1.0).policy("exact")


@pytest.mark.parametrize("demand, kind", [(8.35, "ue"), (5.6, "so"), (6.0, "so"), (18.0, "ue"), (18.0, "so")])
def test_water_filling_meets_demand(demand: float, kind: str) -> None:
    """Where the slow station's Erlang-C wait is nearly flat its load hardly moves the level; the loads must still
    add up to the demand (they missed it by up to 0.12 EV/h before solution._water_fill absorbed the residual)."""
    inst = _example1(demand)
    a = solution.wardrop_single(inst) if kind == "ue" else solution.system_optimum_single(inst)
    assert a.loads.sum() == pytest.approx(demand, abs=1e-12)
    if kind == "ue":
        assert inst.relative_gap(a.flows) < 1e-12
        if demand == 8.35:  # the fast station costs more than the slow one's $32 at 8.35 EV/h alone
            assert a.loads[0] == pytest.approx(0.1166, abs=1e-4)


def test_solution_summary_is_the_specs_and_the_cards() -> None:
    """The ``solution`` hook (``econbench solve``): the optimum of an 18 EV/h hour is spec B5 Example 1's (the
    Steady card's figures), the PoA the sweep's, and the day's returns the card's reference scores."""
    task = make_task(TASK)
    p: OperatorParams = task.params
    assert task.solution is not None
    s = task.solution(p)
    h18 = p.demand.index(18.0)
    np.testing.assert_allclose(
        s["system-optimum loads (EV/h), hour x station"][h18], [7.1068, 7.9618, 2.9314], atol=1e-4
    )
    assert s["system-optimum cost TC(SO) ($/h), per hour"][h18] / 18.0 == pytest.approx(32.4325, abs=5e-5)
    assert s["untolled equilibrium cost TC(UE) ($/h), per hour"][h18] / 18.0 == pytest.approx(32.7319, abs=5e-5)
    poa = s["price of anarchy without tolls, per hour"]
    assert poa[h18] == pytest.approx(1.0092334, abs=1e-7)
    assert poa[p.demand.index(24.0)] == pytest.approx(1.04029, abs=1e-5)
    assert s["system-optimum loads (EV/h), hour x station"].sum(axis=1) == pytest.approx(np.array(p.demand), abs=1e-9)
    assert s["largest Pigouvian toll ($/EV)"] < 2.5  # the card's toll_max note
    ref = task.card["reference_scores"]
    assert s["episode return under the Pigouvian tolls (exact)"] == ref["exact"]["score"]
    assert s["episode return without tolls"] == pytest.approx(ref["no_tolls"]["score"], rel=1e-9)
