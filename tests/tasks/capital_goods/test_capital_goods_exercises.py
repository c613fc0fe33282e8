"""The draft's exercises (baselines/capital_goods.py) run end to end at the CI budget."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[3] / "baselines" / "capital_goods.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("econbench_capital_goods_exercises", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_exercises_cover_the_drafts_questions() -> None:
    ex = _module().EXERCISES
    planners = sorted(e.params.get("n_households", 1) for e in ex.values() if e.task.endswith("Planner-v0"))
    assert {1, 4, 100} <= set(planners)
    assert {(2, 2), (10, 10)} <= {(e.params.get("n_households"), e.params.get("n_capital")) for e in ex.values()}
    rewards = {e.params.get("reward", "shared") for e in ex.values() if e.task.endswith("CapitalGoods-v0")}
    assert rewards == {"shared", "own"}
    assert any(e.params.get("informed_share") == 0.5 for e in ex.values())
    from econbench.registry import make_task

    games = [make_task(e.task, **e.params).params for e in ex.values() if "CapitalGoodsGame" in e.task]
    assert {(p.n_households, p.firms_per_good) for p in games} >= {(1, 1), (2, 2), (10, 10)}
    assert any(p.opaque_stocks for p in games) and any(p.opaque_prices for p in games)


def test_quick_firm_exercise_reports_distance_to_competition(tmp_path: Path) -> None:
    cg = _module()
    out = tmp_path / "results"
    cg.main(["firms_2v2", "--quick", "--out", str(out), "--runs", str(tmp_path / "runs"), "--episodes", "2"])
    r = json.loads((out / "firms_2v2.json").read_text())
    assert r["task_id"] == "econbench/CapitalGoodsGame-v0" and r["static_nash_markup"] == pytest.approx(1.5)
    assert r["ce_gain_over_competitive"] == pytest.approx(np.expm1(0.02 * (r["score"] - r["competitive"])))
    assert 0.5 <= r["markup"] <= 3.0 and r["gap_firms"] >= 0.0 and r["gap_households"] >= 0.0
    # the static-Nash references are the closed form's: K(1.5)/K_CE = 1.5^(-1/1.7), its output gap to itself 0
    assert r["capital_over_competitive_static_nash"] == pytest.approx(1.5 ** (-1 / 1.7), rel=0.02)
    assert "| firms_2v2 |" in (out / "summary.md").read_text()
    cg.main(
        ["firms_2v2", "--trained-gap", "64", "--out", str(out), "--runs", str(tmp_path / "runs"), "--episodes", "2"]
    )
    r2 = json.loads((out / "firms_2v2.json").read_text())
    assert r2["score"] == r["score"] and r2["trained_gap_steps"] == 64  # the report is extended, not redone
    for group in ("households", "firms"):
        assert np.isfinite(r2[f"trained_gap_{group}"]) and r2[f"trained_gap_{group}"] >= 0.0


def test_quick_exercises_report_the_drafts_measures(tmp_path: Path) -> None:
    cg = _module()
    out = tmp_path / "results"
    written = cg.main(
        [
            "planner_1hh",
            "households_own_5",
            "--quick",
            "--out",
            str(out),
            "--runs",
            str(tmp_path / "runs"),
            "--episodes",
            "2",
        ]
    )
    assert [p.name for p in written] == ["planner_1hh.json", "households_own_5.json", "summary.md"]
    planner = json.loads((out / "planner_1hh.json").read_text())
    regret = (planner["exact"] - planner["score"]) / (planner["exact"] - planner["constant_saving"])
    assert planner["normalized_regret"] == pytest.approx(regret)
    assert planner["ce_gain_over_constant"] == pytest.approx(
        np.expm1(0.02 * (planner["score"] - planner["constant_saving"]))
    )
    assert planner["percent_of_optimum"] == pytest.approx(100 * planner["score"] / planner["exact"])
    assert planner["ce_percent_of_optimum"] == pytest.approx(100 * np.exp(0.02 * (planner["score"] - planner["exact"])))
    own = json.loads((out / "households_own_5.json").read_text())
    assert own["params"] == {"n_households": 5, "reward": "own"} and "normalized_regret" not in own
    for r in (planner, own):
        assert np.isfinite(r["euler_error_mean"]) and r["euler_error_mean"] <= r["euler_error_max"] < 1.0
        assert 0.5 < r["capital_over_k_ss_constant_saving"] < 1.5
    table = (out / "summary.md").read_text()
    assert "| planner_1hh |" in table and "| households_own_5 |" in table
    # --export: the run as a float64 named-policy folder of exactly its economy, scoring as the run did
    from econbench.metrics import evaluate
    from econbench.policies import load
    from econbench.registry import make_task

    (folder,) = cg.export_runs(["planner_1hh"], runs=tmp_path / "runs", dest=tmp_path / "trained")
    pf = load(folder)
    assert folder.name == "shared_ppo_cpu_seed0" and pf.spec.provenance["timesteps"] == 2_048
    assert pf.spec.params["n_households"] == 1 and pf.spec.params["beta"] == make_task(planner["task_id"]).params.beta
    task = make_task(planner["task_id"])
    assert evaluate(task, str(folder), episodes=2).mean == pytest.approx(
        evaluate(task, str(tmp_path / "runs" / "CapitalGoods-Planner-v0" / "planner_1hh_seed0"), episodes=2).mean,
        rel=1e-6,
    )


@pytest.mark.parametrize("name", ["planner_1hh", "planner_4hh", "planner_10x10"])
def test_planner_noise_is_relative_to_the_per_good_share(name: str) -> None:
    """The share's exploration std is ``relative_noise`` times one good's steady-state share, whatever the goods."""
    from econbench.registry import make_task

    cg = _module()
    ex = cg.EXERCISES[name]
    task = make_task(ex.task, **ex.params)
    settings = cg.start_settings(task, ex)
    share = task.params.saving_ss / task.params.n_capital
    assert ex.relative_noise is not None
    assert np.exp(settings["log_std"]["planner"]) / 2 == pytest.approx(ex.relative_noise * share)
    assert (np.array(settings["init_bias"]["planner"]) + 1) / 2 == pytest.approx(share)


def test_flat_start_plays_constant_saving_in_every_state(tmp_path: Path) -> None:
    """A flat start's policy mean is the steady-state share whatever the state (the default head's is not)."""
    import torch

    from econbench.learn import SharedPPOConfig
    from econbench.learn.networks import GroupAgent, to_env_action
    from econbench.learn.runs import read_checkpoint
    from econbench.registry import make_task

    cg = _module()
    ex = cg.EXERCISES["planner_10x10"]
    task = make_task(ex.task, **ex.params)
    config = SharedPPOConfig.for_task(ex.task, params=ex.params, **cg.start_settings(task, ex))
    folder = cg.flat_start(task, config, tmp_path / "start")
    g = task.group("planner")
    agent = GroupAgent(g, config.hidden, 0.0, config.activation)
    agent.load_state_dict(read_checkpoint(folder)["agents"]["planner"])
    x = torch.randn(16, 1, g.observation.shape[0])
    with torch.no_grad():
        mean, _, _ = agent.act(x, None, deterministic=True)
    share = to_env_action(g, mean)
    assert np.allclose(share, task.params.saving_ss / task.params.n_capital, rtol=1e-6)
    assert agent.log_std.exp().mean().item() / 2 == pytest.approx(ex.relative_noise * share.mean(), rel=1e-5)


def test_percent_of_optimum_is_the_drafts_measure() -> None:
    cg = _module()
    r = {"score": 40.8, "exact": 41.0, "ce_loss_to_optimum": 0.004}
    assert cg.percent_of_optimum(r) == pytest.approx(
        {"percent_of_optimum": 99.5122, "ce_percent_of_optimum": 99.6}, rel=1e-5
    )
    assert cg.percent_of_optimum({"score": 1.0}) == {}
    assert np.isnan(cg.percent_of_optimum(r | {"exact": -1.0})["percent_of_optimum"])  # no meaning for V* <= 0


def test_unknown_exercise_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="planner_3hh"):
        _module().main(["planner_3hh", "--out", str(tmp_path)])


@pytest.mark.parametrize(
    "task_id",
    [
        "econbench/CapitalGoods-v0",
        "econbench/CapitalGoods-Market-v0",
        "econbench/CapitalGoods-Planner-v0",
        "econbench/CapitalGoodsGame-v0",
        "econbench/CapitalGoodsGame-1v1-v0",
        "econbench/CapitalGoodsGame-10v10-v0",
    ],
)
def test_card_learned_scores_are_the_exercise_reports(task_id: str) -> None:
    """Each card lists its exercises' full-budget results, as their report files have them."""
    from econbench.cards import load_card

    root = SCRIPT.parent.parent
    listed = load_card(task_id).get("learned_scores", {})
    reports = [
        json.loads(f.read_text()) for f in sorted((root / "baselines" / "results" / "capital_goods").glob("*.json"))
    ]
    mine = {r["exercise"]: r for r in reports if r["task_id"] == task_id and r["timesteps"] > 2_048}
    assert mine and set(listed) == set(mine)
    for name, entry in listed.items():
        for key, value in entry.items():
            if key == "report":
                assert (root / value).is_file()
            elif isinstance(value, (dict, str)):
                assert value == mine[name][key], key
            else:
                assert value == pytest.approx(mine[name][key], rel=1e-9), key


@pytest.mark.parametrize("name", ["planner_1hh", "households_own_5", "firms_2v2_opaque_prices"])
def test_shipped_exercise_runs_reproduce_their_scores(name: str) -> None:
    from econbench.learn.runs import load_profile
    from econbench.metrics import evaluate

    root = SCRIPT.parent.parent
    recorded = json.loads((root / "baselines" / "results" / "capital_goods" / f"{name}.json").read_text())
    task, profile = load_profile(root / recorded["run"])
    assert task.id == recorded["task_id"] and all(getattr(task.params, k) == v for k, v in recorded["params"].items())
    assert evaluate(task, profile).mean == pytest.approx(recorded["score"], rel=1e-9)
