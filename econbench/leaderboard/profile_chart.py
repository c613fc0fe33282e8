"""Performance profiles as inline SVG: per method, the fraction of its runs past each threshold (rliable's score
distribution), one step line per method.

Normalised scores are drawn as normalised regret ``1 - score`` (the page's gap scale: 0 at the optimum, 1 at the
reference policy, on a log axis when it spans more than three decades), rising from 0 to 1 as the threshold
loosens; raw scores as the score itself, falling as the threshold rises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from econbench.leaderboard.aggregates import profile
from econbench.leaderboard.axes import Linear, Log, padded
from econbench.leaderboard.text import breakable, h

WIDTH, HEIGHT = 680, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 14, 50
COLOURS = 8  # CSS classes s0 .. s7


def _x_axis(values: np.ndarray, regret: bool) -> Linear | Log:
    positives = values[values > 0]
    if regret and positives.size and positives.max() / positives.min() > 1e3:
        return Log(list(positives), bool((values <= 0).any()), "0", LEFT, WIDTH - RIGHT)
    lo, hi = float(values.min()), float(values.max())
    if regret:
        lo = min(lo, 0.0)
    return Linear(*padded(lo, hi), LEFT, WIDTH - RIGHT)


def _fraction(values: np.ndarray, regret: bool, threshold: float) -> float:
    """rliable's profile at a threshold: runs with a regret below it, or with a score above it."""
    if regret:
        return float(profile(-values, np.array([-threshold]))[0])
    return float(profile(values, np.array([threshold]))[0])


def _steps(scores: np.ndarray, regret: bool, x: Linear | Log) -> str:
    """One method's profile as a polyline across the axis: a step at each run's value."""
    values = np.clip(1.0 - scores if regret else scores, -1e300, 1e300)
    y = Linear(0.0, 1.0, HEIGHT - BOTTOM, TOP)
    left = x.zero_x if isinstance(x, Log) and x.has_zero else x.a
    points = [(left, 0.0 if regret else 1.0)]
    for v in np.unique(values):
        v = float(v)
        before = _fraction(values, regret, v if regret else float(np.nextafter(v, -np.inf)))
        after = _fraction(values, regret, float(np.nextafter(v, np.inf)) if regret else v)
        points += [(x(v), before), (x(v), after)]
    points.append((x.b, points[-1][1]))
    return " ".join(f"{px:.2f},{y(fy):.2f}" for px, fy in points)


def profile_svg(methods: Sequence[tuple[str, np.ndarray]], regret: bool, name: str) -> str:
    """The chart and its legend (HTML, so long names wrap at separators)."""
    values = np.concatenate([np.clip(1.0 - s if regret else s, -1e300, 1e300) for _, s in methods])
    x = _x_axis(values, regret)
    y = Linear(0.0, 1.0, HEIGHT - BOTTOM, TOP)
    cid = "profile-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)
    xlabel = (
        "threshold on the normalized regret" + (" (log scale)" if isinstance(x, Log) else "") + " \u2192"
        if regret
        else "threshold on the score \u2192"
    )
    ylabel = "fraction of runs below it" if regret else "fraction of runs above it"
    out = [
        f'<svg class="profile" id="{h(cid)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{h(cid)}-t" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{h(cid)}-t">{h(name)}: performance profiles, one step line per method</title>',
        f'<rect class="plot-bg" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}"/>',
    ]
    for py, label in y.ticks():
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.2f}" y2="{py:.2f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{py + 4:.2f}" text-anchor="end">{h(label)}</text>')
    for px, label in x.ticks():
        out.append(f'<line class="grid" x1="{px:.2f}" x2="{px:.2f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>')
        out.append(f'<text class="tick" x="{px:.2f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{h(label)}</text>')
    out.append(
        f'<text class="label" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
        f"{h(xlabel)}</text>"
    )
    out.append(
        f'<text class="label" transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{h(ylabel)}</text>'
    )
    for k, (method, scores) in reversed(list(enumerate(methods))):  # the first method on top where lines meet
        out.append(
            f'<polyline class="step s{k % COLOURS}" data-method="{h(method)}" points="{_steps(scores, regret, x)}">'
            f"<title>{h(method)}: {len(scores)} run{'s' if len(scores) != 1 else ''}</title></polyline>"
        )
    out.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch s{k % COLOURS}"></span>{breakable(method)} ({len(scores)})</li>'
        for k, (method, scores) in enumerate(methods)
    )
    return "".join(out) + f'<ul class="legend">{legend}</ul>'
