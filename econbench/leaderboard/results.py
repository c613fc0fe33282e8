"""Measuring a policy into a :class:`Result`: the one place scores and gaps become an entry,
used by ``econbench bench`` to produce entries and by ``econbench submit --policy`` to verify them."""

from __future__ import annotations

import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from econbench import __version__
from econbench.core import Task
from econbench.leaderboard.schema import Gap, Result, TaskRef, now, task_fingerprint, task_version
from econbench.metrics import equilibrium_gap, evaluate, iqm, optimality_gap
from econbench.metrics.evaluate import EvalResult, PolicySpec
from econbench.registry import make_task


def gap_method(description: str) -> str:
    """The schema's method class for a gap description from :mod:`econbench.metrics`."""
    if description.startswith("exact"):
        return "exact"
    if "DP" in description:
        return "dp lower bound"
    if "deviation" in description:
        return "deviation-search lower bound"
    if description.startswith("lower bound"):
        return "linear-fit lower bound"
    if "trained" in description:
        return "trained best response"
    raise ValueError(f"unclassified gap method: {description!r}")


def hardware() -> str:
    return f"{platform.machine()} {platform.processor() or platform.system()}, {__import__('os').cpu_count()} CPUs"


def task_ref(task: Task) -> TaskRef:
    return TaskRef(id=task.id, version=task_version(task.id), fingerprint=task_fingerprint(task.id))


def measure(
    task: Task | str,
    policy: PolicySpec,
    method: str,
    authors: list[str],
    code_url: str | None = None,
    policy_label: str | None = None,
    backend: str = "numpy",
    exact: EvalResult | None = None,
    reference: EvalResult | None = None,
    notes: str = "",
) -> Result:
    """Evaluate ``policy`` under the card's protocol, with its gaps, as a leaderboard entry (unverified)."""
    task = make_task(task) if isinstance(task, str) else task
    notes = "; ".join(x for x in (notes, _named_groups_note(policy)) if x)
    res = evaluate(task, policy, backend=backend)
    per_seed = [float(x) for x in res.per_seed()]
    gaps: list[Gap] = []
    if task.is_single_agent and "exact" in task.policies:
        g = optimality_gap(task, policy, backend=backend, exact=exact, reference=reference)
        ci = g.normalized_ci if all(math.isfinite(x) for x in g.normalized_ci) else None
        gaps.append(
            Gap(
                kind="optimality",
                method="exact",
                value=g.raw,
                normalized=_finite_or_none(g.normalized),
                ci95=ci,
                description=f"exact optimum on common shocks; ci95 is the normalized regret's against {g.reference!r}",
            )
        )
    elif task.equilibrium_gap is not None and not task.is_single_agent:
        for r in equilibrium_gap(task, policy, backend=backend):
            gaps.append(
                Gap(
                    kind="equilibrium",
                    method=gap_method(r.method),
                    group=r.group,
                    value=r.epsilon,
                    relative=_finite_or_none(r.relative),
                    ci95=r.epsilon_ci,
                    description=r.method,
                )
            )
    return Result(
        task=task_ref(task),
        method=method,
        authors=authors,
        code_url=code_url,
        policy=policy_label or res.policy,
        seeds=res.seeds,
        episodes_per_seed=int(res.scores.shape[1]),
        per_seed_scores=per_seed,
        score=float(np.mean(per_seed)),
        score_ci95=res.ci,
        score_iqm=iqm(np.asarray(per_seed)),
        gaps=gaps,
        econbench_version=__version__,
        backend=backend,
        hardware=hardware(),
        date=now(),
        notes=notes,
    )


def _finite_or_none(x: float) -> float | None:
    """A ratio against a zero denominator (a group whose value is 0) is undefined, not infinite."""
    return x if math.isfinite(x) else None


def _named_groups_note(policy: PolicySpec) -> str:
    """A policy folder's groups that follow one of the task's named policies, said with the entry it makes."""
    if not isinstance(policy, (str, Path)) or not Path(policy).exists():
        return ""
    from econbench import policies

    named = policies.named_groups(policies.load(policy))
    return (
        "groups following the task's named policies: " + ", ".join(f"{g}={p}" for g, p in sorted(named.items()))
        if named
        else ""
    )


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-12) + 1e-12


def disagreements(claimed: Result, measured: Result, rtol: float = 1e-6, gap_rtol: float = 1e-4) -> list[str]:
    """Every number a claim states that its re-measurement does not reproduce to floating-point tolerance.

    Scores (per seed, mean, interval, IQM) and each claimed gap (value, relative, normalized, interval and its
    method) are compared; a claimed gap the task does not measure is a disagreement. Gaps the claim leaves out
    are not: the verifier's own numbers are what gets stored.
    """
    out: list[str] = []
    if claimed.seeds != measured.seeds or claimed.episodes_per_seed != measured.episodes_per_seed:
        return ["seeds or episodes differ from the task's protocol"]
    for seed, a, b in zip(claimed.seeds, claimed.per_seed_scores, measured.per_seed_scores):
        if not _close(a, b, rtol):
            out.append(f"seed {seed}: claimed score {a!r}, re-evaluation {b!r}")
    for name, a, b in (
        ("score", claimed.score, measured.score),
        ("score_iqm", claimed.score_iqm, measured.score_iqm),
        ("score_ci95 low", claimed.score_ci95[0], measured.score_ci95[0]),
        ("score_ci95 high", claimed.score_ci95[1], measured.score_ci95[1]),
    ):
        if not _close(a, b, rtol):
            out.append(f"{name}: claimed {a!r}, re-evaluation {b!r}")
    mine = {(g.kind, g.group): g for g in measured.gaps}
    for g in claimed.gaps:
        ref = mine.get((g.kind, g.group))
        if ref is None:
            out.append(f"{g.kind} gap of group {g.group!r}: not measured for this task")
            continue
        if g.method != ref.method:
            out.append(f"{g.kind} gap of group {g.group!r}: claimed method {g.method!r}, measured {ref.method!r}")
        pairs = [(f, getattr(g, f), getattr(ref, f)) for f in ("value", "relative", "normalized")]
        if g.ci95 is not None:
            if ref.ci95 is None:
                out.append(f"{g.kind} gap ci95 of group {g.group!r}: claimed, but the method gives none")
            else:
                pairs += [("ci95 low", g.ci95[0], ref.ci95[0]), ("ci95 high", g.ci95[1], ref.ci95[1])]
        for field, a, b in pairs:
            if a is None:
                continue
            if b is None or not _close(a, b, gap_rtol):
                out.append(f"{g.kind} gap {field} of group {g.group!r}: claimed {a!r}, re-evaluation {b!r}")
    return out


def verified_copy(claimed: Result, measured: Result) -> Result:
    """The entry to store for a claim the verifier reproduced: every number and the run's facts (backend,
    hardware, version, date, task definition) are the verifier's; the names and notes are the submitter's."""
    return measured.model_copy(
        update={
            "method": claimed.method,
            "authors": claimed.authors,
            "code_url": claimed.code_url,
            "policy": claimed.policy,
            "notes": "; ".join(
                x for x in (claimed.notes, "" if measured.notes in claimed.notes else measured.notes) if x
            )[:2000],
            "wandb_run": claimed.wandb_run,
            "verified": True,
        }
    )


def summary_row(r: Result) -> dict[str, Any]:
    """The headline numbers of an entry, for tables."""
    gap = r.headline_gap()
    return {
        "task": r.task.id,
        "method": r.method,
        "policy": r.policy,
        "score": r.score,
        "ci95": r.score_ci95,
        "iqm": r.score_iqm,
        "gap_kind": gap.kind if gap else None,
        "gap": (gap.normalized if gap and gap.kind == "optimality" else gap.relative if gap else None),
        "verified": r.verified,
        "authors": r.authors,
        "key": r.key(),
    }
