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
import hashlib
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any

from econbench.cards import load_card, short_name
from econbench.leaderboard.aggregate_view import cross_block, cross_block_md, task_block, task_block_md
from econbench.leaderboard.aggregates import CrossTask, TaskAggregates, cross_task, task_aggregates
from econbench.leaderboard.chart import score_gap_chart
from econbench.leaderboard.families import by_family
from econbench.leaderboard.overview import TaskLine, overview_html, overview_md
from econbench.leaderboard.rows import Row, gap_label, task_rows, worst_group
from econbench.leaderboard.schema import Result
from econbench.leaderboard.text import (
    DASH,
    fmt,
    github_slug,
    h,
    interval,
    md_escape,
    md_url,
    num_attr,
    safe_url,
    script_json,
)

__all__ = ["render", "fmt", "md_escape", "safe_url", "script_json"]


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


# ----------------------------------------------------------------------------- HTML

_CSS = """
:root{--fg:#1d2330;--muted:#5d6677;--bg:#fff;--panel:#f6f7fa;--line:#dfe3ea;--accent:#2f62c9;--ok:#1d7a46;--warn:#a15c00}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ee;--muted:#9aa3b3;--bg:#14171d;--panel:#1c2029;--line:#2e3441;--accent:#7da2ff;--ok:#58c38a;--warn:#e0a35a}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1280px;margin:0 auto;padding:0 20px}
header{padding-top:24px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.4rem;margin:26px 0 0}
h3{font-size:1.15rem;margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h4{font-size:1rem;margin:16px 0 6px}
.sub,.note,.summary{color:var(--muted)}
.summary{margin:4px 0 14px}
td a{color:var(--accent)}
.family>h2{border-bottom:2px solid var(--line);padding-bottom:4px}
section.task{border-top:1px solid var(--line);padding:22px 0 10px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table.board{border-collapse:collapse;width:100%;font-size:.9rem}
table.board th,table.board td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.board td{overflow-wrap:normal;word-break:normal;hyphens:none;max-width:22rem}
table.board th{background:var(--panel);white-space:nowrap;position:sticky;top:0}
table.board th button{all:unset;cursor:pointer;font-weight:600}
table.board th button:focus-visible{outline:2px solid var(--accent)}
table.board th[aria-sort=ascending] button::after{content:" \\25B2";font-size:.7em}
table.board th[aria-sort=descending] button::after{content:" \\25BC";font-size:.7em}
table.board th.num{text-align:right}
table.board td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.board tbody tr:hover,table.board tbody tr.hl{background:var(--panel)}
table.overview th.family{background:var(--panel);vertical-align:top;text-align:left;white-space:nowrap}
table.overview .policy{color:var(--muted)}
table.overview td.task{white-space:nowrap}
.submit pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow-x:auto;font-size:.85em}
.aggregates{margin:10px 0}
.aggregates .table-wrap{margin:6px 0}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.85em}
.swatch{display:inline-block;width:18px;height:3px;margin-right:6px;vertical-align:middle}
.ci{display:block;color:var(--muted);font-size:.8em}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:.78em;border:1px solid var(--line);color:var(--muted);white-space:nowrap}
.badge.ok{color:var(--ok);border-color:var(--ok)}
.badge.lb{color:var(--warn);border-color:var(--warn)}
details{font-size:.82em;color:var(--muted)}
details p{margin:2px 0;white-space:pre-wrap}
.chart-wrap{margin:14px 0 4px;max-width:720px}
svg.chart,svg.profile{width:100%;height:auto;display:block;font:11px system-ui,sans-serif}
svg .plot-bg{fill:var(--panel)}
svg .grid{stroke:var(--line);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.profile .tick,svg.profile .label{fill:var(--muted)}
svg.profile .label{font-size:12px}
svg.profile .step{fill:none;stroke-width:2}
.s0{stroke:#2f62c9;background:#2f62c9}.s1{stroke:#d1495b;background:#d1495b}.s2{stroke:#2a9d5c;background:#2a9d5c}.s3{stroke:#e09f3e;background:#e09f3e}
.s4{stroke:#7b4fbf;background:#7b4fbf}.s5{stroke:#1b998b;background:#1b998b}.s6{stroke:#8d6a4f;background:#8d6a4f}.s7{stroke:#6b7280;background:#6b7280}
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
    body = "".join(f"<p>{h(line)}</p>" for line in lines)
    if r.wandb_run:
        url = safe_url(r.wandb_run)
        run = f'<a href="{h(url)}" rel="noopener noreferrer nofollow">W&amp;B run</a>' if url else h(r.wandb_run)
        body += f"<p>W&amp;B: {run}</p>"
    if r.notes:
        body += f'<p class="notes">{h(r.notes)}</p>'
    return f"<details><summary>details</summary>{body}</details>"


def _table_row(row: Row) -> str:
    r = row.result
    cells = [f'<td class="num" data-sort="{row.rank}">{row.rank}</td>']
    cells.append(
        f'<td class="method" data-sort="{h(r.method)}"><span class="name">{h(r.method)}</span>{_details(r)}</td>'
    )
    cells.append(f'<td data-sort="{h(r.policy)}">{h(r.policy)}</td>')
    cells.append(
        f'<td class="num" data-sort="{num_attr(r.score)}">{h(fmt(r.score))}'
        f'<span class="ci">{h(interval(r.score_ci95))}</span></td>'
    )
    cells.append(f'<td class="num" data-sort="{num_attr(row.seed_iqm)}">{h(fmt(row.seed_iqm))}</td>')
    if row.gap is None:
        cells.append(f'<td class="num" data-sort="">{DASH}</td>')
    else:
        ci = interval(row.gap_ci)
        ci_text = ("\u2248" if row.approx_ci else "") + ci if ci else ""
        badge = "badge lb" if row.lower_bound else "badge"
        prefix = "\u2265 " if row.lower_bound else ""
        cells.append(
            f'<td class="num" data-sort="{num_attr(row.gap_value)}" title="{h(gap_label(row))}">{prefix}{h(fmt(row.gap_value))}'
            f'<span class="ci">{h(ci_text)}</span>{h(worst_group(row))}<span class="{badge}">{h(row.gap.method)}</span></td>'
        )
    badge = '<span class="badge ok">\u2713 verified</span>' if r.verified else '<span class="badge">unverified</span>'
    cells.append(f'<td data-sort="{int(r.verified)}">{badge}</td>')
    authors = h(", ".join(r.authors))
    url = safe_url(r.code_url)
    if url:
        authors += f' \u00b7 <a href="{h(url)}" rel="noopener noreferrer nofollow">code</a>'
    cells.append(f'<td data-sort="{h(", ".join(r.authors))}">{authors}</td>')
    when = r.date.astimezone(timezone.utc)
    cells.append(
        f'<td class="num" data-sort="{when.timestamp():.0f}" title="{h(when.isoformat())}">{when:%Y-%m-%d}</td>'
    )
    return f'<tr data-entry="{h(row.uid)}">' + "".join(cells) + "</tr>"


def _anchor(task_id: str) -> str:
    return "task-" + re.sub(r"[^A-Za-z0-9_.-]", "_", short_name(task_id))


@dataclass
class _Task:
    """A task as the page shows it: its rows (best score first) and its aggregates across training runs."""

    task_id: str
    rows: list[Row]
    aggregates: TaskAggregates | None = None


@dataclass
class _Board:
    families: list[tuple[str, list[_Task]]]
    cross: CrossTask | None = None
    missing: str = ""  # why there are no aggregates across training runs (rliable missing), if so

    @property
    def tasks(self) -> list[_Task]:
        return [t for _, tasks in self.families for t in tasks]


def _board(results: Sequence[Result]) -> _Board:
    by_task: dict[str, list[Result]] = {}
    for r in results:
        by_task.setdefault(r.task.id, []).append(r)
    families, offset = [], 0
    for family, task_ids in by_family(by_task):
        tasks = []
        for task_id in task_ids:
            tasks.append(_Task(task_id, task_rows(by_task[task_id], offset)))
            offset += len(tasks[-1].rows)
        families.append((family, tasks))
    board = _Board(families)
    try:
        for t in board.tasks:
            t.aggregates = task_aggregates(t.task_id, by_task[t.task_id])
        board.cross = cross_task([t.aggregates for t in board.tasks if t.aggregates is not None])
    except ImportError as exc:
        board.missing = str(exc)
    return board


def _overview_lines(board: _Board) -> list[TaskLine]:
    lines = []
    for family, tasks in board.families:
        for t in tasks:
            best = next((row for row in t.rows if row.result.verified), None)  # rows are best score first
            lines.append(TaskLine(family, t.task_id, _anchor(t.task_id), best, len(t.rows)))
    return lines


def _section(task: _Task, out_dir: Path) -> str:
    task_id, rows = task.task_id, task.rows
    name = short_name(task_id)
    anchor = _anchor(task_id)
    initial, num = ' aria-sort="ascending"', ' class="num"'
    heads = "".join(
        f'<th scope="col" data-type="{kind}" title="{h(title)}"{initial if head == "Rank" else ""}'
        f"{num if head in _NUMERIC_HEADS else ''}>"
        f'<button type="button">{h(head)}</button></th>'
        for head, kind, title in _COLUMNS
    )
    body = "".join(_table_row(r) for r in rows)
    seeds = sorted({len(r.result.seeds) for r in rows})
    note = (
        f"Score: 95% bootstrap interval over the evaluation episodes of this one policy. IQM: the interquartile "
        f"mean of each entry's per-seed scores (the mean of the middle 50% of its {'/'.join(map(str, seeds))} "
        f"evaluation-seed means); less sensitive to one lucky or unlucky seed than the mean. Gap: 0 is optimal "
        f"(or an equilibrium); \u2265 marks lower bounds."
    )
    if any(r.approx_ci for r in rows):
        note += (
            " Relative-\u03b5 intervals (\u2248) are the absolute \u03b5 interval rescaled by relative/absolute \u03b5."
        )
    parts = [
        f'<section class="task" id="{h(anchor)}" data-task="{h(task_id)}">',
        f"<h3>{h(task_id)}</h3>",
        f'<p class="summary">{h(_summary(task_id)) or "&nbsp;"}</p>',
        f'<div class="table-wrap"><table class="board"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>',
        f'<p class="note aggregate">{h(note)}</p>',
        f'<div class="chart-wrap">{score_gap_chart(rows, name)}</div>',
    ]
    if task.aggregates is not None:
        parts.append(task_block(task.aggregates))
    for fig in _figures(out_dir, name):
        src = h("figures/" + urllib.parse.quote(fig))
        parts.append(
            f'<figure><a href="{src}"><img src="{src}" alt="{h(fig)}" loading="lazy"></a>'
            f"<figcaption>{h(fig)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _family_id(family: str) -> str:
    return "family-" + re.sub(r"[^A-Za-z0-9_.-]", "_", family)


def _html(board: _Board, out_dir: Path, title: str, data: list[Any]) -> str:
    n = sum(len(t.rows) for t in board.tasks)
    sections = (
        "".join(
            f'<div class="family" id="{h(_family_id(family))}"><h2>{h(family)}</h2>'
            + "".join(_section(t, out_dir) for t in tasks)
            + "</div>"
            for family, tasks in board.families
        )
        or '<p class="note">No entries yet.</p>'
    )
    cross = cross_block(board.cross) if board.cross is not None else ""
    missing = f'<p class="note">No aggregates across training runs: {h(board.missing)}</p>' if board.missing else ""
    csp = (
        f"default-src 'none'; img-src 'self' data: file:; style-src {_sha256(_CSS)}; "
        f"script-src {_sha256(_JS)}; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{h(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{h(title)}</title><link rel="icon" href="data:,"><style>{_CSS}</style></head>\n<body>'
        f'<header><h1>{h(title)}</h1><p class="sub">{_plural(n, "entry", "entries")} on '
        f"{_plural(len(board.tasks), 'task', 'tasks')}. Click a column header to sort; "
        f"hover a point for its entry.</p></header>\n"
        f"<main>{overview_html(_overview_lines(board))}{cross}{missing}{sections}</main>\n"
        "<footer><p>Two kinds of interval. <strong>Score [95% CI]</strong> of an entry: the card's score per episode, "
        "averaged over episodes and evaluation seeds, with a stratified bootstrap 95% interval over the evaluation "
        "episodes (within seeds) of that one policy. <strong>IQM [95% CI over runs]</strong> (across training runs, "
        "rliable): the interquartile mean of the entries that are training runs (seeds) of one method, with a "
        "stratified bootstrap 95% interval over those runs. Gap: for single-agent tasks the normalized regret "
        "(V*\u2212V)/(V*\u2212V<sub>ref</sub>), 0 at the optimum and 1 at the card's reference policy; for games the "
        "largest best-response gain relative to the agents' values (relative \u03b5). Gap methods other than "
        "<em>exact</em> give lower bounds. The entries as JSON are embedded in this page "
        "(<code>script#leaderboard-data</code>).</p></footer>\n"
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


def _md_rows(rows: list[Row]) -> list[str]:
    lines = [
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
            ci = interval(row.gap_ci)
            gap = (
                ("\u2265 " if row.lower_bound else "")
                + fmt(row.gap_value)
                + (" " + ("\u2248" if row.approx_ci else "") + ci if ci else "")
            )
            gap += f" ({gap_label(row)})"
            method = row.gap.method
        authors = md_escape(", ".join(r.authors))
        url = safe_url(r.code_url)
        if url:
            authors += f" ([code](<{md_url(url)}>))"
        cells = [
            str(row.rank),
            md_escape(r.method),
            md_escape(r.policy),
            md_escape(f"{fmt(r.score)} {interval(r.score_ci95)}"),
            md_escape(fmt(row.seed_iqm)),
            md_escape(gap),
            md_escape(method),
            "\u2713" if r.verified else "",
            authors,
            f"{r.date.astimezone(timezone.utc):%Y-%m-%d}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md(board: _Board, out_dir: Path, title: str) -> str:
    lines = [
        f"# {md_escape(title)}",
        "",
        "Best score first. Score [95% CI]: bootstrap interval over one policy's evaluation episodes. IQM: "
        "interquartile mean of the per-seed scores. Gap: normalized regret (optimality, 0 = optimal, 1 = reference "
        "policy) or relative \u03b5 (equilibrium); \u2265 marks lower bounds. Across training runs: IQM with a "
        "95% stratified-bootstrap interval over runs (rliable).",
        "",
    ]
    lines += overview_md(_overview_lines(board), anchor=github_slug)  # GitHub's anchors of the task headings
    if board.cross is not None:
        lines += cross_block_md(board.cross)
    if not board.families:
        lines += ["No entries yet.", ""]
    for family, tasks in board.families:
        lines += [f"## {md_escape(family)}", ""]
        for t in tasks:
            lines += [f"### {md_escape(t.task_id)}", ""]
            summary = _summary(t.task_id)
            if summary:
                lines += [md_escape(summary), ""]
            lines += _md_rows(t.rows)
            if t.aggregates is not None:
                lines += task_block_md(t.aggregates)
            lines.append("")
            for fig in _figures(out_dir, short_name(t.task_id)):
                lines += [f"![{md_escape(fig)}](<figures/{md_url(fig)}>)", ""]
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
    board = _board(results)
    data = [row.result.model_dump(mode="json") for t in board.tasks for row in t.rows]
    page, table = out / "index.html", out / "LEADERBOARD.md"
    page.write_text(_html(board, out, title, data), encoding="utf-8")
    table.write_text(_md(board, out, title), encoding="utf-8")
    return page, table
