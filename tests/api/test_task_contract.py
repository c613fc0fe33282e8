"""The task contract every ID goes through: ``solve`` answers for all, the hooks are declared by the task
packages, and the generic layers name no task."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from econbench.cards import task_names
from econbench.cli import main
from econbench.registry import make_task, task_ids

ROOT = Path(__file__).resolve().parents[2]
GENERIC = [
    "econbench/cli.py",
    "econbench/bench.py",
    "econbench/solve.py",
    "econbench/registry.py",
    "econbench/plots.py",
    "econbench/metrics",
    "econbench/leaderboard",
]


def _family_words() -> list[str]:
    """Card ID stems and task package names: what generic code must not mention."""
    stems = {name.split("-")[0] for name in task_names()}
    packages = {p.name for p in (ROOT / "econbench" / "envs").iterdir() if (p / "__init__.py").is_file()}
    return sorted(stems | packages | {"RBC", "RICE"})


@pytest.mark.parametrize("task_id", task_ids())
def test_solve_answers_for_every_id(task_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--task", task_id]) == 0
    out = capsys.readouterr().out
    task = make_task(task_id)
    if task.solution is None:
        assert out.count("\n") == 1 and "no exact solution is known; gaps offered:" in out
        if not task.is_single_agent:
            assert "--method trained" in out
    else:
        assert out.startswith(f"{task.id}: exact solution")
        assert all(key in out for key in task.solution(task.params))


def test_solution_hooks_where_the_exact_policy_is() -> None:
    """A task with an ``exact`` named policy answers ``solve``; role views of games inherit their game's."""
    for task_id in task_ids():
        task = make_task(task_id)
        if "exact" in task.policies:
            assert task.solution is not None, task_id


def test_capital_goods_solution_invests_depreciation_on_average() -> None:
    """At the steady state the optimal investment, averaged over the four equally likely productivity states,
    replaces depreciation (to the nonlinearity's second order), and values rise with productivity."""
    task = make_task("econbench/CapitalGoods-Planner-v0")
    s = task.solution(task.params)
    invest = [v for k, v in s.items() if k.startswith("optimal I(K_ss)")]
    values = [v for k, v in s.items() if k.startswith("V*(K_ss)")]
    assert len(invest) == len(values) == 4
    assert np.mean(invest) == pytest.approx(s["steady-state investment delta K"], rel=0.02)
    assert np.all(np.diff(values) > 0) and np.all(np.diff(invest) > 0)
    assert values == pytest.approx([39.682, 40.703, 43.485, 44.525], abs=2e-3)  # the card's VFI values at K_ss


def test_generic_layers_name_no_task() -> None:
    words = re.compile(r"\b(" + "|".join(map(re.escape, _family_words())) + r")\b")
    hits = []
    for target in GENERIC:
        path = ROOT / target
        for f in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if words.search(line):
                    hits.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)
