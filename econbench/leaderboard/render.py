"""The static leaderboard: one self-contained ``index.html`` (inline CSS, JS and SVG) and ``LEADERBOARD.md``.

The page must work offline and from ``file://``, so nothing is loaded from
elsewhere. Every submitted string (method, policy, authors, notes, URLs, even
card summaries) is data: HTML-escaped in text and attributes, JSON-escaped so
it cannot close a script block, Markdown-escaped so it cannot inject markup or
break a table, and linked only when it is an http(s) URL. A Content Security
Policy that admits only the page's own script and style (by hash) backs this up.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import math
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any

from econbench.cards import load_card, short_name
from econbench.leaderboard.schema import Gap, Result
from econbench.metrics import iqm

__all__ = ["render", "fmt", "md_escape", "safe_url", "script_json"]

DASH = "\u2014"


# ----------------------------------------------------------------------------- escaping


def _h(value: object) -> str:
    return html.escape(str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL itself if it is an absolute http(s) URL with a host, else ``None``.

    Browsers strip whitespace and control characters inside a scheme
    (``java\\tscript:``), so any such character disqualifies the URL outright.
    """
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _finite_or_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    return obj


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>``, ``&`` and U+2028/9 escaped, so
    ``</script>`` or ``<!--`` in a submitted string cannot end or alter the block."""
    text = json.dumps(_finite_or_none(obj), ensure_ascii=False, sort_keys=True, allow_nan=False)
    for char, esc in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, esc)
    return text


_MD_PUNCT = re.compile(r"([\\`*_\[\]|~])")
_MD_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def md_escape(value: object) -> str:
    """Text for one Markdown table cell: no line breaks, no emphasis, links, code or HTML."""
    text = _MD_BREAKS.sub(" ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT.sub(r"\\\1", text)


def _md_url(url: str) -> str:
    # Percent-encode what could end a Markdown link destination or split a table row.
    return urllib.parse.quote(url, safe=":/?#@!$&;=+,%-._~*'")


# ----------------------------------------------------------------------------- numbers


def _tidy_exp(text: str) -> str:
    """``1.5e+06`` -> ``1.5e6``, ``2e-05`` -> ``2e-5``."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)


def fmt(x: float | None) -> str:
    """A number for people: grouped integers for large values, 4 significant digits otherwise,
    scientific notation outside [1e-3, 1e9)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e9 or a < 1e-3:
        return _tidy_exp(f"{x:.3e}")
    if a >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _interval(ci: tuple[float, float] | None) -> str:
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else ""


def _num_attr(x: float | None) -> str:
    """A ``data-sort`` value: ``repr`` round-trips exactly and ``parseFloat`` reads it."""
    return repr(float(x)) if x is not None and math.isfinite(x) else ""


# ----------------------------------------------------------------------------- rows


@dataclass
class _Row:
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


def _worst_group(row: _Row) -> str:
    """The group whose gap is shown, when an entry has gaps for several (the most tempted one heads the row)."""
    groups = {g.group for g in row.result.gaps if g.kind == "equilibrium"}
    return f" {row.gap.group}" if row.gap is not None and row.gap.group and len(groups) > 1 else ""


def _gap_label(row: _Row) -> str:
    return row.gap_measure + (f",{_worst_group(row)}" if _worst_group(row) else "")


def _seed_iqm(scores: list[float]) -> float:
    """The IQM of per-seed scores, scaled down first where a sum near the float limit would overflow."""
    scale = max(abs(x) for x in scores)
    if scale <= _PLOT_LIMIT:
        return iqm(scores)
    return iqm([x / scale for x in scores]) * scale


def _rows(results: Sequence[Result], offset: int) -> list[_Row]:
    ordered = sorted(results, key=lambda r: (-r.score, r.method, r.policy, r.date))
    rows = []
    for i, r in enumerate(ordered):
        gap = r.headline_gap()
        value, ci, measure, approx = headline_gap(gap) if gap else (None, None, "", False)
        rows.append(
            _Row(i + 1, f"e{offset + i}", r, _seed_iqm(r.per_seed_scores), gap, _finite(value), ci, measure, approx)
        )
    return rows


def _summary(task_id: str) -> str:
    try:
        return str(load_card(task_id).get("summary", ""))
    except (KeyError, OSError, ValueError):
        return ""


def _figures(out_dir: Path, name: str) -> list[str]:
    """``figures/<name>*.png``, where what follows the name is not a digit (``-v1`` is not ``-v10``)."""
    folder = out_dir / "figures"
    if not folder.is_dir():
        return []
    found = []
    for p in sorted(folder.iterdir()):
        rest = p.name[len(name) :]
        if p.is_file() and p.suffix.lower() == ".png" and p.name.startswith(name) and not rest[:1].isdigit():
            found.append(p.name)
    return found


# ----------------------------------------------------------------------------- chart


# The schema admits any finite number. The chart's arithmetic (spans, padding, ticks) stays finite for values
# within +-_PLOT_LIMIT, so larger ones are drawn at that edge (their tooltips and table cells keep the true value),
# and spans below _MIN_SPAN, which would underflow to a zero tick step, are widened.
_PLOT_LIMIT = 1e300
_MIN_SPAN = 1e-300


def _clip(v: float) -> float:
    return max(-_PLOT_LIMIT, min(_PLOT_LIMIT, v))


def _nice_ticks(lo: float, hi: float, n: int = 5) -> tuple[list[float], float]:
    raw = (hi - lo) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag * (1 + 1e-12))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)], step


def _tick_label(v: float, step: float, biggest: float) -> str:
    if abs(v) < step * 1e-9:
        return "0"
    if biggest >= 1e6 or step < 1e-3:
        sig = max(1, min(15, math.floor(math.log10(biggest)) - math.floor(math.log10(step)) + 1))
        return _tidy_exp(f"{v:.{sig - 1}e}")
    decimals = max(
        0, -math.floor(math.log10(step)) + (1 if round(step / 10.0 ** math.floor(math.log10(step)), 6) == 2.5 else 0)
    )
    return f"{v:,.{decimals}f}"


def _padded(lo: float, hi: float) -> tuple[float, float]:
    if hi - lo > _MIN_SPAN:
        pad = (hi - lo) * 0.06
        return lo - pad, hi + pad
    width = max(abs(lo), abs(hi)) * 0.05
    width = width if width > _MIN_SPAN else 1.0
    return lo - width, hi + width


class _Linear:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[tuple[float, str]]:
        values, step = _nice_ticks(self.lo, self.hi)
        biggest = max(abs(self.lo), abs(self.hi))
        return [(self(v), _tick_label(v, step, biggest)) for v in values]


class _Log:
    """Log10 axis over the positive values; values <= 0 sit on a separate "0" tick before an axis break."""

    ZERO_BAND = 34.0

    def __init__(self, positives: list[float], has_zero: bool, zero_label: str, a: float, b: float) -> None:
        logs = [math.log10(v) for v in positives]
        self.lo, self.hi = math.floor(min(logs)), math.ceil(max(logs))
        if self.hi == self.lo:
            self.hi += 1
        self.has_zero, self.zero_label = has_zero, zero_label
        self.zero_x = a
        self.a = a + (self.ZERO_BAND if has_zero else 0.0)
        self.b = b

    def __call__(self, v: float) -> float:
        if v <= 0:
            return self.zero_x
        return self.a + (math.log10(v) - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[tuple[float, str]]:
        span = self.hi - self.lo
        every = next(m for m in (1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500) if span / m <= 7)
        out = [(self.zero_x, self.zero_label)] if self.has_zero else []
        for k in range(math.ceil(self.lo / every) * every, self.hi + 1, every):
            label = f"{10.0**k:g}" if -2 <= k <= 3 else f"1e{k}"
            out.append((self(10.0**k), label))
        return out


def _gap_axis(rows: list[_Row], a: float, b: float) -> tuple[_Linear | _Log, bool]:
    values = [r.gap_value for r in rows if r.gap_value is not None]
    extents = values + [v for r in rows if r.gap_ci for v in r.gap_ci]
    positives = [v for v in values if v > 0]
    if positives and max(positives) / min(positives) > 1e3:
        pos_ext = [v for v in extents if v > 0]
        nonpos = [v for v in extents if v <= 0]
        label = "0" if all(v == 0 for v in nonpos) else "\u22640"
        return _Log(pos_ext, bool(nonpos), label, a, b), True
    lo, hi = min(extents), max(extents)
    if lo >= 0:
        lo = 0.0  # regret and epsilon are >= 0 in theory: anchor the axis at the optimum / equilibrium
    lo, hi = _padded(lo, hi)
    return _Linear(lo, hi, a, b), False


def _chart(rows: list[_Row], task_name: str) -> str:
    plotted = [r for r in rows if r.gap_value is not None]
    if not plotted:
        return '<p class="note">No entry of this task reports a gap, so there is no score-vs-gap chart.</p>'
    width, height = 680, 360
    left, right, top, bottom = 84, 24, 18, 56
    clipped = [
        dataclasses.replace(
            r,
            gap_value=_clip(r.gap_value),  # type: ignore[arg-type]
            gap_ci=r.gap_ci and (_clip(r.gap_ci[0]), _clip(r.gap_ci[1])),
        )
        for r in plotted
    ]
    x, log = _gap_axis(clipped, left, width - right)
    scores = [_clip(r.result.score) for r in plotted] + [_clip(v) for r in plotted for v in r.result.score_ci95]
    ylo, yhi = _padded(min(scores), max(scores))
    _, ystep = _nice_ticks(ylo, yhi)
    ylo, yhi = math.floor(ylo / ystep) * ystep, math.ceil(yhi / ystep) * ystep  # end the axis on labelled ticks
    y = _Linear(ylo, yhi, height - bottom, top)
    measures = sorted({r.gap_measure for r in plotted})
    xlabel = " / ".join(measures) + (" (log scale)" if log else "")
    cid = "chart-" + re.sub(r"[^A-Za-z0-9_-]", "_", task_name)
    out = [
        f'<svg class="chart" id="{_h(cid)}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{_h(cid)}-t" '
        f'xmlns="http://www.w3.org/2000/svg" data-scale="{"log" if log else "linear"}">',
        f'<title id="{_h(cid)}-t">{_h(task_name)}: score against gap, one point per entry</title>',
        f'<rect class="plot-bg" x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}"/>',
    ]
    base_y, top_y = height - bottom, top
    for px, label in y.ticks():
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{px:.2f}" y2="{px:.2f}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{px + 4:.2f}" text-anchor="end">{_h(label)}</text>')
    for px, label in x.ticks():
        out.append(f'<line class="grid" x1="{px:.2f}" x2="{px:.2f}" y1="{top_y}" y2="{base_y}"/>')
        out.append(f'<text class="tick" x="{px:.2f}" y="{base_y + 16}" text-anchor="middle">{_h(label)}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{base_y}" y2="{base_y}"/>')
    out.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top_y}" y2="{base_y}"/>')
    if isinstance(x, _Log) and x.has_zero:
        bx = x.zero_x + x.ZERO_BAND / 2
        out.append(f'<path class="break" d="M{bx - 5:.1f},{base_y + 5} l6,-10 M{bx + 1:.1f},{base_y + 5} l6,-10"/>')
    out.append(
        f'<text class="label" x="{(left + width - right) / 2:.1f}" y="{height - 12}" text-anchor="middle">'
        f"{_h(xlabel)} \u2192 lower is better</text>"
    )
    out.append(
        f'<text class="label" transform="translate(16 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">score (mean over seeds) \u2192 higher is better</text>'
    )
    for r in plotted:
        cx, cy = x(_clip(r.gap_value)), y(_clip(r.result.score))  # type: ignore[arg-type]
        gap_text = f"{r.gap_measure} {fmt(r.gap_value)}" + (f" {_interval(r.gap_ci)}" if r.gap_ci else "")
        tip = (
            f"#{r.rank} {r.result.method} ({r.result.policy})\nscore {fmt(r.result.score)} "
            f"{_interval(r.result.score_ci95)}\n{gap_text} ({r.gap.method if r.gap else ''})"
        )
        cls = "pt" + (" verified" if r.result.verified else "") + (" lower-bound" if r.lower_bound else "")
        out.append(f'<g class="{cls}" data-entry="{_h(r.uid)}"><title>{_h(tip)}</title>')
        lo, hi = r.result.score_ci95
        out.append(f'<line class="err" x1="{cx:.2f}" x2="{cx:.2f}" y1="{y(_clip(lo)):.2f}" y2="{y(_clip(hi)):.2f}"/>')
        if r.gap_ci:
            out.append(
                f'<line class="err" x1="{x(_clip(r.gap_ci[0])):.2f}" x2="{x(_clip(r.gap_ci[1])):.2f}" '
                f'y1="{cy:.2f}" y2="{cy:.2f}"/>'
            )
        out.append(f'<circle class="point" cx="{cx:.2f}" cy="{cy:.2f}" r="5"/>')
        out.append(f'<text class="pt-label" x="{cx + 7:.2f}" y="{cy - 7:.2f}">{r.rank}</text></g>')
    out.append("</svg>")
    return "".join(out)


# ----------------------------------------------------------------------------- HTML

_CSS = """
:root{--fg:#1d2330;--muted:#5d6677;--bg:#fff;--panel:#f6f7fa;--line:#dfe3ea;--accent:#2f62c9;--ok:#1d7a46;--warn:#a15c00}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ee;--muted:#9aa3b3;--bg:#14171d;--panel:#1c2029;--line:#2e3441;--accent:#7da2ff;--ok:#58c38a;--warn:#e0a35a}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1280px;margin:0 auto;padding:0 20px}
header{padding-top:24px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.sub,.note,.summary{color:var(--muted)}
.summary{margin:4px 0 14px}
nav ul{list-style:none;padding:0;margin:10px 0 0;display:flex;flex-wrap:wrap;gap:6px 14px}
nav a,td a{color:var(--accent)}
section.task{border-top:1px solid var(--line);padding:22px 0 10px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table.board{border-collapse:collapse;width:100%;font-size:.9rem}
table.board th,table.board td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.board td{overflow-wrap:anywhere;max-width:22rem}
table.board th{background:var(--panel);white-space:nowrap;position:sticky;top:0}
table.board th button{all:unset;cursor:pointer;font-weight:600}
table.board th button:focus-visible{outline:2px solid var(--accent)}
table.board th[aria-sort=ascending] button::after{content:" \\25B2";font-size:.7em}
table.board th[aria-sort=descending] button::after{content:" \\25BC";font-size:.7em}
table.board th.num{text-align:right}
table.board td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.board tbody tr:hover,table.board tbody tr.hl{background:var(--panel)}
.ci{display:block;color:var(--muted);font-size:.8em}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:.78em;border:1px solid var(--line);color:var(--muted);white-space:nowrap}
.badge.ok{color:var(--ok);border-color:var(--ok)}
.badge.lb{color:var(--warn);border-color:var(--warn)}
details{font-size:.82em;color:var(--muted)}
details p{margin:2px 0;white-space:pre-wrap}
.chart-wrap{margin:14px 0 4px;max-width:720px}
svg.chart{width:100%;height:auto;display:block;font:11px system-ui,sans-serif}
svg.chart .plot-bg{fill:var(--panel)}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.chart .break{stroke:var(--muted);fill:none}
svg.chart .tick,svg.chart .label,svg.chart .pt-label{fill:var(--muted)}
svg.chart .label{font-size:12px}
svg.chart .err{stroke:var(--accent);stroke-width:1.3;opacity:.65}
svg.chart .point{fill:var(--accent);stroke:var(--bg);stroke-width:1.5}
svg.chart .verified .point{fill:var(--ok)}
svg.chart .lower-bound .point{fill:var(--bg);stroke:var(--accent);stroke-width:2}
svg.chart .pt.hl .point{r:8}
svg.chart .pt-label{font-size:10px;font-weight:600}
figure{margin:12px 0;max-width:100%}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
figcaption{font-size:.8em;color:var(--muted)}
footer{border-top:1px solid var(--line);margin-top:20px;padding-top:10px;padding-bottom:30px;font-size:.85rem;color:var(--muted)}
"""

_JS = """
(function () {
  "use strict";
  function sortKey(cell, numeric) {
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-sort");
    if (numeric) {
      if (raw === null || raw === "") { return null; }
      var v = parseFloat(raw);
      return isNaN(v) ? null : v;
    }
    return (raw !== null ? raw : cell.textContent).trim().toLowerCase();
  }
  function sortTable(table, th, col) {
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var body = table.tBodies[0];
    var keyed = Array.prototype.map.call(body.rows, function (row, i) {
      return {row: row, key: sortKey(row.cells[col], numeric), i: i};
    });
    keyed.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return a.key === b.key ? a.i - b.i : (a.key === null ? 1 : -1);
      }
      var c = numeric ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.key.localeCompare(b.key);
      return c !== 0 ? dir * c : a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.board"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (th.hasAttribute("data-type")) {
        th.addEventListener("click", function () { sortTable(table, th, col); });
      }
    });
  });
  function highlight(id, on) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-entry]"), function (el) {
      if (el.getAttribute("data-entry") === id) { el.classList.toggle("hl", on); }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-entry]"), function (el) {
    var id = el.getAttribute("data-entry");
    el.addEventListener("mouseenter", function () { highlight(id, true); });
    el.addEventListener("mouseleave", function () { highlight(id, false); });
  });
})();
"""

_COLUMNS = [  # (header, sort type or None, title)
    ("Rank", "number", "by mean score"),
    ("Method", "text", "submitted method name"),
    ("Policy", "text", "named policy of the task, or the submitted checkpoint"),
    ("Score", "number", "mean over seeds of the per-episode score, with its 95% bootstrap interval"),
    ("IQM", "number", "interquartile mean of the per-seed scores"),
    ("Gap", "number", "normalized regret (optimality) or relative epsilon (equilibrium), with its 95% interval"),
    ("Verified", "number", "re-evaluated by the maintainers"),
    ("Authors", "text", "authors and code"),
    ("Date", "number", "submission date (UTC)"),
]


_NUMERIC_HEADS = ("Rank", "Score", "IQM", "Gap", "Date")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _details(r: Result) -> str:
    lines = [
        f"{len(r.seeds)} seeds \u00d7 {r.episodes_per_seed} episodes; backend {r.backend}; {r.hardware}; econbench {r.econbench_version}",
        f"stored IQM across seeds: {fmt(r.score_iqm)}",
    ]
    for g in r.gaps:
        lines.append(
            f"{g.kind} gap{' (' + g.group + ')' if g.group else ''}: {fmt(g.value)} by {g.method}"
            + (f"; {g.description}" if g.description else "")
        )
    body = "".join(f"<p>{_h(line)}</p>" for line in lines)
    if r.wandb_run:
        url = safe_url(r.wandb_run)
        run = f'<a href="{_h(url)}" rel="noopener noreferrer nofollow">W&amp;B run</a>' if url else _h(r.wandb_run)
        body += f"<p>W&amp;B: {run}</p>"
    if r.notes:
        body += f'<p class="notes">{_h(r.notes)}</p>'
    return f"<details><summary>details</summary>{body}</details>"


def _table_row(row: _Row) -> str:
    r = row.result
    cells = [f'<td class="num" data-sort="{row.rank}">{row.rank}</td>']
    cells.append(
        f'<td class="method" data-sort="{_h(r.method)}"><span class="name">{_h(r.method)}</span>{_details(r)}</td>'
    )
    cells.append(f'<td data-sort="{_h(r.policy)}">{_h(r.policy)}</td>')
    cells.append(
        f'<td class="num" data-sort="{_num_attr(r.score)}">{_h(fmt(r.score))}'
        f'<span class="ci">{_h(_interval(r.score_ci95))}</span></td>'
    )
    cells.append(f'<td class="num" data-sort="{_num_attr(row.seed_iqm)}">{_h(fmt(row.seed_iqm))}</td>')
    if row.gap is None:
        cells.append(f'<td class="num" data-sort="">{DASH}</td>')
    else:
        ci = _interval(row.gap_ci)
        ci_text = ("\u2248" if row.approx_ci else "") + ci if ci else ""
        badge = "badge lb" if row.lower_bound else "badge"
        prefix = "\u2265 " if row.lower_bound else ""
        cells.append(
            f'<td class="num" data-sort="{_num_attr(row.gap_value)}" title="{_h(_gap_label(row))}">{prefix}{_h(fmt(row.gap_value))}'
            f'<span class="ci">{_h(ci_text)}</span>{_h(_worst_group(row))}<span class="{badge}">{_h(row.gap.method)}</span></td>'
        )
    badge = '<span class="badge ok">\u2713 verified</span>' if r.verified else '<span class="badge">unverified</span>'
    cells.append(f'<td data-sort="{int(r.verified)}">{badge}</td>')
    authors = _h(", ".join(r.authors))
    url = safe_url(r.code_url)
    if url:
        authors += f' \u00b7 <a href="{_h(url)}" rel="noopener noreferrer nofollow">code</a>'
    cells.append(f'<td data-sort="{_h(", ".join(r.authors))}">{authors}</td>')
    when = r.date.astimezone(timezone.utc)
    cells.append(
        f'<td class="num" data-sort="{when.timestamp():.0f}" title="{_h(when.isoformat())}">{when:%Y-%m-%d}</td>'
    )
    return f'<tr data-entry="{_h(row.uid)}">' + "".join(cells) + "</tr>"


def _anchor(task_id: str) -> str:
    return "task-" + re.sub(r"[^A-Za-z0-9_.-]", "_", short_name(task_id))


def _section(task_id: str, rows: list[_Row], out_dir: Path) -> str:
    name = short_name(task_id)
    anchor = _anchor(task_id)
    initial, num = ' aria-sort="ascending"', ' class="num"'
    heads = "".join(
        f'<th scope="col" data-type="{kind}" title="{_h(title)}"{initial if head == "Rank" else ""}'
        f"{num if head in _NUMERIC_HEADS else ''}>"
        f'<button type="button">{_h(head)}</button></th>'
        for head, kind, title in _COLUMNS
    )
    body = "".join(_table_row(r) for r in rows)
    seeds = sorted({len(r.result.seeds) for r in rows})
    note = (
        f"IQM: the interquartile mean of each entry's per-seed scores (the mean of the middle 50% of its "
        f"{'/'.join(map(str, seeds))} seed means, as rliable aggregates runs); less sensitive to one lucky or "
        f"unlucky seed than the mean. Gap: 0 is optimal (or an equilibrium); \u2265 marks lower bounds."
    )
    if any(r.approx_ci for r in rows):
        note += (
            " Relative-\u03b5 intervals (\u2248) are the absolute \u03b5 interval rescaled by relative/absolute \u03b5."
        )
    parts = [
        f'<section class="task" id="{_h(anchor)}" data-task="{_h(task_id)}">',
        f"<h2>{_h(task_id)}</h2>",
        f'<p class="summary">{_h(_summary(task_id)) or "&nbsp;"}</p>',
        f'<div class="table-wrap"><table class="board"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>',
        f'<p class="note aggregate">{_h(note)}</p>',
        f'<div class="chart-wrap">{_chart(rows, name)}</div>',
    ]
    for fig in _figures(out_dir, name):
        src = _h("figures/" + urllib.parse.quote(fig))
        parts.append(
            f'<figure><a href="{src}"><img src="{src}" alt="{_h(fig)}" loading="lazy"></a>'
            f"<figcaption>{_h(fig)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def _by_task(results: Sequence[Result]) -> list[tuple[str, list[_Row]]]:
    tasks: dict[str, list[Result]] = {}
    for r in results:
        tasks.setdefault(r.task.id, []).append(r)
    out, offset = [], 0
    for task_id in sorted(tasks):
        rows = _rows(tasks[task_id], offset)
        offset += len(rows)
        out.append((task_id, rows))
    return out


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _html(groups: list[tuple[str, list[_Row]]], out_dir: Path, title: str, data: list[Any]) -> str:
    n = sum(len(rows) for _, rows in groups)
    toc = "".join(f'<li><a href="#{_h(_anchor(t))}">{_h(short_name(t))}</a> ({len(rows)})</li>' for t, rows in groups)
    sections = "".join(_section(t, rows, out_dir) for t, rows in groups) or '<p class="note">No entries yet.</p>'
    csp = (
        f"default-src 'none'; img-src 'self' data: file:; style-src {_sha256(_CSS)}; "
        f"script-src {_sha256(_JS)}; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_h(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_h(title)}</title><link rel="icon" href="data:,"><style>{_CSS}</style></head>\n<body>'
        f'<header><h1>{_h(title)}</h1><p class="sub">{_plural(n, "entry", "entries")} on '
        f"{_plural(len(groups), 'task', 'tasks')}. Click a column header to sort; "
        f"hover a point for its entry.</p><nav><ul>{toc}</ul></nav></header>\n"
        f"<main>{sections}</main>\n"
        "<footer><p>Score: the card's score per episode, averaged over episodes and seeds, with a stratified bootstrap "
        "95% interval. Gap: for single-agent tasks the normalized regret (V*\u2212V)/(V*\u2212V<sub>ref</sub>), 0 at "
        "the optimum and 1 at the card's reference policy; for games the largest best-response gain relative to the "
        "agents' values (relative \u03b5). Gap methods other than <em>exact</em> give lower bounds. The entries as JSON "
        "are embedded in this page (<code>script#leaderboard-data</code>).</p></footer>\n"
        f'<script type="application/json" id="leaderboard-data">{script_json(data)}</script>\n'
        f"<script>{_JS}</script>\n</body></html>\n"
    )


# ----------------------------------------------------------------------------- Markdown

_MD_HEAD = [
    "Rank",
    "Method",
    "Policy",
    "Score [95% CI]",
    "IQM",
    "Gap [95% CI]",
    "Gap method",
    "Verified",
    "Authors",
    "Date",
]


def _md(groups: list[tuple[str, list[_Row]]], out_dir: Path, title: str) -> str:
    lines = [
        f"# {md_escape(title)}",
        "",
        "Best score first. IQM: interquartile mean of the per-seed scores. Gap: normalized regret (optimality, "
        "0 = optimal, 1 = reference policy) or relative \u03b5 (equilibrium); \u2265 marks lower bounds.",
        "",
    ]
    if not groups:
        lines += ["No entries yet.", ""]
    for task_id, rows in groups:
        lines += [f"## {md_escape(task_id)}", ""]
        summary = _summary(task_id)
        if summary:
            lines += [md_escape(summary), ""]
        lines += [
            "| " + " | ".join(_MD_HEAD) + " |",
            "|"
            + "|".join("---:" if h in ("Rank", "IQM") or h.startswith(("Score", "Gap [")) else "---" for h in _MD_HEAD)
            + "|",
        ]
        for row in rows:
            r = row.result
            if row.gap is None:
                gap, method = DASH, DASH
            else:
                ci = _interval(row.gap_ci)
                gap = (
                    ("\u2265 " if row.lower_bound else "")
                    + fmt(row.gap_value)
                    + (" " + ("\u2248" if row.approx_ci else "") + ci if ci else "")
                )
                gap += f" ({_gap_label(row)})"
                method = row.gap.method
            authors = md_escape(", ".join(r.authors))
            url = safe_url(r.code_url)
            if url:
                authors += f" ([code](<{_md_url(url)}>))"
            cells = [
                str(row.rank),
                md_escape(r.method),
                md_escape(r.policy),
                md_escape(f"{fmt(r.score)} {_interval(r.score_ci95)}"),
                md_escape(fmt(row.seed_iqm)),
                md_escape(gap),
                md_escape(method),
                "\u2713" if r.verified else "",
                authors,
                f"{r.date.astimezone(timezone.utc):%Y-%m-%d}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for fig in _figures(out_dir, short_name(task_id)):
            lines += [f"![{md_escape(fig)}](<figures/{_md_url(fig)}>)", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- entry point


def render(results: Sequence[Result], out_dir: str | Path, title: str = "econbench leaderboard") -> tuple[Path, Path]:
    """Write ``out_dir/index.html`` and ``out_dir/LEADERBOARD.md``; returns (page, table).

    Figures already in ``out_dir/figures/<TaskName>*.png`` are embedded in their
    task's section by relative path, so the folder can be moved or published as is.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file: the page is written into a folder (index.html, LEADERBOARD.md, figures/)")
    out.mkdir(parents=True, exist_ok=True)
    groups = _by_task(results)
    data = [r.model_dump(mode="json") for _, rows in groups for r in (row.result for row in rows)]
    page, table = out / "index.html", out / "LEADERBOARD.md"
    page.write_text(_html(groups, out, title, data), encoding="utf-8")
    table.write_text(_md(groups, out, title), encoding="utf-8")
    return page, table
