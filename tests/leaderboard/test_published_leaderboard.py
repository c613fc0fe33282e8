"""The published entries in leaderboard/entries still describe the tasks as they are defined today."""

from __future__ import annotations

from pathlib import Path

import pytest

from econbench.leaderboard.results import disagreements, measure
from econbench.leaderboard.schema import parse_result, task_fingerprint
from econbench.leaderboard.store import Store
from econbench.registry import make_task
from tests.conftest import seed_zero_in_ci

ENTRIES = sorted((Path(__file__).resolve().parents[2] / "leaderboard" / "entries").glob("*.json"))


def test_there_are_published_entries_for_every_task() -> None:
    import econbench

    tasks = {parse_result(p.read_bytes()).task.id for p in ENTRIES}
    assert tasks == set(econbench.task_ids())


@pytest.mark.parametrize("path", ENTRIES, ids=[p.stem for p in ENTRIES])
def test_entry_is_current_and_named_after_its_key(path: Path) -> None:
    result = parse_result(path.read_bytes())
    assert result.task.fingerprint == task_fingerprint(result.task.id), "the task changed: re-measure and re-publish"
    assert path.stem == result.key()


def test_store_rebuilds_from_the_published_entries(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    assert store.rebuild(ENTRIES[0].parent) == len(ENTRIES)


@pytest.mark.parametrize(
    "path",
    seed_zero_in_ci(
        [
            p
            for p in ENTRIES
            if parse_result(p.read_bytes()).policy in make_task(parse_result(p.read_bytes()).task.id).policies
        ],
        lambda p: parse_result(p.read_bytes()).policy,
    ),
    ids=lambda p: p.stem,
)
def test_named_policy_entries_are_reproduced(path: Path) -> None:
    claimed = parse_result(path.read_bytes())
    again = measure(claimed.task.id, claimed.policy, claimed.method, claimed.authors)
    assert disagreements(claimed, again) == []
