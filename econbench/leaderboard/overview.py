"""The page's opening: one row per task (grouped by family) with its best verified entry, and how to submit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from econbench.cards import short_name
from econbench.leaderboard.rows import Row, gap_label
from econbench.leaderboard.text import DASH, breakable, fmt, h, md_escape


@dataclass(frozen=True)
class TaskLine:
    """One overview row: a task, its section's anchor and its best verified entry (None when it has none)."""

    family: str
    task_id: str
    anchor: str
    best: Row | None
    entries: int


SUBMIT_COMMANDS = (
    'econbench measure --task TASK_ID --policy FOLDER --method "my method" --author "me" --out result.json',
    "econbench submit result.json --policy FOLDER --publish leaderboard/entries",
)
SUBMIT_TEXT = (
    "Train on any task, export the policy as a policy folder, measure it on the card's protocol and submit it "
    "with the folder: the verifier re-measures every number and stores the entry as verified only if they "
    "agree. --publish writes the entry as leaderboard/entries/<key>.json; open a pull request with that file "
    "(and a --code-url to your code). Entries without --policy are listed unverified."
)


def _gap(row: Row) -> str:
    if row.gap_value is None:
        return DASH
    return ("\u2265 " if row.lower_bound else "") + fmt(row.gap_value)


def _best_html(line: TaskLine) -> str:
    row = line.best
    if row is None:
        return '<td colspan="3" class="note">no verified entry yet</td>'
    r = row.result
    policy = "" if r.policy in r.method else f' <span class="policy">({breakable(r.policy)})</span>'
    entry = f'<span class="name">{breakable(r.method)}</span>{policy}'
    gap = f'{h(_gap(row))}<span class="ci">{h(gap_label(row))}</span>' if row.gap_value is not None else DASH
    return f'<td>{entry}</td><td class="num">{h(fmt(r.score))}</td><td class="num">{gap}</td>'


def overview_html(lines: list[TaskLine]) -> str:
    """The overview table and the submission paragraph."""
    if not lines:
        return ""
    body = []
    for i, line in enumerate(lines):
        first = i == 0 or lines[i - 1].family != line.family
        span = sum(1 for x in lines if x.family == line.family)
        family = f'<th scope="rowgroup" rowspan="{span}" class="family">{h(line.family)}</th>' if first else ""
        task = f'<td class="task"><a href="#{h(line.anchor)}">{h(short_name(line.task_id))}</a></td>'
        body.append(
            f'<tr data-task="{h(line.task_id)}">{family}{task}{_best_html(line)}'
            f'<td class="num">{line.entries}</td></tr>'
        )
    heads = "".join(
        f'<th scope="col"{cls}>{h(name)}</th>'
        for name, cls in (
            ("Family", ""),
            ("Task", ""),
            ("Best verified entry (method, policy)", ""),
            ("Score", ' class="num"'),
            ("Normalized gap", ' class="num"'),
            ("Entries", ' class="num"'),
        )
    )
    commands = "\n".join(SUBMIT_COMMANDS)
    return (
        '<section class="overview" id="overview"><h2>Overview</h2>'
        '<div class="table-wrap"><table class="board overview">'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        '<p class="note">Best: the verified entry with the highest score. Normalized gap: the normalized regret '
        "(V*\u2212V)/(V*\u2212V<sub>ref</sub>) of single-agent tasks, or the relative \u03b5 of games; 0 is optimal "
        "(or an equilibrium), \u2265 marks a lower bound.</p>"
        f'<div class="submit"><h3>How to submit</h3><p>{h(SUBMIT_TEXT)}</p><pre><code>{h(commands)}</code></pre></div>'
        "</section>"
    )


def overview_md(lines: list[TaskLine], anchor: Callable[[str], str] | None = None) -> list[str]:
    """The overview as Markdown; ``anchor`` gives a task's link target (default: the page's section anchor)."""
    if not lines:
        return []
    out = [
        "## Overview",
        "",
        "| Family | Task | Best verified entry (method, policy) | Score | Normalized gap | Entries |",
        "|---|---|---|---:|---:|---:|",
    ]
    for line in lines:
        row = line.best
        task = f"[{md_escape(short_name(line.task_id))}](#{anchor(line.task_id) if anchor else line.anchor})"
        if row is None:
            best, score, gap = "no verified entry yet", DASH, DASH
        else:
            r = row.result
            best = md_escape(r.method) + ("" if r.policy in r.method else f" ({md_escape(r.policy)})")
            score = md_escape(fmt(row.result.score))
            gap = md_escape(_gap(row) + (f" ({gap_label(row)})" if row.gap_value is not None else ""))
        out.append(f"| {md_escape(line.family)} | {task} | {best} | {score} | {gap} | {line.entries} |")
    out += ["", "**How to submit.** " + SUBMIT_TEXT, "", "```bash", *SUBMIT_COMMANDS, "```", ""]
    return out
