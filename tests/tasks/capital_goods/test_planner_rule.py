"""baselines/planner_rule.py: the tuned share rule behind the 4-household planner's room over constant saving."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from econbench.core import Task

ROOT = Path(__file__).resolve().parents[3]
REPORT = ROOT / "baselines" / "results" / "capital_goods" / "rules" / "planner_4hh.json"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("econbench_planner_rule", ROOT / "baselines" / "planner_rule.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def task() -> Task:
    from econbench.registry import make_task

    return make_task("econbench/CapitalGoods-Planner-v0", n_households=4)


def test_zero_coefficients_are_constant_saving(task: Task) -> None:
    pr = _module()
    gain, se = pr.ce_gain(task, pr.share_rule(task, np.zeros(5)), seeds=[7])
    assert gain == 0.0 and se == 0.0


def test_the_regression_recovers_a_rules_coefficients(task: Task) -> None:
    pr = _module()
    b = [0.02, -0.5, 0.2, -0.1, 0.3]
    fit = pr.policy_coefficients(task, pr.share_rule(task, b), envs=16, steps=60, burn=10)
    np.testing.assert_allclose(fit["coefficients"], b, atol=1e-9)
    assert fit["r2"] == pytest.approx(1.0)


def test_the_shipped_rule_keeps_its_gain_on_held_out_seeds(task: Task) -> None:
    """The report's coefficients, scored again on its held-out seeds, give its figure: the search did not just fit
    the card's episodes; it stays above every learned planner_4hh run, each of which is above constant saving and
    loads own capital the rule's way (negative)."""
    pr = _module()
    r = json.loads(REPORT.read_text())["rule"]
    gain, _ = pr.ce_gain(task, pr.share_rule(task, r["coefficients"]), r["held_out_seeds"])
    assert gain == pytest.approx(r["held_out_ce_gain_over_constant"], rel=1e-9)
    learned = json.loads(REPORT.read_text())["learned"]
    assert learned and gain > max(x["ce_gain_over_constant"] for x in learned.values())
    assert all(x["ce_gain_over_constant"] > 0 and x["coefficients"][1] < 0 for x in learned.values())


def test_a_planner_with_several_goods_is_refused(tmp_path: Path) -> None:
    pr = _module()
    pr.EXERCISES["two_goods"] = {"n_households": 2, "n_capital": 2}
    try:
        with pytest.raises(SystemExit, match="n_capital must be 1"):
            pr.main(["--exercise", "two_goods", "--out", str(tmp_path)])
    finally:
        del pr.EXERCISES["two_goods"]


def test_tuned_rule_is_a_named_policy_of_its_economy_only() -> None:
    from econbench.registry import make_task

    assert "tuned_rule" in make_task("econbench/CapitalGoods-Planner-4-v0").policies
    assert "tuned_rule" in make_task("econbench/CapitalGoods-Planner-v0", n_households=4).policies  # the same economy
    for other in ({}, {"n_households": 4, "beta": 0.97}):
        assert "tuned_rule" not in make_task("econbench/CapitalGoods-Planner-v0", **other).policies
    assert "tuned_rule" not in make_task("econbench/CapitalGoods-v0", n_households=4).policies  # households act there


def test_tuned_rule_agrees_across_backends(task: Task) -> None:
    pytest.importorskip("torch")
    from econbench.backend import get_backend
    from econbench.core import BatchedEnv

    env = BatchedEnv(task, 8, "numpy", seed=3)
    obs = env.reset()["planner"]
    for _ in range(5):
        obs = env.step({"planner": task.policy("tuned_rule")["planner"](obs)})[0]["planner"]
    ours = task.policy("tuned_rule")["planner"](obs)
    torch_backend = get_backend("torch")
    theirs = task.policy("tuned_rule", torch_backend)["planner"](torch_backend.asarray(obs))
    np.testing.assert_allclose(torch_backend.to_numpy(theirs), ours, rtol=1e-12)
    assert not np.allclose(ours, task.params.saving_ss)  # the shares depend on the state
