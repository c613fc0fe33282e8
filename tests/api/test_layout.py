"""The layout docs/adding-a-task.md promises, for every family: a newcomer finds each kind of code where the
checklist says, and a family that skips an item fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from econbench.cards import load_card
from econbench.registry import task_ids

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "econbench" / "envs"
FAMILIES = sorted(p.name for p in ENVS.iterdir() if (p / "__init__.py").is_file())


def test_every_card_is_built_by_a_family_package() -> None:
    for task_id in task_ids():
        module = load_card(task_id)["factory"].partition(":")[0]
        parts = module.split(".")
        assert parts[:2] == ["econbench", "envs"] and parts[2] in FAMILIES, (task_id, module)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_follows_the_checklist(family: str) -> None:
    pkg = ENVS / family
    assert ast.get_docstring(ast.parse((pkg / "__init__.py").read_text())), (
        f"{family}/__init__.py: say what the model is"
    )
    for name in ("params.py", "env.py"):
        assert (pkg / name).is_file(), f"{family}: no {name}"
    assert (pkg / "dynamics.py").is_file() or (pkg / "dynamics" / "__init__.py").is_file(), f"{family}: no dynamics"
    doc = ROOT / "docs" / "models" / f"{family}.md"
    assert doc.is_file(), f"{family}: no docs/models/{family}.md"
    tests = ROOT / "tests" / "tasks" / family
    assert any(tests.glob("test_*.py")), f"{family}: no tests in tests/tasks/{family}/"


def test_no_citation_leaves_the_repository() -> None:
    """Code, cards, docs and tests cite the repository's own docs and primary sources only."""
    outside = []
    for folder in ("econbench", "tasks", "docs", "tests", "baselines", "ci"):
        for f in (ROOT / folder).rglob("*"):
            if f.suffix in {".py", ".toml", ".md", ".sh"} and "fixtures" not in f.parts and f != Path(__file__):
                for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                    if "shared/specs" in line or "shared/seeds" in line or "../shared" in line:
                        outside.append(f"{f.relative_to(ROOT)}:{n}")
    assert not outside, outside
