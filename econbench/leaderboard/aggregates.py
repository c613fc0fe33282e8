"""Aggregates across training runs, as rliable defines them (Agarwal et al. 2021, "Deep RL at the edge of the
statistical precipice"): IQM with a stratified-bootstrap interval, performance profiles, probability of improvement.

A *run* is one training seed of a method: one leaderboard entry. Entries are runs of the same method when their
method names agree once the run's seed token is taken out (``ppo_seed0`` and ``ppo_seed1`` under "SB3 PPO", or
"shared PPO: shared_ppo_seed2" under "shared PPO: shared_ppo"). Scores are normalised as the page's normalised
gap is: ``(V - V_ref) / (V* - V_ref)``, i.e. 1 minus the normalised regret, with ``V*`` and ``V_ref`` the scores of
the task's exact-solution and reference-policy entries on the same evaluation protocol; a task without both keeps
raw scores, and only normalised tasks are aggregated across tasks.

Point estimates are rliable's (``rliable.metrics``). Its bootstrap (``rliable.library``) needs ``arch``, whose
releases either fail to import with pandas 3 (7.x) or refuse rliable's ``random_state`` argument (8.x), so the
intervals come from :func:`stratified_bootstrap`, the same percentile bootstrap resampling runs within each task
(and independently per method for the probability of improvement), seeded so the page is reproducible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from econbench.cards import load_card
from econbench.leaderboard.schema import Result

REPS = 2000
LEVEL = 0.95
_SEED_TOKEN = re.compile(r"[_-]?seed\d+$")


def _rliable_metrics() -> object:
    try:
        from rliable import metrics
    except ImportError as exc:
        raise ImportError("aggregates across training runs need rliable: pip install 'econbench[plot]'") from exc
    return metrics


def method_of_run(r: Result) -> str:
    """The method an entry is a run of: its method name, less the seed token its policy name carries."""
    base = _SEED_TOKEN.sub("", r.policy)
    if base == r.policy or not base:
        return r.method
    return r.method.replace(r.policy, base) if r.policy in r.method else r.method


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Method:
    """A method's runs on one task, best run first, with their (normalised or raw) scores."""

    name: str
    runs: tuple[Result, ...]
    scores: np.ndarray

    @property
    def verified(self) -> int:
        return sum(r.verified for r in self.runs)


@dataclass(frozen=True)
class Improvement:
    """``P(X > Y)``: the probability that a run of X scores above a run of Y (ties count half), averaged over tasks."""

    x: str
    y: str
    probability: Interval


@dataclass(frozen=True)
class TaskAggregates:
    task_id: str
    normalised: bool
    methods: tuple[Method, ...]  # every method on the task
    iqm: dict[str, Interval]  # methods with several runs
    improvements: tuple[Improvement, ...]  # each method with several runs against every other method


@dataclass(frozen=True)
class CrossTask:
    """Methods with several runs on at least two normalised tasks, as (runs x tasks) matrices."""

    tasks: dict[str, tuple[str, ...]]  # method -> the tasks of its matrix' columns
    scores: dict[str, np.ndarray]
    iqm: dict[str, Interval]
    improvements: tuple[Improvement, ...]


def stratified_bootstrap(
    statistic: Callable[..., np.ndarray], matrices: Sequence[np.ndarray], reps: int = REPS, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` over resamples that redraw the runs (rows) within each task (column),
    independently for each matrix. ``statistic`` takes one ``(reps, runs, tasks)`` array per matrix and returns
    ``(reps,)``: the replicates are computed at once."""
    rng = np.random.default_rng(seed)
    samples = []
    for m in matrices:
        runs, tasks = m.shape
        picks = rng.integers(0, runs, (reps, runs, tasks))
        samples.append(np.take_along_axis(np.broadcast_to(m, (reps, runs, tasks)), picks, axis=1))
    values = statistic(*samples)
    alpha = (1.0 - LEVEL) / 2.0
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))


def _iqm_replicates(samples: np.ndarray) -> np.ndarray:
    from scipy.stats import trim_mean

    return np.asarray(trim_mean(samples.reshape(samples.shape[0], -1), 0.25, axis=1))


def _improvement_replicates(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rliable's probability of improvement (the Mann-Whitney U over n_x n_y, per task, averaged) per replicate."""
    diff = x[:, :, None, :] - y[:, None, :, :]  # (reps, runs x, runs y, tasks)
    per_task = ((diff > 0) + 0.5 * (diff == 0)).mean(axis=(1, 2))
    return per_task.mean(axis=1)


def iqm_interval(scores: np.ndarray, reps: int = REPS) -> Interval:
    """IQM over every run of every task (a (runs x tasks) matrix) with its stratified-bootstrap interval."""
    metrics = _rliable_metrics()
    value = float(metrics.aggregate_iqm(scores))  # type: ignore[attr-defined]
    return Interval(value, *stratified_bootstrap(_iqm_replicates, [scores], reps))


def improvement_interval(x: np.ndarray, y: np.ndarray, reps: int = REPS) -> Interval:
    metrics = _rliable_metrics()
    value = float(metrics.probability_of_improvement(x, y))  # type: ignore[attr-defined]
    return Interval(value, *stratified_bootstrap(_improvement_replicates, [x, y], reps))


def profile(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """rliable's performance profile (score distribution): the fraction of runs scoring above each threshold."""
    return (np.asarray(scores).ravel()[None, :] > np.asarray(taus)[:, None]).mean(axis=1)


def _latest(results: Sequence[Result]) -> Result:
    """One entry per run: the verified one if any, then the latest."""
    return max(results, key=lambda r: (r.verified, r.date))


def _protocol(r: Result) -> tuple[tuple[int, ...], int]:
    return tuple(r.seeds), r.episodes_per_seed


def _anchors(task_id: str, results: Sequence[Result]) -> dict[tuple[tuple[int, ...], int], tuple[float, float]]:
    """(V*, V_ref) per evaluation protocol, from the exact-solution and reference-policy entries."""
    try:
        reference = str(load_card(task_id)["protocol"]["reference_policy"])
    except (KeyError, OSError, ValueError):
        return {}
    out = {}
    for proto in {_protocol(r) for r in results}:
        same = [r for r in results if _protocol(r) == proto]
        exact = [r for r in same if r.policy == "exact"]
        ref = [r for r in same if r.policy == reference]
        if exact and ref and _latest(exact).score != _latest(ref).score:
            out[proto] = (_latest(exact).score, _latest(ref).score)
    return out


def _methods(
    results: Sequence[Result], anchors: dict[tuple[tuple[int, ...], int], tuple[float, float]]
) -> tuple[list[Method], bool]:
    """The methods on a task (one entry per run) and whether their scores are normalised."""
    normalised = bool(results) and all(_protocol(r) in anchors for r in results)
    if normalised:  # a ratio that overflows says nothing: keep raw scores then
        normalised = all(
            math.isfinite((r.score - v[1]) / (v[0] - v[1])) for r in results for v in [anchors[_protocol(r)]]
        )

    def score(r: Result) -> float:
        if not normalised:
            return r.score
        v_star, v_ref = anchors[_protocol(r)]
        return (r.score - v_ref) / (v_star - v_ref)

    by_run: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        by_run.setdefault((method_of_run(r), r.policy), []).append(r)
    grouped: dict[str, list[Result]] = {}
    for (name, _), same in sorted(by_run.items()):
        grouped.setdefault(name, []).append(_latest(same))
    methods = []
    for name, runs in grouped.items():
        runs.sort(key=lambda r: -score(r))
        methods.append(Method(name, tuple(runs), np.array([score(r) for r in runs], dtype=np.float64)))
    return methods, normalised


def task_aggregates(task_id: str, results: Sequence[Result], reps: int = REPS) -> TaskAggregates | None:
    """The task's aggregates, or None when no method has several runs on it."""
    with np.errstate(all="ignore"):  # scores near the float limit overflow to inf; the page shows them as such
        return _task_aggregates(task_id, results, reps)


def _task_aggregates(task_id: str, results: Sequence[Result], reps: int) -> TaskAggregates | None:
    results = [r for r in results if r.task.id == task_id]
    methods, normalised = _methods(results, _anchors(task_id, results))
    several = [m for m in methods if len(m.runs) > 1]
    if not several:
        return None
    iqm = {m.name: iqm_interval(m.scores[:, None], reps) for m in several}
    improvements = tuple(
        Improvement(x.name, y.name, improvement_interval(x.scores[:, None], y.scores[:, None], reps))
        for x in several
        for y in methods
        if y is not x
    )
    methods.sort(key=lambda m: (-(iqm[m.name].value if m.name in iqm else float(np.mean(m.scores))), m.name))
    return TaskAggregates(task_id, normalised, tuple(methods), iqm, improvements)


def cross_task(aggregates: Sequence[TaskAggregates], reps: int = REPS) -> CrossTask | None:
    """Across normalised tasks: each method with several runs on two or more of them, as a (runs x tasks) matrix
    with as many runs per task as its smallest task has (the best runs are not picked: runs keep their seed order)."""
    with np.errstate(all="ignore"):
        return _cross_task(aggregates, reps)


def _cross_task(aggregates: Sequence[TaskAggregates], reps: int) -> CrossTask | None:
    per_method: dict[str, dict[str, np.ndarray]] = {}
    for agg in aggregates:
        if not agg.normalised:
            continue
        for m in agg.methods:
            if len(m.runs) > 1:
                by_seed = sorted(zip(m.runs, m.scores), key=lambda pair: pair[0].policy)
                per_method.setdefault(m.name, {})[agg.task_id] = np.array([s for _, s in by_seed])
    per_method = {name: cols for name, cols in per_method.items() if len(cols) > 1}
    if not per_method:
        return None
    tasks = {name: tuple(sorted(cols)) for name, cols in per_method.items()}
    scores = {}
    for name, cols in per_method.items():
        k = min(len(c) for c in cols.values())
        scores[name] = np.stack([cols[t][:k] for t in tasks[name]], axis=1)
    iqm = {name: iqm_interval(s, reps) for name, s in scores.items()}
    improvements = []
    for x in scores:
        for y in scores:
            shared = [t for t in tasks[x] if t in tasks[y]]
            if x == y or not shared:
                continue
            cx = scores[x][:, [tasks[x].index(t) for t in shared]]
            cy = scores[y][:, [tasks[y].index(t) for t in shared]]
            improvements.append(Improvement(x, y, improvement_interval(cx, cy, reps)))
    return CrossTask(tasks, scores, iqm, tuple(improvements))
