"""The RBC rollout figure: its numbers against the simulator, the files it writes, and who draws it."""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from econbench.cli import main
from econbench.core import BatchedEnv
from econbench.envs.rbc.dynamics import government_action_table
from econbench.envs.rbc.figure import RBCSeries, consumer_groups, plot_rbc_rollout, rbc_series
from econbench.leaderboard.figures import write_figures
from econbench.metrics import evaluate
from econbench.plots import plot_trajectories, rollout_figure
from econbench.registry import make_task

OPEN, CLOSED, GOV = "econbench/RBCTax-v0", "econbench/RBCTax-Closed-v0", "econbench/RBCTax-Government-v0"
PROFILES = ("no_tax", "flat_tax_80")
RBC_SIZE = (2000, 1200)  # plot_rbc_rollout's 20 x 12 inches at 100 dpi; the generic figure is 1500 x 400


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width and height


@cache
def series(task_id: str, policy: str) -> RBCSeries:
    return rbc_series(make_task(task_id), policy)


@cache
def simulate(task_id: str, policy: str) -> dict[str, np.ndarray]:
    """An independent rollout: the government's chosen rates and the firms' capital, quarter by quarter."""
    task = make_task(task_id)
    profile = task.policy(policy)
    env = BatchedEnv(task, 1)
    obs = env.reset()
    chosen, capital = [], []
    for _ in range(task.horizon):
        actions = {g: profile[g](obs[g]) for g in profile}
        chosen.append(government_action_table(task.params)[int(actions["government"][0, 0, 0])])
        capital.append(env.state.firm_capital[0].copy())
        obs, _, _, _ = env.step(actions)
    return {"chosen": np.stack(chosen), "capital": np.stack(capital)}


@pytest.mark.parametrize("task_id", [OPEN, CLOSED])
@pytest.mark.parametrize("policy", PROFILES)
def test_series_shapes_and_labour(task_id: str, policy: str) -> None:
    s, p = series(task_id, policy), make_task(task_id).params
    T, F, C = p.horizon, p.n_firms, p.n_consumers
    assert s.policy == policy and s.price.shape == s.firm_hours.shape == s.exports.shape == (T, F)
    assert s.consumption.shape == s.consumer_hours.shape == s.consumer_reward.shape == (T, C)
    # every hour a consumer works is worked at some firm; the named rule employs consumer j at firm j mod F
    np.testing.assert_allclose(s.firm_hours.sum(axis=1), s.consumer_hours.sum(axis=1))
    for i in range(F):
        np.testing.assert_allclose(s.firm_hours[:, i], s.consumer_hours[:, i::F].sum(axis=1))
    assert s.firm_hours[0].sum() == 0.0 and s.firm_hours[1:].sum() > 0.0  # wages are 0 in the first quarter


@pytest.mark.parametrize("task_id", [OPEN, CLOSED])
@pytest.mark.parametrize("policy", PROFILES)
def test_taxes_are_the_governments_choices_from_the_second_quarter(task_id: str, policy: str) -> None:
    s, chosen = series(task_id, policy), simulate(task_id, policy)["chosen"]
    assert s.income_tax[0] == s.corporate_tax[0] == 0.0  # the initial state
    np.testing.assert_allclose(s.income_tax[1:], chosen[:-1, 0])
    np.testing.assert_allclose(s.corporate_tax[1:], chosen[:-1, 1])
    rate = 0.8 if policy == "flat_tax_80" else 0.0
    np.testing.assert_allclose(s.income_tax[1:], rate)


@pytest.mark.parametrize("task_id", [OPEN, CLOSED])
@pytest.mark.parametrize("policy", PROFILES)
def test_goods_accounts(task_id: str, policy: str) -> None:
    s, p = series(task_id, policy), make_task(task_id).params
    capital = simulate(task_id, policy)["capital"]
    # production from the stock identity equals the production function at the hours worked there
    expected = p.technology * capital ** (1.0 - s.alpha) * s.firm_hours**s.alpha
    np.testing.assert_allclose(s.production, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s.consumption.sum(axis=1), s.sales.sum(axis=1))
    start = np.vstack([np.zeros((1, p.n_firms)), s.inventory[:-1]])  # for sale during the quarter
    assert np.all(s.sales <= start + 1e-9)
    if p.use_importer:
        left = np.clip(start - s.sales, 0.0, p.importer_quantity)
        np.testing.assert_allclose(s.exports, np.where(s.price >= p.importer_price, left, 0.0), atol=1e-9)
    else:
        assert not s.exports.any()


def test_open_economy_exports_under_flat_tax() -> None:
    assert series(OPEN, "flat_tax_80").exports.sum() > 0.0  # else the exports panel would show nothing anywhere


@pytest.mark.parametrize("task_id", [OPEN, CLOSED])
def test_cumulative_rewards_match_the_protocols_scores(task_id: str) -> None:
    task = make_task(task_id)
    for policy in PROFILES:
        s, res = series(task_id, policy), evaluate(task, policy, seeds=[0], episodes=1)
        assert s.cumulative(s.welfare)[-1] == pytest.approx(res.mean, rel=1e-9)
        np.testing.assert_allclose(s.cumulative(s.consumer_reward)[-1], res.returns["consumers"][0, 0], rtol=1e-9)
        np.testing.assert_allclose(s.cumulative(s.firm_reward)[-1], res.returns["firms"][0, 0], rtol=1e-9)


def test_a_profile_dict_gives_the_same_series() -> None:
    task = make_task(OPEN)
    by_dict = rbc_series(task, task.policy("flat_tax_80"))
    by_name = series(OPEN, "flat_tax_80")
    assert by_dict.policy == "custom"
    np.testing.assert_array_equal(by_dict.production, by_name.production)


def test_consumer_groups_cover_everyone_once() -> None:
    groups = consumer_groups(100)
    assert len(groups) == 4 and np.array_equal(np.concatenate(groups), np.arange(100))
    assert len(consumer_groups(3)) == 3


@pytest.mark.parametrize("task_id", [OPEN, CLOSED])
def test_figure_is_written(task_id: str, tmp_path: Path) -> None:
    out = plot_rbc_rollout(make_task(task_id), list(PROFILES), tmp_path / "fig" / "rbc.png")
    assert out == tmp_path / "fig" / "rbc.png" and png_size(out) == RBC_SIZE and out.stat().st_size > 50_000


def test_rbc_tasks_get_the_rbc_figure() -> None:
    for task_id in (OPEN, CLOSED, GOV):
        task = make_task(task_id)
        assert task.figure is not None and task.figure.target == "econbench.envs.rbc.figure:plot_rbc_rollout"
        assert rollout_figure(task) is task.figure
    assert rollout_figure(make_task("econbench/InvestmentLQ-v0")) is plot_trajectories


def test_cli_evaluate_plots_the_rbc_figure(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    code = main(["evaluate", "--task", OPEN, "--policy", "no_tax", "--plot", str(target)])
    out, _ = capsys.readouterr()
    assert code == 0 and f"plot: {target}" in out
    assert png_size(target) == RBC_SIZE


def test_cli_role_view_compares_with_the_reference(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    fake = lambda task, policies, path, seed=None, labels=None: seen.append(list(policies)) or Path(path)  # noqa: E731
    monkeypatch.setattr("econbench.envs.rbc.figure.plot_rbc_rollout", fake)  # what task.figure calls
    code = main(["evaluate", "--task", GOV, "--policy", "flat_tax_80", "--plot", str(tmp_path / "g.png")])
    capsys.readouterr()
    assert code == 0 and seen == [["flat_tax_80", "no_tax"]]  # no "exact" policy here: the card's reference instead


def test_leaderboard_rollout_figure(tmp_path: Path) -> None:
    written = write_figures([CLOSED], tmp_path)
    assert written[0] == tmp_path / "RBCTax-Closed-v0-rollout.png" and png_size(written[0]) == RBC_SIZE
