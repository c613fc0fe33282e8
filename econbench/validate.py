"""Task parameters are checked once, when they are made: finite numbers, declared domains, memory that fits.

A parameter dataclass declares each field's domain next to the field with :func:`domain` and calls
:func:`check_params` from its ``__post_init__``, so a card, a ``make_task`` override and a curriculum's
``dataclasses.replace`` are all checked, and nothing is checked per step. A class may also estimate
what a task of its parameters holds in memory (``memory_bytes() -> (fixed, per_economy)``): sizes that
would not fit this machine are refused with the estimate, before any array is allocated, instead of
ending in a ``MemoryError`` (or the swap) somewhere inside the dynamics.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A closed, open or half-open interval of the real line, written as in mathematics: ``"(0, 1]"``."""

    low: float
    high: float
    low_open: bool
    high_open: bool

    @classmethod
    def parse(cls, spec: str) -> Interval:
        text = spec.replace(" ", "")
        parts = text[1:-1].split(",")
        if len(text) < 5 or text[0] not in "([" or text[-1] not in ")]" or len(parts) != 2:
            raise ValueError(f"not an interval: {spec!r} (write e.g. '(0, 1)' or '[1, inf)')")
        return cls(float(parts[0]), float(parts[1]), text[0] == "(", text[-1] == ")")

    def __contains__(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def __str__(self) -> str:
        """``> 0``, ``>= 1`` for half-lines (the common case reads as words), else the interval."""
        if self.high == math.inf:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        if self.low == -math.inf:
            return f"{'<' if self.high_open else '<='} {_num(self.high)}"
        return f"in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}{')' if self.high_open else ']'}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def domain(spec: str, *, count: bool = False) -> Any:
    """A dataclass field (without default) whose value, or every number of a tuple value, lies in ``spec``.

    ``count=True`` marks a size (agents, stations, grid points) that memory bounds: a refusal for
    memory names the counts.
    """
    return dataclasses.field(metadata={"domain": Interval.parse(spec), "count": count})


def _numbers(value: Any) -> Iterator[float]:
    """The numbers in a value: itself, or those of a (nested) tuple or list; booleans and strings are none."""
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        yield value  # type: ignore[misc]


def check_params(params: Any) -> None:
    """Raise ``ValueError`` naming the first parameter that is not finite or lies outside its domain,
    or the counts whose estimated memory exceeds this machine's."""
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        values = list(_numbers(value))
        if not all(math.isfinite(x) for x in values):
            raise ValueError(f"{f.name} must be finite, got {value!r}")
        dom = f.metadata.get("domain")
        if dom is not None and not all(x in dom for x in values):
            each = " (every value)" if isinstance(value, (tuple, list)) else ""
            raise ValueError(f"{f.name} must be {dom}{each}, got {value!r}")
    estimate = getattr(params, "memory_bytes", None)
    if estimate is not None:
        fixed, per_economy = estimate()
        check_memory(fixed + per_economy, ", ".join(f"{n}={v}" for n, v in counts(params).items()))


def counts(params: Any) -> dict[str, int]:
    """The fields declared ``count=True``, by name."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.metadata.get("count")}


def machine_bytes() -> float:
    """Physical memory of this machine (infinite where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return math.inf


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024.0 or unit == "EiB":
            return f"{n:.3g} {unit}"
        n /= 1024.0
    raise AssertionError  # pragma: no cover


def check_memory(needed: float, what: str) -> None:
    """Refuse ``what`` when its estimated memory is above this machine's physical memory."""
    have = machine_bytes()
    if needed > have:
        raise ValueError(
            f"{what} would need about {human_bytes(needed)} of memory (a rough estimate); "
            f"this machine has {human_bytes(have)}"
        )
