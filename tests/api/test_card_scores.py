"""The reference scores printed in the task cards are what the code produces today."""

from __future__ import annotations

from pathlib import Path

import pytest

from econbench.cards import load_card
from econbench.metrics import equilibrium_gap, evaluate, optimality_gap
from econbench.registry import make_task
from tests.conftest import ALL_IDS

CASES = [
    (t, name) for t in ALL_IDS for name in load_card(t).get("reference_scores", {}) if name in make_task(t).policies
]


CHECKPOINTS = [
    (t, name) for t in ALL_IDS for name, e in load_card(t).get("reference_scores", {}).items() if "checkpoint" in e
]


def test_every_card_lists_its_named_policies() -> None:
    for task_id in ALL_IDS:
        assert set(make_task(task_id).policies) <= set(load_card(task_id)["reference_scores"]), task_id


@pytest.mark.parametrize("task_id, policy", CASES)
def test_card_reference_score_is_reproduced(task_id: str, policy: str) -> None:
    entry = load_card(task_id)["reference_scores"][policy]
    task = make_task(task_id)
    res = evaluate(task, policy)
    assert res.mean == pytest.approx(entry["score"], rel=1e-8)
    if task.is_single_agent:
        if "exact" in task.policies:  # without an exact optimum a single-agent view has no optimality gap
            gap = optimality_gap(task, policy)
            assert gap.normalized == pytest.approx(entry["normalized_regret"], rel=1e-5, abs=1e-12)
    else:
        gaps = equilibrium_gap(task, policy)
        relative, method = entry["equilibrium_gap_relative"], entry["gap_method"]
        if not isinstance(relative, dict):  # one group: the card stores plain values
            relative, method = {gaps[0].group: relative}, {gaps[0].group: method}
        assert {g.group for g in gaps} == set(relative)
        for gap in gaps:
            assert gap.relative == pytest.approx(relative[gap.group], rel=1e-4, abs=1e-12)
            assert gap.method == method[gap.group]


@pytest.mark.parametrize("task_id, entry", CHECKPOINTS)
def test_card_score_of_a_shipped_checkpoint_is_reproduced(task_id: str, entry: str) -> None:
    pytest.importorskip("stable_baselines3")
    card = load_card(task_id)["reference_scores"][entry]
    folder = Path(__file__).resolve().parents[2] / card["checkpoint"]
    gap = optimality_gap(task_id, str(folder))
    assert gap.v_policy == pytest.approx(card["score"], rel=1e-8)
    assert gap.normalized == pytest.approx(card["normalized_regret"], rel=1e-4)
    assert (
        card["normalized_regret_ci95"][1] < 0.05
    )  # the baseline is close to the optimum, not merely above the reference
