"""The score-against-gap chart of a task's section: one point per entry, with both intervals, as inline SVG."""

from __future__ import annotations

import dataclasses
import math
import re

from econbench.leaderboard.axes import Linear, Log, clip, nice_ticks, padded
from econbench.leaderboard.rows import Row
from econbench.leaderboard.text import fmt, h, interval


def _gap_axis(rows: list[Row], a: float, b: float) -> tuple[Linear | Log, bool]:
    values = [r.gap_value for r in rows if r.gap_value is not None]
    extents = values + [v for r in rows if r.gap_ci for v in r.gap_ci]
    positives = [v for v in values if v > 0]
    if positives and max(positives) / min(positives) > 1e3:
        pos_ext = [v for v in extents if v > 0]
        nonpos = [v for v in extents if v <= 0]
        label = "0" if all(v == 0 for v in nonpos) else "\u22640"
        return Log(pos_ext, bool(nonpos), label, a, b), True
    lo, hi = min(extents), max(extents)
    if lo >= 0:
        lo = 0.0  # regret and epsilon are >= 0 in theory: anchor the axis at the optimum / equilibrium
    lo, hi = padded(lo, hi)
    return Linear(lo, hi, a, b), False


def score_gap_chart(rows: list[Row], task_name: str) -> str:
    plotted = [r for r in rows if r.gap_value is not None]
    if not plotted:
        return '<p class="note">No entry of this task reports a gap, so there is no score-vs-gap chart.</p>'
    width, height = 680, 360
    left, right, top, bottom = 84, 24, 18, 56
    clipped = [
        dataclasses.replace(
            r,
            gap_value=clip(r.gap_value),  # type: ignore[arg-type]
            gap_ci=r.gap_ci and (clip(r.gap_ci[0]), clip(r.gap_ci[1])),
        )
        for r in plotted
    ]
    x, log = _gap_axis(clipped, left, width - right)
    scores = [clip(r.result.score) for r in plotted] + [clip(v) for r in plotted for v in r.result.score_ci95]
    ylo, yhi = padded(min(scores), max(scores))
    _, ystep = nice_ticks(ylo, yhi)
    ylo, yhi = math.floor(ylo / ystep) * ystep, math.ceil(yhi / ystep) * ystep  # end the axis on labelled ticks
    y = Linear(ylo, yhi, height - bottom, top)
    measures = sorted({r.gap_measure for r in plotted})
    xlabel = " / ".join(measures) + (" (log scale)" if log else "")
    cid = "chart-" + re.sub(r"[^A-Za-z0-9_-]", "_", task_name)
    out = [
        f'<svg class="chart" id="{h(cid)}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{h(cid)}-t" '
        f'xmlns="http://www.w3.org/2000/svg" data-scale="{"log" if log else "linear"}">',
        f'<title id="{h(cid)}-t">{h(task_name)}: score against gap, one point per entry</title>',
        f'<rect class="plot-bg" x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}"/>',
    ]
    base_y, top_y = height - bottom, top
    for px, label in y.ticks():
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{px:.2f}" y2="{px:.2f}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{px + 4:.2f}" text-anchor="end">{h(label)}</text>')
    for px, label in x.ticks():
        out.append(f'<line class="grid" x1="{px:.2f}" x2="{px:.2f}" y1="{top_y}" y2="{base_y}"/>')
        out.append(f'<text class="tick" x="{px:.2f}" y="{base_y + 16}" text-anchor="middle">{h(label)}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{base_y}" y2="{base_y}"/>')
    out.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top_y}" y2="{base_y}"/>')
    if isinstance(x, Log) and x.has_zero:
        bx = x.zero_x + x.ZERO_BAND / 2
        out.append(f'<path class="break" d="M{bx - 5:.1f},{base_y + 5} l6,-10 M{bx + 1:.1f},{base_y + 5} l6,-10"/>')
    out.append(
        f'<text class="label" x="{(left + width - right) / 2:.1f}" y="{height - 12}" text-anchor="middle">'
        f"{h(xlabel)} \u2192 lower is better</text>"
    )
    out.append(
        f'<text class="label" transform="translate(16 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">score (mean over seeds) \u2192 higher is better</text>'
    )
    for r in plotted:
        cx, cy = x(clip(r.gap_value)), y(clip(r.result.score))  # type: ignore[arg-type]
        gap_text = f"{r.gap_measure} {fmt(r.gap_value)}" + (f" {interval(r.gap_ci)}" if r.gap_ci else "")
        tip = (
            f"#{r.rank} {r.result.method} ({r.result.policy})\nscore {fmt(r.result.score)} "
            f"{interval(r.result.score_ci95)}\n{gap_text} ({r.gap.method if r.gap else ''})"
        )
        cls = "pt" + (" verified" if r.result.verified else "") + (" lower-bound" if r.lower_bound else "")
        out.append(f'<g class="{cls}" data-entry="{h(r.uid)}"><title>{h(tip)}</title>')
        lo, hi = r.result.score_ci95
        out.append(f'<line class="err" x1="{cx:.2f}" x2="{cx:.2f}" y1="{y(clip(lo)):.2f}" y2="{y(clip(hi)):.2f}"/>')
        if r.gap_ci:
            out.append(
                f'<line class="err" x1="{x(clip(r.gap_ci[0])):.2f}" x2="{x(clip(r.gap_ci[1])):.2f}" '
                f'y1="{cy:.2f}" y2="{cy:.2f}"/>'
            )
        out.append(f'<circle class="point" cx="{cx:.2f}" cy="{cy:.2f}" r="5"/>')
        out.append(f'<text class="pt-label" x="{cx + 7:.2f}" y="{cy - 7:.2f}">{r.rank}</text></g>')
    out.append("</svg>")
    return "".join(out)
