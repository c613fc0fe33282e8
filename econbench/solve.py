"""``econbench solve``: a task's exact solution (its ``solution`` hook), or which gaps it offers instead."""

from __future__ import annotations

import numpy as np

from econbench.core import Task


def _fmt(value: object) -> str:
    if isinstance(value, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return f"{value:.10g}"
    return str(value)


def gap_methods(task: Task) -> list[str]:
    """The gap measurements ``econbench gap`` offers on a task, in words."""
    if task.is_single_agent:
        if "exact" in task.policies:
            return ["optimality gap against the exact policy (econbench gap)"]
        return []
    out = []
    if task.equilibrium_gap is not None:
        out.append(f"equilibrium gap: {task.card['protocol'].get('equilibrium_gap', 'the task hook')} (econbench gap)")
    out.append("trained best response (econbench gap --method trained)")
    return out


def describe_solution(task: Task) -> str:
    """The exact solution's named quantities; one line when the task has none."""
    if task.solution is None:
        methods = gap_methods(task)
        offers = "; ".join(methods) if methods else "no gap method (score only)"
        return f"{task.id}: no exact solution is known; gaps offered: {offers}"
    summary = task.solution(task.params)
    lines = [f"{task.id}: exact solution", f"  parameters: {task.params}"]
    width = max(len(k) for k in summary)
    lines += [f"  {k.ljust(width)}  {_fmt(v)}" for k, v in summary.items()]
    return "\n".join(lines)
