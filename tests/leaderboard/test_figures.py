"""The page's figures: legends that match the lines drawn, the return the score measures, the learned-minus-exact
row, the EV operator's own figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from econbench import plots
from econbench.leaderboard.figures import SHIPPED, read_curves, write_figures
from econbench.registry import make_task

LQ = "econbench/InvestmentLQ-Planner-v0"
OPERATOR = "econbench/EVCharging-Operator-v0"


@pytest.fixture()
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures drawn, kept open instead of saved."""
    kept: list[Any] = []

    def keep(plt: Any, fig: Any, path: str | Path, rect: Any = None) -> Path:
        kept.append(fig)
        return Path(path)

    import econbench.envs.ev_operator.figure as operator_figure  # bound to the real _save before it is patched

    monkeypatch.setattr(plots, "_save", keep)
    monkeypatch.setattr(operator_figure, "_save", keep)
    return kept


def legend_matches_lines(ax: Any) -> None:
    """An entry per labelled line, none without one, and each line with points inside the axes' limits."""
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [line.get_label() for line in labelled]
    lo, hi = sorted(ax.get_ylim())
    for line in labelled:
        y = np.asarray(line.get_ydata(), dtype=float)
        assert ((y >= lo) & (y <= hi)).any(), f"{line.get_label()} has no point in view"


def _run(folder: Path, header: str, rows: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "curve.csv").write_text("\n".join([header, *rows]) + "\n")
    return folder


def test_learning_curves_plot_the_scored_return_when_logged(tmp_path: Path, figures: list[Any]) -> None:
    a = _run(tmp_path / "a", "timesteps,mean_episode_return,mean_discounted_return", ["1,10,5", "2,11,6", "3,12,7"])
    b = _run(tmp_path / "b", "timesteps,mean_discounted_return,mean_episode_return", ["1,4,9", "2,5,10", "3,-900,8"])
    curves = read_curves([a, b], ["seed_0_of_a_run_with_a_long_name_of_many_parts", "b"])
    assert all(c.scored for c in curves) and curves[1].values.tolist() == [4.0, 5.0, -900.0]
    plots.plot_learning_curves(curves, tmp_path / "x.png", "t")
    ax = figures[0].axes[0]
    legend_matches_lines(ax)
    assert "discounted return" in ax.get_ylabel() and "score" in ax.get_ylabel()
    assert all("\n" in t.get_text() or len(t.get_text()) <= 26 for t in ax.get_legend().get_texts())
    # one run without the column: every curve falls back to the undiscounted return, labelled as not the score
    c = _run(tmp_path / "c", "timesteps,mean_episode_return", ["1,3", "2,4"])
    curves = read_curves([a, c], ["a", "c"])
    assert not any(x.scored for x in curves) and curves[0].values.tolist() == [10.0, 11.0, 12.0]
    plots.plot_learning_curves(curves, tmp_path / "y.png", "t")
    assert figures[1].axes[0].get_ylabel() == "undiscounted episode return\n(not the score)"
    legend_matches_lines(figures[1].axes[0])


def test_shipped_learning_curves_have_an_entry_per_line(tmp_path: Path, figures: list[Any]) -> None:
    runs = sorted((SHIPPED / "InvestmentLQ-Planner-v0").iterdir())
    plots.plot_learning_curves(read_curves(runs, [r.name for r in runs]), tmp_path / "x.png", "t")
    legend_matches_lines(figures[0].axes[0])
    assert len(figures[0].axes[0].get_legend().get_texts()) == len(runs) == 3


def test_a_multi_group_run_gets_a_panel_per_group(tmp_path: Path, figures: list[Any]) -> None:
    """RBC's shipped runs log each group's return (consumers' about 50, firms' -4e5 to 1.3e6): a panel each."""
    runs = sorted((SHIPPED / "RBCTax-v0").iterdir())
    curves = read_curves(runs, [r.name for r in runs])
    assert [c.group for c in curves[:3]] == ["consumers", "firms", "government"] and len(curves) == 3 * len(runs)
    plots.plot_learning_curves(curves, tmp_path / "x.png", "t")
    axes = figures[0].axes
    assert [ax.get_title() for ax in axes] == [f"{g} (mean per agent)" for g in ("consumers", "firms", "government")]
    for ax in axes:
        legend_matches_lines(ax)
        assert len(ax.get_legend().get_texts()) == len(runs)
    firms = np.concatenate([c.values for c in curves if c.group == "firms"])
    consumers = np.concatenate([c.values for c in curves if c.group == "consumers"])
    assert firms.max() <= max(axes[1].get_ylim()) and max(axes[0].get_ylim()) < 10 * consumers.max() < firms.max()
    # a run that logs one group's return only: one panel, as an undiscounted single return
    one = _run(tmp_path / "one", "timesteps,mean_episode_return_planner", ["1,3", "2,4"])
    (curve,) = read_curves([one], ["one"])
    assert curve.group == "" and not curve.scored and curve.values.tolist() == [3.0, 4.0]


def test_a_learned_policy_gets_a_row_minus_the_exact_one(tmp_path: Path, figures: list[Any]) -> None:
    task = make_task(LQ)
    checkpoint = str(SHIPPED / "InvestmentLQ-Planner-v0" / "ppo_seed0")
    plots.plot_trajectories(task, ["exact", "freeze", checkpoint], tmp_path / "x.png", episodes=2)
    axes = figures[0].axes
    assert len(axes) == 6 and all("learned \u2212 exact" in ax.get_title() for ax in axes[3:])
    legend_matches_lines(axes[0])
    legend_matches_lines(axes[3])
    assert len(axes[3].get_legend().get_texts()) == 1  # the learned policy only
    plots.plot_trajectories(task, ["exact", "freeze"], tmp_path / "y.png", episodes=2)
    assert len(figures[1].axes) == 3  # named policies only: nothing learned to compare


def test_the_operator_has_its_own_figure(tmp_path: Path, figures: list[Any]) -> None:
    task = make_task(OPERATOR)
    assert task.figure is not None and task.figure.target == "econbench.envs.ev_operator.figure:plot_operator_rollout"
    task.figure(
        task, ["exact", "no_tolls", "flat_2"], tmp_path / "x.png", labels=["exact", "no_tolls (reference)", "flat_2"]
    )
    titles = [ax.get_title() for ax in figures[0].axes]
    assert any("tolls posted" in t for t in titles) and any("price of anarchy" in t for t in titles)
    assert not any("output / capacity" in t for t in titles)
    excess = next(ax for ax in figures[0].axes if ax.get_title().startswith("excess"))
    legend_matches_lines(excess)
    assert [t.get_text() for t in excess.get_legend().get_texts()] == ["no_tolls (reference)", "flat_2"]


def test_write_figures_reads_runs_from_the_output_folder(tmp_path: Path) -> None:
    runs = tmp_path / "out" / "runs"
    written = write_figures([OPERATOR], tmp_path / "figures", runs=[runs])
    assert [p.name for p in written] == ["EVCharging-Operator-v0-rollout.png", "EVCharging-Operator-v0-learning.png"]
    assert all(p.is_file() and p.read_bytes()[:4] == b"\x89PNG" for p in written)


def test_shared_ppo_runs_count_for_every_task_of_their_economy(tmp_path: Path, figures: list[Any]) -> None:
    """A shared-PPO run counts where its economy is the task's: the 10 x 10 planner exercise (trained on
    CapitalGoods-Planner-v0 with overrides) is CapitalGoods-Planner-10x10-v0's, the 4-household one is nobody's."""
    from econbench.leaderboard.figures import trained_runs

    ten = trained_runs(make_task("econbench/CapitalGoods-Planner-10x10-v0"))
    assert [r.name for r in ten] == [f"planner_10x10_seed{s}" for s in range(3)]
    one = [r.name for r in trained_runs(make_task("econbench/CapitalGoods-Planner-v0"))]
    assert one == [f"planner_1hh_seed{s}" for s in range(3)]
    assert not trained_runs(make_task("econbench/CapitalGoods-Planner-v0", n_households=3))
    written = write_figures(["econbench/CapitalGoods-Planner-10x10-v0"], tmp_path)
    assert [p.name for p in written] == [
        "CapitalGoods-Planner-10x10-v0-rollout.png",
        "CapitalGoods-Planner-10x10-v0-learning.png",
    ]
    ax = figures[-1].axes[0]
    assert ax.get_title() == "CapitalGoods-Planner-10x10-v0: shared PPO learning curves"
    assert "discounted return" in ax.get_ylabel()  # the score's quantity: every run logged it
    legend_matches_lines(ax)
    assert len(ax.get_legend().get_texts()) == 3


def test_every_task_with_shipped_curves_has_a_published_learning_figure() -> None:
    """The published page shows the training curves of every shipped baseline: a task whose shipped runs logged
    curves has ``<Task>-learning.png`` in ``leaderboard/figures`` (republish when a baseline is shipped)."""
    from econbench.leaderboard.figures import trained_runs
    from econbench.registry import task_ids

    published = SHIPPED.parent.parent / "leaderboard" / "figures"
    missing = []
    for task_id in task_ids():
        task = make_task(task_id)
        runs = [r for r in trained_runs(task) if r.is_relative_to(SHIPPED)]
        if read_curves(runs, [r.name for r in runs]) and not (published / f"{task.name}-learning.png").is_file():
            missing.append(task.name)
    assert not missing, f"no published learning figure for {missing}"
    assert (published / "RBCTax-v0-learning.png").is_file()  # per-group curves (no scored column) count
