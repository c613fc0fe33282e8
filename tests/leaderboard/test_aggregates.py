"""Aggregates across training runs (rliable): checked against direct computations, then on the page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from econbench.leaderboard.aggregates import (
    _improvement_replicates,
    cross_task,
    improvement_interval,
    iqm_interval,
    method_of_run,
    profile,
    stratified_bootstrap,
    task_aggregates,
)
from econbench.leaderboard.render import fmt, render
from econbench.leaderboard.schema import Result, parse_result

pytest.importorskip("rliable")  # an optional dependency (the plot and dev extras); imported when aggregating

ENTRIES = sorted((Path(__file__).resolve().parents[2] / "leaderboard" / "entries").glob("*.json"))
PLANNERS = ("econbench/InvestmentLQ-Planner-v0", "econbench/InvestmentStochastic-Planner-v0")


@pytest.fixture(scope="module")
def published() -> list[Result]:
    return [r for r in (parse_result(p.read_bytes()) for p in ENTRIES) if r.task.id in PLANNERS]


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    scores = np.array([9.0, 1.0, 5.0, 3.0, 100.0, 2.0, 4.0, -50.0])
    middle = np.sort(scores)[2:6].mean()  # 8 runs: drop the 2 lowest and the 2 highest
    assert iqm_interval(scores[:, None]).value == pytest.approx(middle, abs=1e-12)
    two_tasks = scores.reshape(4, 2)  # 4 runs x 2 tasks: the IQM is over all 8 scores
    assert iqm_interval(two_tasks).value == pytest.approx(middle, abs=1e-12)


def test_the_bootstrap_redraws_runs_within_each_task() -> None:
    # Within a task every run scores the same, so a resample drawn within tasks cannot move the IQM;
    # one that mixed the tasks would.
    scores = np.array([[0.0, 1.0]] * 5)
    interval = iqm_interval(scores)
    assert (interval.value, interval.low, interval.high) == (0.5, 0.5, 0.5)
    spread = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    a, b = iqm_interval(spread), iqm_interval(spread)
    assert a == b and a.low < a.value < a.high  # seeded: the page is reproducible
    low, high = stratified_bootstrap(lambda s: s.mean(axis=(1, 2)), [spread], reps=4000)
    assert low < spread.mean() < high and low >= 0.0 and high <= 10.0


def test_probability_of_improvement_counts_pairs() -> None:
    x, y = np.array([[3.0], [5.0], [7.0]]), np.array([[4.0], [5.0]])
    # pairs (x, y): 3<4, 3<5, 5>4, 5=5, 7>4, 7>5 -> (3 + 0.5) / 6
    assert improvement_interval(x, y).value == pytest.approx(3.5 / 6)
    assert improvement_interval(y, x).value == pytest.approx(2.5 / 6)
    from rliable import metrics

    rng = np.random.default_rng(1)
    for _ in range(20):  # the vectorised replicates are rliable's statistic
        a, b = rng.integers(0, 4, (5, 3)).astype(float), rng.integers(0, 4, (4, 3)).astype(float)
        assert _improvement_replicates(a[None], b[None])[0] == pytest.approx(metrics.probability_of_improvement(a, b))


def test_profile_is_the_fraction_of_runs_strictly_above() -> None:
    assert profile(np.array([0.1, 0.5, 0.5, 0.9]), np.array([0.0, 0.5, 0.9])).tolist() == [1.0, 0.25, 0.0]


def test_runs_of_a_method_are_its_seeds(published: list[Result]) -> None:
    r = published[0]
    assert method_of_run(r.model_copy(update={"method": "SB3 PPO", "policy": "ppo_seed3"})) == "SB3 PPO"
    shipped = r.model_copy(update={"method": "shared PPO: shared_ppo_cpu_seed2", "policy": "shared_ppo_cpu_seed2"})
    assert method_of_run(shipped) == "shared PPO: shared_ppo_cpu"
    assert method_of_run(r.model_copy(update={"method": "fixed policy: flat_2", "policy": "flat_2"})) == (
        "fixed policy: flat_2"
    )


def test_normalised_scores_are_one_minus_the_normalised_regret(published: list[Result]) -> None:
    agg = task_aggregates(PLANNERS[0], published)
    assert agg is not None and agg.normalised
    for method in agg.methods:
        for run, score in zip(method.runs, method.scores):
            assert score == pytest.approx(1.0 - run.headline_gap().normalized, abs=1e-9)
    ppo = next(m for m in agg.methods if len(m.runs) == 3)
    assert agg.iqm[ppo.name].value == pytest.approx(ppo.scores.mean())  # 3 runs: nothing is trimmed
    assert {(i.y, i.probability.value) for i in agg.improvements if i.x == ppo.name} == {
        ("exact solution", 0.0),
        ("reference policy: freeze", 1.0),
    }


def test_across_tasks_is_stratified_by_task(published: list[Result]) -> None:
    aggs = [task_aggregates(t, published) for t in PLANNERS]
    cross = cross_task([a for a in aggs if a is not None])
    assert cross is not None and list(cross.scores) == ["SB3 PPO (shipped checkpoint)"]
    matrix = cross.scores["SB3 PPO (shipped checkpoint)"]
    assert matrix.shape == (3, 2)
    values = np.sort(matrix.ravel())
    assert cross.iqm["SB3 PPO (shipped checkpoint)"].value == pytest.approx(values[1:5].mean())
    assert task_aggregates("econbench/InvestmentLQ-v0", published) is None  # no entries: nothing to aggregate


def test_page_shows_the_aggregates(published: list[Result], tmp_path: Path) -> None:
    page = render(published, tmp_path)[0].read_text()
    block = page.partition('<div class="aggregates" data-task="econbench/InvestmentLQ-Planner-v0">')[2]
    block = block.partition("</section>")[0]
    assert block
    agg = task_aggregates(PLANNERS[0], published)
    iqm = agg.iqm["SB3 PPO (shipped checkpoint)"]
    assert fmt(iqm.value) in block and f"[{fmt(iqm.low)}, {fmt(iqm.high)}]" in block
    svg = re.search(r'<svg class="profile" id="profile-InvestmentLQ-Planner-v0".*?</svg>', page, re.S).group(0)
    assert svg.count("<polyline") == len(agg.methods) == 3
    assert re.search(r'<section class="across" id="across-tasks">', page)
    assert "95% stratified-bootstrap interval over training runs" in page and "evaluation episodes" in page
    md = (tmp_path / "LEADERBOARD.md").read_text()
    assert f"| SB3 PPO (shipped checkpoint) | 3 | {fmt(iqm.value)} \\[{fmt(iqm.low)}, {fmt(iqm.high)}\\] |" in md


def test_runs_at_the_float_limit_render(published: list[Result], tmp_path: Path) -> None:
    big = 1.7976931348623157e308
    base = next(r for r in published if r.task.id == PLANNERS[0] and r.policy == "ppo_seed0")
    runs = []
    for k, score in enumerate([big, -big, big / 2]):
        d = base.model_dump(mode="json")
        n = len(d["seeds"])
        d.update(
            policy=f"ppo_seed{k}", per_seed_scores=[score] * n, score=score, score_ci95=[score, score], score_iqm=score
        )
        runs.append(parse_result(d))
    anchors = [r for r in published if r.task.id == PLANNERS[0] and not r.policy.startswith("ppo")]
    page = render(anchors + runs, tmp_path)[0].read_text()
    svg = re.search(r'<svg class="profile".*?</svg>', page, re.S).group(0)
    numbers = re.findall(r'points="([^"]*)"', svg) + re.findall(r'\b(?:x|y|x1|x2|y1|y2)="([^"]*)"', svg)
    values = [float(v) for text in numbers for pair in text.split() for v in pair.split(",")]
    assert values and all(np.isfinite(values))
