"""Learned profiles shipped in a family's package: exported in float64, listed for exactly the economy they were
trained on, found again after pickling, and scored as their training reports say."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from econbench.envs.capital_goods import trained
from econbench.metrics import evaluate
from econbench.policies import load, shipped
from econbench.registry import make_task

ROOT = Path(__file__).resolve().parents[2]
PLANNERS = {  # exercise -> (task ID, parameters)
    "planner_1hh": ("econbench/CapitalGoods-Planner-v0", {}),
    "planner_4hh": ("econbench/CapitalGoods-Planner-4-v0", {}),
    "planner_10x10": ("econbench/CapitalGoods-Planner-10x10-v0", {}),
}
LEARNED = [f"shared_ppo_cpu_seed{s}" for s in range(3)]


@pytest.mark.parametrize("exercise", sorted(PLANNERS))
def test_each_planner_economy_lists_its_own_three_seeds(exercise: str) -> None:
    task_id, params = PLANNERS[exercise]
    task = make_task(task_id, **params)
    assert [n for n in sorted(task.policies) if n.startswith("shared_ppo")] == LEARNED
    for name in LEARNED:
        pf = load(trained.TRAINED_DIR / exercise / name)
        assert pf.spec.params == shipped.params_record(task.params)
        assert pf.spec.provenance["exercise"] == exercise and pf.spec.provenance["seed"] == int(name[-1])
        assert all(g.network.dtype == "float64" for g in pf.spec.groups.values())


def test_the_same_economy_by_parameters_lists_them_too() -> None:
    by_params = make_task("econbench/CapitalGoods-Planner-v0", n_households=4)
    assert [n for n in sorted(by_params.policies) if n.startswith("shared_ppo")] == LEARNED


def test_other_economies_and_groups_list_none() -> None:
    for task_id, params in [
        ("econbench/CapitalGoods-Planner-v0", {"n_households": 2}),
        ("econbench/CapitalGoods-Planner-v0", {"beta": 0.97}),  # one parameter off: another economy
        ("econbench/CapitalGoods-v0", {}),  # the households' game: another group
    ]:
        assert not [n for n in make_task(task_id, **params).policies if n.startswith("shared_ppo")], (task_id, params)


@pytest.mark.parametrize("exercise", sorted(PLANNERS))
def test_shipped_planners_score_as_their_training_runs_report(exercise: str) -> None:
    """The float64 export of each seed scores as the float32 run did when it was reported."""
    report = json.loads((ROOT / "baselines" / "results" / "capital_goods" / f"{exercise}.json").read_text())
    task_id, params = PLANNERS[exercise]
    task = make_task(task_id, **params)
    for row in report["per_seed"]:
        got = evaluate(task, f"shared_ppo_cpu_seed{row['seed']}").mean
        assert got == pytest.approx(row["score"], rel=1e-7), row["seed"]


def test_a_pickled_task_finds_its_shipped_profile() -> None:
    task = pickle.loads(pickle.dumps(make_task("econbench/CapitalGoods-Planner-v0")))
    from econbench.backend import get_backend

    obs = np.ones((2, 1, task.groups[0].observation.shape[0]))
    act = task.policy("shared_ppo_cpu_seed0", get_backend("numpy"))["planner"](obs)
    assert act.shape == (2, 1, 1) and np.all((act >= 0) & (act <= 1))


def test_export_refuses_groups_that_follow_named_policies(tmp_path: Path) -> None:
    from econbench import policies

    task = make_task("econbench/CapitalGoodsGame-v0")
    h = task.group("households")
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(h.action.shape[0], h.observation.shape[0])), np.zeros(h.action.shape[0]))]
    net, arrays = policies.mlp_group("households", layers, "tanh", policies.BoxAction(scale="unit"))
    policies.write_policy(tmp_path / "run", task.id, {"households": net, "firms": "competitive"}, arrays)
    with pytest.raises(policies.PolicyFileError, match="follow named policies"):
        shipped.export(tmp_path / "out", tmp_path / "run", {})


def test_two_fitting_profiles_with_one_name_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    params = make_task("econbench/CapitalGoods-Planner-v0").params
    for sub in ("a", "b"):
        shipped.export(
            tmp_path / "trained" / sub / "dup",
            trained.TRAINED_DIR / "planner_1hh" / "shared_ppo_cpu_seed0",
            {},
            params=shipped.params_record(params),
        )
    monkeypatch.setattr(shipped, "_root", lambda package, under: tmp_path / under)
    with pytest.raises(ValueError, match="two shipped profiles named 'dup'"):
        shipped.shipped("any", "trained", params=params, groups=("planner",))
