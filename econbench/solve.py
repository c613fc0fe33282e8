"""Formatting of a task's exact solution for ``econbench solve``."""

from __future__ import annotations

import importlib

import numpy as np

from econbench.core import Task


def solution_module(task: Task) -> object:
    """The ``solution.py`` next to the module that builds the task."""
    package = task.card["factory"].split(":")[0].rsplit(".", 1)[0]
    return importlib.import_module(f"{package}.solution")


def _fmt(value: object) -> str:
    if isinstance(value, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return f"{value:.10g}"
    return str(value)


def describe_solution(task: Task) -> str:
    summary = solution_module(task).summary(task.params)  # type: ignore[attr-defined]
    lines = [f"{task.id}: exact solution", f"  parameters: {task.params}"]
    width = max(len(k) for k in summary)
    lines += [f"  {k.ljust(width)}  {_fmt(v)}" for k, v in summary.items()]
    return "\n".join(lines)
