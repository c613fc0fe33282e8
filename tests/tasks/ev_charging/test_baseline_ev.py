"""The learned EV-charging baselines: SB3 PPO on the operator and driver views, shared PPO on the game.

Tiny end-to-end runs check the contracts (the scripts train on these tasks and
leave policies that ``econbench.metrics.evaluate`` scores); ``ev_report``'s
Wardrop distances are checked against the exact equilibrium; the shipped
runs must still reproduce the numbers ``baselines/results/ev/summary.md`` quotes.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("torch")

from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.city import steady_instance
from econbench.metrics import evaluate
from econbench.registry import make_task
from tests.conftest import seed_zero_in_ci

ROOT = Path(__file__).resolve().parents[3]
BASELINES = ROOT / "baselines"
RESULTS = BASELINES / "results" / "ev"
OPERATOR = "econbench/EVCharging-Operator-v0"
DRIVER = "econbench/EVCharging-Driver-v0"
STEADY = "econbench/EVCharging-Steady-v0"
DYNAMIC = "econbench/EVCharging-v0"


def load(name: str) -> ModuleType:
    """``baselines/<name>.py`` by path (``baselines`` is not a package)."""
    spec = importlib.util.spec_from_file_location(f"econbench_test_ev_{name}", BASELINES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report() -> ModuleType:
    return load("ev_report")


@pytest.fixture(scope="module")
def steady() -> tuple[solution.Instance, solution.Assignment, solution.Assignment]:
    inst = steady_instance(make_task(STEADY).params)
    return inst, solution.wardrop(inst), solution.system_optimum(inst)


# ---------------------------------------------------------------------------- tiny end-to-end runs
def test_sb3_on_the_operator_trains_and_is_scored(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    sb3 = load("sb3_ppo")
    folder = sb3.main(
        [
            "--task",
            OPERATOR,
            "--seed",
            "1",
            "--total-timesteps",
            "384",
            "--n-envs",
            "4",
            "--hp",
            "n_steps=48",
            "--hp",
            "batch_size=64",
            "--hp",
            "n_epochs=2",
            "--out",
            str(tmp_path),
        ]
    )
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["hyperparameters"]["reward_offset"] == 1.0 and meta["normalize_actions"] is True
    # the offset is for training only: the logged returns stay in natural units (-PoA summed over 24 hours)
    curve = np.loadtxt(folder / "curve.csv", delimiter=",", skiprows=1, ndmin=2)
    assert np.all((curve[:, 1] < -24.0 + 1e-9) & (curve[:, 1] > -26.0))
    res = evaluate(OPERATOR, str(folder))
    assert -26.0 < res.mean <= -24.0 + 1e-9
    assert json.loads((folder / "eval.json").read_text())["score"] == pytest.approx(res.mean, rel=1e-12)


def test_sb3_on_the_driver_view_trains_on_features_and_is_scored(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    sb3 = load("sb3_ppo")
    folder = sb3.main(
        [
            "--task",
            DRIVER,
            "--seed",
            "1",
            "--total-timesteps",
            "128",
            "--n-envs",
            "2",
            "--hp",
            "n_steps=64",
            "--hp",
            "batch_size=64",
            "--hp",
            "n_epochs=1",
            "--out",
            str(tmp_path),
            "--no-eval",
        ]
    )
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["normalize_actions"] is False
    from econbench import policies
    from econbench.learn.sb3_score import checkpoint_profile

    pf = policies.load(folder)
    assert pf.arrays["drivers/w0"].shape[1] == 20  # the features, not the dict with the mask
    assert pf.arrays["drivers/w2"].shape[0] == 4 + 3  # logits of the two heads
    task = make_task(DRIVER)
    res = evaluate(task, checkpoint_profile(task, folder), episodes=2)
    profile = checkpoint_profile(task, folder, deterministic=False)
    assert res.scores.shape == (1, 2) and np.all(np.isfinite(res.scores))
    # driver 0 is the learner, the others keep the role's rule: with the learner playing that rule too, the
    # profile reproduces the rule's score exactly
    base = task.policy("shortest_wait")["drivers"]
    obs = np.zeros((3, 300, 20), dtype=np.float32)
    acts = profile["drivers"](obs)
    assert acts.shape == (3, 300, 2) and acts.dtype == np.int64
    np.testing.assert_array_equal(acts[:, 1:], np.asarray(base(obs))[:, 1:])


def test_shared_ppo_on_the_steady_game_runs_and_is_scored(tmp_path: Path, report: ModuleType) -> None:
    sppo = load("shared_ppo")
    run = sppo.main(
        [
            "--task",
            STEADY,
            "--total-timesteps",
            "512",
            "--n-envs",
            "4",
            "--num-steps",
            "64",
            "--out",
            str(tmp_path),
            "--eval-episodes",
            "2",
        ]
    )
    result = json.loads((run / "eval.json").read_text())
    assert math.isfinite(result["score"]) and result["equilibrium_gap"][0]["group"] == "drivers"
    res = evaluate(STEADY, str(run), episodes=2)  # a run folder is a policy spec
    assert res.mean == pytest.approx(result["score"], rel=1e-12)
    r = report.steady_report(str(run), episodes=2, with_gap=False)
    assert r["score"] == pytest.approx(res.mean, rel=1e-12)
    w = r["wardrop"]
    assert sum(w["loads"]) + w["unserved_load"] == pytest.approx(18.0)
    assert 0.0 <= w["allocation_distance_ue"] <= 1.0


# ---------------------------------------------------------------------------- Wardrop distances
def test_allocation_distance_and_relative_gap_vanish_at_the_wardrop_loads(steady) -> None:
    from econbench.envs.ev_charging.metrics import split_metrics

    inst, ue, so = steady
    np.testing.assert_allclose(ue.loads, [8.1729, 9.8271, 0.0], atol=1e-4)

    def at(loads: np.ndarray) -> dict[str, float]:
        return split_metrics(inst, np.asarray(loads, dtype=float).reshape(1, 1, -1), ue, so)

    m = at(ue.loads)
    assert m["distance_to_wardrop"] == pytest.approx(0.0, abs=1e-12)
    assert abs(m["wardrop_relative_gap"]) < 1e-9
    assert m["efficiency_ratio"] == pytest.approx(1.0092334, abs=1e-6)  # the PoA (B5)
    # the optimum is not an equilibrium, and unserved demand counts as misallocated
    assert at(so.loads)["wardrop_relative_gap"] > 1e-3
    assert at(so.loads)["distance_to_wardrop"] == pytest.approx(np.abs(so.loads - ue.loads).sum() / 36)
    short = at(ue.loads * 0.9)  # 1.8 EV/h unserved; the served split is the equilibrium's
    assert short["distance_to_wardrop"] == pytest.approx(0.1)
    assert abs(short["wardrop_relative_gap"]) < 1e-9
    # beyond a station's capacity the M/M/c wait is infinite
    assert at(np.array([18.0, 0.0, 0.0]))["wardrop_relative_gap"] == math.inf


def test_the_exact_split_policy_is_close_to_the_wardrop_loads_and_nearest_is_not(report: ModuleType) -> None:
    exact = report.steady_report("exact", episodes=8, with_gap=False)["wardrop"]
    nearest = report.steady_report("nearest", episodes=2, with_gap=False)["wardrop"]
    assert exact["allocation_distance_ue"] < 0.03  # Poisson noise of ~3,500 requests only
    assert exact["relative_gap"] is not None and exact["relative_gap"] < 0.02
    assert exact["unserved_load"] == 0.0 and exact["loads"][2] == 0.0
    assert nearest["loads"] == pytest.approx([18.0, 0.0, 0.0])  # all at the closest station, beyond its capacity
    assert nearest["allocation_distance_ue"] > 0.5 and nearest["relative_gap"] is None  # None: infinite (strict JSON)


# ---------------------------------------------------------------------------- shipped runs
def _shipped(pattern: str) -> list[Path]:
    return sorted(p.parent for p in (BASELINES / "checkpoints").glob(pattern))


@pytest.mark.parametrize(
    "run",
    seed_zero_in_ci(_shipped("EVCharging-*/shared_ppo_seed*/checkpoint.pt"), lambda p: p.name),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_shipped_shared_ppo_runs_reproduce_their_eval_json(run: Path) -> None:
    recorded = json.loads((run / "eval.json").read_text())
    res = evaluate(recorded["task_id"], str(run))
    assert res.mean == pytest.approx(recorded["score"], rel=1e-9)


@pytest.mark.parametrize(
    "path",
    seed_zero_in_ci(sorted(RESULTS.glob("steady_shared_ppo_seed*.json")), lambda p: p.stem),
    ids=lambda p: p.stem,
)
def test_steady_reports_reproduce(path: Path, report: ModuleType) -> None:
    recorded = json.loads(path.read_text())
    run = recorded["policy"] if Path(recorded["policy"]).is_absolute() else str(ROOT / recorded["policy"])
    r = report.steady_report(run, with_gap=False, sampled=recorded.get("actions") == "sampled")
    assert r["score"] == pytest.approx(recorded["score"], rel=1e-9)
    for key in ("loads", "allocation_distance_ue", "relative_gap", "efficiency_ratio"):
        assert r["wardrop"][key] == pytest.approx(recorded["wardrop"][key], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "folder",
    seed_zero_in_ci(
        sorted(p.parent for p in (RESULTS / "EVCharging-Driver-v0").glob("ppo_seed*/policy.json")), lambda p: p.name
    ),
    ids=lambda p: p.name,
)
def test_shipped_driver_checkpoints_reproduce_their_eval_json(folder: Path) -> None:
    pytest.importorskip("stable_baselines3")
    from econbench.learn.sb3_score import checkpoint_profile

    recorded = json.loads((folder / "eval.json").read_text())
    task = make_task(DRIVER)
    res = evaluate(task, checkpoint_profile(task, folder))
    assert res.mean == pytest.approx(recorded["score"], rel=1e-9)
    shortest = recorded["vs_named"]["shortest_wait"]
    assert shortest["score"] == pytest.approx(evaluate(task, "shortest_wait").mean, rel=1e-9)


def test_discrete_views_are_scored_by_econbench_itself() -> None:
    """Integer actions from a callable or an SB3 checkpoint reach the env as integers (no cast to float)."""
    from econbench.cards import load_card
    from econbench.metrics import evaluate

    task_id = "econbench/EVCharging-Driver-v0"
    never = evaluate(task_id, lambda o: np.zeros((o.shape[0], 2), np.int64))
    assert never.mean == pytest.approx(load_card(task_id)["reference_scores"]["no_charging"]["score"], rel=1e-9)
    pytest.importorskip("stable_baselines3")
    folder = Path(__file__).resolve().parents[3] / "baselines" / "results" / "ev" / "EVCharging-Driver-v0" / "ppo_seed0"
    recorded = json.loads((folder / "eval.json").read_text())["score"]
    assert evaluate(task_id, str(folder)).mean == pytest.approx(recorded, rel=1e-9)


# ---------------------------------------------------------------------------- the cards' learned tables
@pytest.mark.parametrize("task_id", [STEADY, DYNAMIC, DRIVER])
def test_card_learned_scores_are_the_shipped_reports(task_id: str, report: ModuleType) -> None:
    """Each EV card lists every shipped learned run, with the figures of its report file."""
    from econbench.cards import load_card

    listed = load_card(task_id).get("learned_scores", {})
    expected = report.learned_tables(json.loads((RESULTS / "summary.json").read_text()))[task_id.split("/")[1]]
    assert set(listed) == set(expected) and len(listed) == 6  # 3 seeds x (argmax, sampled)
    for name, entry in listed.items():
        recorded = json.loads((ROOT / entry["report"]).read_text())
        play = recorded.get("sampled", recorded) if task_id == DRIVER and entry["actions"] == "sampled" else recorded
        assert (ROOT / entry["checkpoint"]).is_dir()
        assert entry["score"] == pytest.approx(play["score"], rel=1e-9)
        for key, value in expected[name].items():
            assert entry[key] == (pytest.approx(value, rel=1e-9) if not isinstance(value, str) else value), key


def test_variants_do_not_inherit_the_learned_scores() -> None:
    from econbench.cards import load_card

    assert load_card(DYNAMIC)["learned_scores"]
    assert "learned_scores" not in load_card("econbench/EVCharging-LargeCity-v0")
    assert "learned_scores" not in load_card("econbench/EVCharging-Batch-v0")
