"""The reference scores printed in the task cards are what the code produces today."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from econbench.cards import load_card
from econbench.leaderboard.reference import AUTHORS
from econbench.leaderboard.schema import Result, parse_result
from econbench.metrics import equilibrium_gap, evaluate, optimality_gap
from econbench.registry import make_task
from tests.conftest import ALL_IDS

CASES = [
    (t, name) for t in ALL_IDS for name in load_card(t).get("reference_scores", {}) if name in make_task(t).policies
]


ENTRIES = sorted((Path(__file__).resolve().parents[2] / "leaderboard" / "entries").glob("*.json"))
CHECKPOINTS = [
    (t, name) for t in ALL_IDS for name, e in load_card(t).get("reference_scores", {}).items() if "checkpoint" in e
]


def test_every_card_lists_its_named_policies() -> None:
    for task_id in ALL_IDS:
        assert set(make_task(task_id).policies) <= set(load_card(task_id)["reference_scores"]), task_id


def _published(task_id: str, policy: str) -> Result | None:
    """The main job's published entry of a named policy: tests/leaderboard/test_published_leaderboard.py
    re-measures it with today's code, so the card need only agree with it."""
    for path in ENTRIES:
        r = parse_result(path.read_bytes())
        if r.task.id == task_id and r.policy == policy and r.authors == AUTHORS:
            return r
    return None


def _measured(task_id: str, policy: str) -> tuple[float, float | None, dict[str, tuple[float, str]]]:
    """Score, normalized regret and each group's (relative gap, method): from the published entry, else measured."""
    task = make_task(task_id)
    entry = _published(task.id, policy)
    if entry is not None:
        opt = [g for g in entry.gaps if g.kind == "optimality"]
        return (
            entry.score,
            opt[0].normalized if opt else None,
            {
                g.group or "": (math.inf if g.relative is None and g.value > 0 else g.relative, g.description)
                for g in entry.gaps
                if g.kind == "equilibrium"
            },  # a stored entry keeps only finite numbers: a gain against a zero value is relative None
        )
    score = evaluate(task, policy).mean
    if task.is_single_agent:
        return score, optimality_gap(task, policy).normalized if "exact" in task.policies else None, {}
    return score, None, {g.group: (g.relative, g.method) for g in equilibrium_gap(task, policy)}


@pytest.mark.parametrize("task_id, policy", CASES)
def test_card_reference_score_is_reproduced(task_id: str, policy: str) -> None:
    entry = load_card(task_id)["reference_scores"][policy]
    task = make_task(task_id)
    score, normalized, gaps = _measured(task_id, policy)
    assert score == pytest.approx(entry["score"], rel=1e-8)
    if task.is_single_agent:
        if "exact" in task.policies:  # without an exact optimum a single-agent view has no optimality gap
            assert normalized == pytest.approx(entry["normalized_regret"], rel=1e-5, abs=1e-12)
    else:
        relative, method = entry["equilibrium_gap_relative"], entry["gap_method"]
        if not isinstance(relative, dict):  # one group: the card stores plain values
            (group,) = gaps
            relative, method = {group: relative}, {group: method}
        assert set(gaps) == set(relative)
        for group, (rel, how) in gaps.items():
            assert rel == pytest.approx(relative[group], rel=1e-4, abs=1e-12)
            assert how == method[group]


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
