"""The RBC reproduction across experience budgets (baselines/rbc_reproduce.py --stage trend): each budget's
headline numbers side by side, from the per-budget reports, and the shipped trend as its reports give it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import baseline_script

pytest.importorskip("matplotlib")
pytest.importorskip("scipy")

RESULTS = Path(__file__).resolve().parents[3] / "baselines" / "results"


def _summary(steps: int, learned: list[float], best: list[float], consumers: float) -> dict:
    ci = {"mean": 0.0, "ci95": [0.0, 0.0], "per_seed": [0.01, 0.02, 0.5]}
    br = {
        g: {"relative": {**ci, "mean": consumers if g == "consumers" else 0.01}, "timesteps": 64000}
        for g in ("consumers", "firms", "government")
    }
    return {
        "timesteps": [steps],
        "learned": {"mean": float(np.mean(learned)), "ci95": [min(learned), max(learned)], "per_seed": learned},
        "fixed": {"no_tax": {"mean": float(np.mean(best)), "ci95": [0, 0], "per_seed": best}},
        "best_fixed": "no_tax",
        "welfare_gain_over_best_fixed": {"mean": float(np.mean(learned) / np.mean(best) - 1)},
        "best_response": br,
    }


def test_trend_orders_budgets_and_pairs_every_seed(tmp_path: Path) -> None:
    rbc = baseline_script("rbc_reproduce")
    for name, s in {
        "big": _summary(1_000, [110.0, 130.0], [100.0, 100.0], 0.02),
        "small": _summary(10, [90.0], [100.0], 0.2),
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(s))
    trend = rbc.stage_trend(tmp_path / "out", [tmp_path / "big", tmp_path / "small"])
    rows = trend["budgets"]
    assert [r["timesteps"] for r in rows] == [10, 1_000]
    assert rows[1]["gain_over_best_fixed"] == pytest.approx(0.2) and sorted(rows[1]["gain_pairs"]) == pytest.approx(
        [0.1, 0.1, 0.3, 0.3]
    )
    assert rows[0]["br_relative"]["consumers"]["mean"] == 0.2
    table = (tmp_path / "out" / "trend.md").read_text().splitlines()
    assert table[2].startswith("| 10 |") and table[3].startswith("| 1,000 |") and "+20.0%" in table[3]
    assert (tmp_path / "out" / "rbc_budget_trend.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit, match="no summary.json"):
        rbc.stage_trend(tmp_path / "out", [tmp_path / "missing"])
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "summary.json").write_text(json.dumps({**_summary(10, [1.0], [1.0], 0), "timesteps": [10, 20]}))
    with pytest.raises(ValueError, match="one training budget"):
        rbc.stage_trend(tmp_path / "out", [tmp_path / "two"])


def test_shipped_trend_is_its_budgets_reports(tmp_path: Path) -> None:
    """baselines/results/rbc_budgets/trend.json is what --stage trend makes of the three budgets' reports."""
    rbc = baseline_script("rbc_reproduce")
    budgets = [RESULTS / "rbc_budgets" / "64k", RESULTS / "rbc_reproduction", RESULTS / "rbc_budgets" / "1M"]
    trend = rbc.stage_trend(tmp_path, budgets)
    assert [r["timesteps"] for r in trend["budgets"]] == [64_000, 256_000, 1_024_000]
    assert trend == json.loads((RESULTS / "rbc_budgets" / "trend.json").read_text())
    for r in trend["budgets"]:  # each budget: 3 learned runs against 3 runs of the best fixed rate
        assert len(r["learned"]["per_seed"]) == len(r["best_fixed_welfare"]["per_seed"]) == 3
