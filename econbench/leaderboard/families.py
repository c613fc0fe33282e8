"""Task families for the page: read off the ID, so the page groups tasks without naming any.

A family is the ID's name up to its first hyphen (``Market-Planner-v0`` belongs to ``Market``).
Families come in alphabetical order; within one, the family's own game (``<Family>-vN``) leads and its
views and variants follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from econbench.cards import short_name


def family_of(task_id: str) -> str:
    return short_name(task_id).split("-", 1)[0]


def _within(task_id: str) -> tuple[bool, str]:
    name = short_name(task_id)
    return (not re.fullmatch(rf"{re.escape(family_of(task_id))}-v\d+", name), name)


def by_family(task_ids: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``[(family, [task IDs])]`` in page order."""
    groups: dict[str, list[str]] = {}
    for task_id in task_ids:
        groups.setdefault(family_of(task_id), []).append(task_id)
    return [(family, sorted(groups[family], key=_within)) for family in sorted(groups)]
