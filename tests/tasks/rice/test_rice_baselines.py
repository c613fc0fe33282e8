"""RICE-N's learned baselines: baselines/rice.py end to end at the CI budget, and the shipped profiles (named
policies of the RICE tasks) scored by the card's protocol as baselines/results/rice/ records them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from econbench.envs.rice import trained
from econbench.envs.rice.metrics import climate_index, competition_metrics, economic_index
from econbench.learn.config import SharedPPOConfig
from econbench.metrics import evaluate
from econbench.registry import make_task
from tests.conftest import baseline_script

pytest.importorskip("torch")

RESULTS = Path(__file__).resolve().parents[3] / "baselines" / "results" / "rice"
TASKS = {
    "none": "econbench/RICECooperation-v0",
    "bilateral": "econbench/RICECooperation-Bilateral-v0",
    "club": "econbench/RICECooperation-Club-v0",
}
VIEWS = {
    "none": "econbench/RICECooperation-Region-v0",
    "bilateral": "econbench/RICECooperation-Bilateral-Region-v0",
    "club": "econbench/RICECooperation-Club-Region-v0",
}
SHIPPED = [(p, name) for p in TASKS for name in sorted(trained.shipped(p))]


def test_hyperparameters_train_one_whole_episode_per_update() -> None:
    for task_id in TASKS.values():
        cfg = SharedPPOConfig.for_task(task_id)
        assert cfg.num_steps == make_task(task_id).horizon and cfg.total_timesteps >= 100 * cfg.n_envs * cfg.num_steps


def test_quick_run_reports_the_competitions_question(tmp_path: Path) -> None:
    rice = baseline_script("rice")
    out, runs = tmp_path / "results", tmp_path / "runs"
    rice.main(["--quick", "--protocols", "none", "bilateral", "--seeds", "0", "--out", str(out), "--runs", str(runs)])
    for protocol in ("none", "bilateral"):
        r = json.loads((out / f"{protocol}.json").read_text())
        assert r["quick"] and r["params"]["n_regions"] == rice.QUICK_REGIONS and r["task_id"] == TASKS[protocol]
        (run,) = r["runs"]
        for key in ("score", "climate_index", "economic_index", "temperature_rise", "mean_mitigation"):
            assert np.isfinite(run[key]), key
        assert run["climate_index"] == pytest.approx(climate_index(run["temperature_rise"]), rel=1e-12)
        assert run["economic_index"] == pytest.approx(economic_index(run["gross_output_sum_activity_steps"]))
        assert run["gap"]["relative"] >= 0.0 and run["gap"]["method"].startswith("lower bound")
        tg = run["trained_gap"]
        assert tg["agent"] == 0 and tg["timesteps"] > 0 and np.isfinite(tg["relative"])
        assert set(r["rules"]) == set(rice.RULES) and set(r["aggregate"]["score"]) == {"iqm", "ci95", "per_seed"}
        # the record is the float64 profile the ship stage exports, scored by the card's protocol
        task = make_task(r["task_id"], **r["params"])
        folder = runs / TASKS[protocol].split("/")[1] / "shared_ppo_cpu_seed0" / "profile"
        assert evaluate(task, str(folder)).mean == pytest.approx(run["score"], rel=1e-12)
        assert r["rules"]["bau"]["score"] == pytest.approx(evaluate(task, "bau").mean, rel=1e-12)
    assert run["mean_agreement"] is not None and "mean_min_mitigation" in run  # bilateral: its agreements
    answer = json.loads((out / "answer.json").read_text())
    diff = answer["bilateral"]["climate_index_vs_none"]
    assert diff["value"] == pytest.approx(
        run["climate_index"] - json.loads((out / "none.json").read_text())["runs"][0]["climate_index"]
    )
    text = (out / "summary.md").read_text()
    assert "| bilateral | 0 |" in text and "Does a negotiation protocol raise the climate index" in text
    with pytest.raises(SystemExit, match="only full-budget runs"):
        rice.ship(["none"], [0], runs)  # never into the package


@pytest.mark.parametrize("protocol, name", SHIPPED)
def test_shipped_profile_scores_as_recorded(protocol: str, name: str) -> None:
    """The named policy is the reported run: same score and indices under the card's protocol, masks respected."""
    record = next(
        r for r in json.loads((RESULTS / f"{protocol}.json").read_text())["runs"] if f"seed{r['seed']}" in name
    )
    task = make_task(TASKS[protocol])
    assert evaluate(task, name).mean == pytest.approx(record["score"], rel=1e-9)
    m = competition_metrics(task, name)
    for key in ("climate_index", "economic_index", "temperature_rise"):
        assert float(m[key][0]) == pytest.approx(record[key], rel=1e-9), key


@pytest.mark.parametrize("protocol", TASKS)
def test_region_view_others_follow_a_shipped_profile(protocol: str) -> None:
    """Region 0 playing the profile too among others that follow it scores its part of the whole game's welfare."""
    whole = competition_metrics(make_task(TASKS[protocol]), "shared_ppo_cpu_seed0")
    view = make_task(VIEWS[protocol], others="shared_ppo_cpu_seed0")
    assert evaluate(view, "shared_ppo_cpu_seed0").mean == pytest.approx(float(whole["region_welfare"][0, 0]), rel=1e-9)


def test_every_protocol_ships_three_seeds() -> None:
    assert {p: sorted(trained.shipped(p)) for p in TASKS} == {
        p: [f"shared_ppo_cpu_seed{s}" for s in (0, 1, 2)] for p in TASKS
    }
