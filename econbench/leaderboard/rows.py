"""An entry as a table row: its rank, the IQM of its per-seed scores and its headline gap on the page's scale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from econbench.leaderboard.axes import PLOT_LIMIT
from econbench.leaderboard.schema import Gap, Result
from econbench.metrics import iqm


@dataclass
class Row:
    """One entry as shown: its rank, seed IQM and headline gap on the page's scale."""

    rank: int
    uid: str
    result: Result
    seed_iqm: float
    gap: Gap | None
    gap_value: float | None
    gap_ci: tuple[float, float] | None
    gap_measure: str
    approx_ci: bool = False

    @property
    def lower_bound(self) -> bool:
        return self.gap is not None and self.gap.method != "exact"


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _finite_ci(ci: tuple[float, float] | None) -> tuple[float, float] | None:
    if ci is None or not all(math.isfinite(v) for v in ci):
        return None
    return (min(ci), max(ci))


def headline_gap(gap: Gap) -> tuple[float | None, tuple[float, float] | None, str, bool]:
    """(value, interval, measure, interval is approximate) of the number the page ranks gaps by.

    Optimality: the normalized regret (0 at the optimum, 1 at the reference
    policy), whose interval the schema stores. Equilibrium: epsilon relative to
    the agents' values; the schema stores the interval of the absolute epsilon,
    so it is rescaled by relative/epsilon (exact when the agents are symmetric).
    """
    if gap.kind == "optimality":
        if _finite(gap.normalized) is not None:
            return gap.normalized, _finite_ci(gap.ci95), "normalized regret", False
        return gap.value, None, "raw regret", False
    if _finite(gap.relative) is not None:
        ci = _finite_ci(gap.ci95)
        if ci is not None and gap.value != 0:
            scale = gap.relative / gap.value  # type: ignore[operator]
            scaled = (ci[0] * scale, ci[1] * scale)
            return gap.relative, _finite_ci((min(scaled), max(scaled))), "relative \u03b5", True
        return gap.relative, None, "relative \u03b5", False
    return gap.value, _finite_ci(gap.ci95), "\u03b5", False


def worst_group(row: Row) -> str:
    """The group whose gap is shown, when an entry has gaps for several (the most tempted one heads the row)."""
    groups = {g.group for g in row.result.gaps if g.kind == "equilibrium"}
    return f" {row.gap.group}" if row.gap is not None and row.gap.group and len(groups) > 1 else ""


def gap_label(row: Row) -> str:
    return row.gap_measure + (f",{worst_group(row)}" if worst_group(row) else "")


def _seed_iqm(scores: list[float]) -> float:
    """The IQM of per-seed scores, scaled down first where a sum near the float limit would overflow."""
    scale = max(abs(x) for x in scores)
    if scale <= PLOT_LIMIT:
        return iqm(scores)
    return iqm([x / scale for x in scores]) * scale


def task_rows(results: Sequence[Result], offset: int) -> list[Row]:
    ordered = sorted(results, key=lambda r: (-r.score, r.method, r.policy, r.date))
    rows = []
    for i, r in enumerate(ordered):
        gap = r.headline_gap()
        value, ci, measure, approx = headline_gap(gap) if gap else (None, None, "", False)
        rows.append(
            Row(i + 1, f"e{offset + i}", r, _seed_iqm(r.per_seed_scores), gap, _finite(value), ci, measure, approx)
        )
    return rows
