"""Task fingerprints cover the card and every econbench module the factory imports, and nothing unrelated.

Edited sources are substituted through the fingerprint's reader, never written
to the tree (other workers read it at the same time).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from econbench.cards import short_name
from econbench.fingerprint import Reader, data_files, factory_module, import_closure, module_file, task_fingerprint
from econbench.registry import task_ids

PROBE = b"\n_econbench_fingerprint_probe = 1\n"
UNRELATED = (
    "econbench.leaderboard.render",
    "econbench.envs.rbc.figure",
    "econbench.envs.rice.figure",
    "econbench.envs.ev_charging.figure",
    "econbench.envs.ev_operator.figure",
    "econbench.plots",
    "econbench.cli",
)  # pages, figures (reached through lazy hooks), the command


@functools.cache
def original(path: Path) -> bytes:
    return path.read_bytes()


def substituting(path: Path, text: bytes) -> Reader:
    """A reader that returns ``text`` for ``path`` and the untouched file for every other path."""
    return lambda p: text if p == path else original(p)


def _families() -> dict[str, str]:
    """One task ID per factory module."""
    out: dict[str, str] = {}
    for task_id in task_ids():
        out.setdefault(factory_module(task_id), task_id)
    return out


FAMILIES = _families()
CASES = [(task_id, module) for task_id in FAMILIES.values() for module in import_closure(factory_module(task_id))]


def test_fingerprint_is_16_hex_digits_and_the_reader_is_transparent() -> None:
    for task_id in task_ids():
        fp = task_fingerprint(task_id)
        assert len(fp) == 16 and int(fp, 16) >= 0
        assert task_fingerprint(task_id, read=original) == fp


def test_schema_reexports_the_fingerprint() -> None:
    from econbench.leaderboard import schema

    assert schema.task_fingerprint is task_fingerprint


@pytest.mark.parametrize(("task_id", "module"), CASES, ids=[f"{short_name(t)}:{m}" for t, m in CASES])
def test_every_module_of_the_closure_changes_the_fingerprint(task_id: str, module: str) -> None:
    path = module_file(module)
    assert path is not None
    assert task_fingerprint(task_id, read=substituting(path, original(path) + PROBE)) != task_fingerprint(task_id)


@pytest.mark.parametrize("task_id", FAMILIES.values(), ids=short_name)
def test_unrelated_modules_are_outside_and_do_not_change_it(task_id: str) -> None:
    closure = import_closure(factory_module(task_id))
    assert not [m for m in closure if m.startswith(("econbench.plots", "econbench.leaderboard", "econbench.adapters"))]
    for module in UNRELATED:
        assert module not in closure
        path = module_file(module)
        assert path is not None
        assert task_fingerprint(task_id, read=substituting(path, original(path) + PROBE)) == task_fingerprint(task_id)


@pytest.mark.parametrize("task_id", FAMILIES.values(), ids=short_name)
def test_comments_and_docstrings_do_not_change_it(task_id: str) -> None:
    path = module_file(factory_module(task_id))
    assert path is not None
    source = original(path).decode()
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring, f"{path} has no module docstring to edit"
    first = docstring.splitlines()[0]
    edited = "# a comment\n" + source.replace(first, first + " Edited prose.", 1).replace("\n\n", "\n\n# more\n\n", 1)
    assert edited != source
    assert task_fingerprint(task_id, read=substituting(path, edited.encode())) == task_fingerprint(task_id)


@pytest.mark.parametrize(
    ("task_id", "module"),
    [
        ("EVCharging-Operator-v0", "econbench.envs.ev_operator.dynamics"),
        ("EVCharging-Operator-v0", "econbench.envs.ev_charging.solution"),  # the drivers' package's Wardrop code
        ("CapitalGoodsGame-v0", "econbench.envs.capital_goods.dynamics"),  # inherited by the game's dynamics
        ("EVCharging-v0", "econbench.envs.ev_charging.queues"),
    ],
)
def test_the_cases_of_issue_16(task_id: str, module: str) -> None:
    assert module in import_closure(factory_module(task_id))
    path = module_file(module)
    assert path is not None
    assert task_fingerprint(task_id, read=substituting(path, original(path) + PROBE)) != task_fingerprint(task_id)


def test_shipped_data_files_count() -> None:
    """The learned RBC profiles are named policies of the RBC tasks."""
    files = data_files(import_closure(factory_module("RBCTax-v0")))
    assert files and {p.name for p in files} == {"policy.json", "policy.safetensors"}
    weights = next(p for p in files if p.suffix == ".safetensors")
    edited = substituting(weights, original(weights) + b"\0")
    assert task_fingerprint("RBCTax-v0", read=edited) != task_fingerprint("RBCTax-v0")
    assert task_fingerprint("InvestmentLQ-v0", read=edited) == task_fingerprint("InvestmentLQ-v0")


def test_imports_are_followed_not_guessed() -> None:
    """Relative, lazy and submodule imports are followed; TYPE_CHECKING-only imports and other packages are not."""
    path = module_file("econbench.envs.ev_operator.dynamics")
    assert path is not None
    base = set(import_closure("econbench.envs.ev_operator.dynamics"))
    extra = (
        b"\nfrom typing import TYPE_CHECKING\nimport numpy\n"
        b"if TYPE_CHECKING:\n    from econbench import plots\n"
        b"def _lazy():\n    from ..ev_charging.queues import fifo_assign\n    from ... import lq\n"
        b"    from ..rbc import trained\n    import econbench.metrics.stats as stats\n"
    )
    closure = set(
        import_closure("econbench.envs.ev_operator.dynamics", read=substituting(path, original(path) + extra))
    )
    added = {
        "econbench.envs.ev_charging.queues",
        "econbench.lq",
        "econbench.envs.rbc.trained",
        "econbench.metrics.stats",
    }
    assert not added & base and added <= closure
    assert "econbench.envs.rbc" in closure  # the package of a followed module runs its __init__
    assert "econbench.plots" not in closure
    assert module_file("econbench.envs.rbc.trained") == module_file("econbench.envs.rbc.env").with_name("trained.py")
