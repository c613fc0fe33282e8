"""The page's aggregates across training runs: IQM tables, probability of improvement and performance profiles."""

from __future__ import annotations

from econbench.cards import short_name
from econbench.leaderboard.aggregates import CrossTask, Interval, TaskAggregates
from econbench.leaderboard.profile_chart import profile_svg
from econbench.leaderboard.text import breakable, fmt, h, md_escape

IQM_NOTE = (
    "Across training runs: each run is one entry (one training seed). IQM: the interquartile mean of the runs' "
    "{scale} (rliable's 25% trimmed mean; with fewer than 4 runs nothing is trimmed, it is their mean), with a 95% "
    "stratified-bootstrap interval over training runs (runs redrawn within each task). This is not the entries' "
    "score interval, which is over evaluation episodes of one policy. P(X > Y): the probability that a run of X "
    "scores above a run of Y (ties count half), with its bootstrap interval."
)
NORMALISED = "normalized scores (V\u2212V_ref)/(V*\u2212V_ref) = 1 \u2212 normalized regret: 1 at the exact solution, 0 at the reference policy"


def _ci(i: Interval) -> str:
    return f"{fmt(i.value)} [{fmt(i.low)}, {fmt(i.high)}]"


def _iqm_rows(iqm: dict[str, Interval], runs: dict[str, str]) -> str:
    return "".join(
        f'<tr><td><span class="name">{breakable(name)}</span></td><td class="num">{h(runs[name])}</td>'
        f'<td class="num">{h(fmt(i.value))}<span class="ci">{h(f"[{fmt(i.low)}, {fmt(i.high)}]")}</span></td></tr>'
        for name, i in iqm.items()
    )


def _improvement_table(improvements: tuple) -> str:
    if not improvements:
        return ""
    rows = "".join(
        f'<tr><td><span class="name">{breakable(imp.x)}</span></td><td><span class="name">{breakable(imp.y)}</span>'
        f'</td><td class="num">{h(fmt(imp.probability.value))}<span class="ci">'
        f"{h(f'[{fmt(imp.probability.low)}, {fmt(imp.probability.high)}]')}</span></td></tr>"
        for imp in improvements
    )
    return (
        '<div class="table-wrap"><table class="board improvement"><thead><tr><th scope="col">X</th>'
        '<th scope="col">Y</th><th scope="col" class="num">P(X &gt; Y) [95% CI]</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _iqm_table(rows: str, what: str) -> str:
    return (
        '<div class="table-wrap"><table class="board iqm"><thead><tr><th scope="col">Method</th>'
        f'<th scope="col" class="num">Runs</th><th scope="col" class="num">IQM of {h(what)} '
        "[95% CI over runs]</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def task_block(agg: TaskAggregates) -> str:
    """A task section's aggregates: IQM per method with several runs, P(X > Y), the performance profiles."""
    what = "normalized scores" if agg.normalised else "scores"
    runs = {m.name: f"{len(m.runs)} ({m.verified} \u2713)" for m in agg.methods}
    scale = NORMALISED if agg.normalised else "scores (raw: the task has no exact solution to normalize by)"
    return (
        f'<div class="aggregates" data-task="{h(agg.task_id)}"><h4>Across training runs (rliable)</h4>'
        f"{_iqm_table(_iqm_rows(agg.iqm, runs), what)}{_improvement_table(agg.improvements)}"
        f'<div class="chart-wrap">{profile_svg([(m.name, m.scores) for m in agg.methods], agg.normalised, short_name(agg.task_id))}</div>'
        f'<p class="note">{h(IQM_NOTE.format(scale=scale))}</p></div>'
    )


def cross_block(cross: CrossTask) -> str:
    """The section across tasks: methods with several runs on two or more normalized tasks."""
    runs = {name: f"{s.shape[0]} \u00d7 {s.shape[1]} tasks" for name, s in cross.scores.items()}
    tasks = "; ".join(f"{name}: {', '.join(short_name(t) for t in ts)}" for name, ts in cross.tasks.items())
    pairs = _improvement_table(cross.improvements) or (
        '<p class="note">P(X &gt; Y) needs two methods with several runs on the same tasks.</p>'
    )
    chart = profile_svg([(n, s.ravel()) for n, s in cross.scores.items()], True, "across tasks")
    return (
        '<section class="across" id="across-tasks"><h2>Across tasks (rliable)</h2>'
        f'<p class="note">Tasks per method: {h(tasks)}. Runs per task: as many as the method\'s smallest task has.</p>'
        f"{_iqm_table(_iqm_rows(cross.iqm, runs), 'normalized scores')}{pairs}"
        f'<div class="chart-wrap">{chart}</div>'
        f'<p class="note">{h(IQM_NOTE.format(scale=NORMALISED))}</p></section>'
    )


def task_block_md(agg: TaskAggregates) -> list[str]:
    what = "normalized score" if agg.normalised else "score"
    runs = {m.name: len(m.runs) for m in agg.methods}
    out = [
        "",
        f"Across training runs (rliable), IQM of the {what} with its 95% stratified-bootstrap interval over runs:",
        "",
    ]
    out += ["| Method | Runs | IQM [95% CI] |", "|---|---:|---:|"]
    out += [f"| {md_escape(n)} | {runs[n]} | {md_escape(_ci(i))} |" for n, i in agg.iqm.items()]
    if agg.improvements:
        out += ["", "| X | Y | P(X > Y) [95% CI] |", "|---|---|---:|"]
        out += [f"| {md_escape(i.x)} | {md_escape(i.y)} | {md_escape(_ci(i.probability))} |" for i in agg.improvements]
    return out + [""]


def cross_block_md(cross: CrossTask) -> list[str]:
    out = [
        "## Across tasks (rliable)",
        "",
        "IQM of the normalized score over runs and tasks, 95% stratified-bootstrap interval:",
        "",
    ]
    out += ["| Method | Runs x tasks | IQM [95% CI] |", "|---|---:|---:|"]
    out += [
        f"| {md_escape(n)} | {cross.scores[n].shape[0]} x {cross.scores[n].shape[1]} | {md_escape(_ci(i))} |"
        for n, i in cross.iqm.items()
    ]
    if cross.improvements:
        out += ["", "| X | Y | P(X > Y) [95% CI] |", "|---|---|---:|"]
        out += [
            f"| {md_escape(i.x)} | {md_escape(i.y)} | {md_escape(_ci(i.probability))} |" for i in cross.improvements
        ]
    return out + [""]
