"""Task cards: versioned TOML files that define every registered task.

A card may ``extends`` another; its ``params``, ``protocol`` and ``sources``
tables are merged over the parent's, every other key replaces the parent's.
Cards are read from the wheel's ``econbench/_cards`` or, in a source checkout,
from the repository's ``tasks/`` folder.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import sys
import typing
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

NAMESPACE = "econbench"
_MERGED_TABLES = ("params", "protocol", "sources")
_NOT_INHERITED = ("role", "learned_scores")  # a view or a variant has its own learned runs, or none
P = TypeVar("P")


class UnknownTaskError(KeyError):
    """Raised for a task ID with no card; the message lists the known IDs."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def cards_dir() -> Path:
    packaged = Path(__file__).parent / "_cards"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "tasks"


def short_name(task_id: str) -> str:
    """``econbench/InvestmentLQ-v0`` and ``econbench:econbench/InvestmentLQ-v0`` -> ``InvestmentLQ-v0``."""
    return task_id.split(":")[-1].split("/")[-1]


@functools.cache
def _raw(name: str) -> dict[str, Any]:
    path = cards_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(task_names())
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {known}")
    with path.open("rb") as f:
        return tomllib.load(f)


def task_names() -> list[str]:
    return sorted(p.stem for p in cards_dir().glob("*.toml"))


@functools.cache
def load_card(task_id: str) -> dict[str, Any]:
    """The merged card of a task, as a plain dict (callers must not mutate it)."""
    name = short_name(task_id)
    raw = _raw(name)
    if "extends" not in raw:
        return dict(raw)
    merged = {k: v for k, v in load_card(raw["extends"]).items() if k not in _NOT_INHERITED}
    for key, value in raw.items():
        if key in _MERGED_TABLES:
            merged[key] = {**merged.get(key, {}), **value}
        elif key != "extends":
            merged[key] = value
    return merged


def params_from_card(cls: type[P], task_id: str, **overrides: Any) -> P:
    """Build a task's frozen parameter dataclass from its card, with keyword overrides.

    Unknown override names raise ``TypeError`` naming them, so a typo in a
    ``gym.make`` keyword is not silently ignored. The message opens as Python's own
    (``got an unexpected keyword argument 'x'``): callers that probe optional keywords,
    such as TorchRL's ``GymEnv`` passing ``frameskip`` to ``gym.make``, recognise it.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    unknown = [name for name in overrides if name not in fields]
    if unknown:
        raise TypeError(
            f"{short_name(task_id)}: got an unexpected keyword argument {unknown[0]!r} "
            f"(unknown parameter(s) {unknown}); valid: {sorted(fields)}"
        )
    values = {**load_card(task_id)["params"], **overrides}
    missing = sorted(set(fields) - set(values))
    if missing:
        raise ValueError(f"card {short_name(task_id)} lacks parameter(s) {missing}")
    kwargs = {}
    for name in fields:
        value = values[name]
        kind = hints[name]
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise ValueError(f"parameter {name} must be a number, got {value!r}")
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"parameter {name} must be an integer, got {value!r}")
            value = int(value)
        elif kind is float:
            value = float(value)
        kwargs[name] = value
    return cls(**kwargs)


def toml_value(v: Any) -> str:
    """One TOML value, written so that the generated card tables read back exactly (floats to 10 digits)."""
    if isinstance(v, bool):  # before numbers: bool is an int, and TOML spells it in lower case
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return ("inf" if v > 0 else "-inf") if math.isinf(v) else "nan" if math.isnan(v) else f"{v:.10g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return str(v)


def write_learned_block(path: Path, mark: str, tables: dict[str, dict[str, Any]], note: str = "") -> None:
    """Replace a card's generated block (its last lines, from the ``mark`` comment on) with ``[learned_scores.*]`` tables."""
    text = path.read_text().split(mark)[0].rstrip() + "\n\n" + mark + "\n" + (f"# {note}\n" if note else "")
    for name, entry in tables.items():
        text += f"[learned_scores.{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in entry.items())
    path.write_text(text)
    _raw.cache_clear()  # readers in this process see the new tables
    load_card.cache_clear()
