"""Figures people would rather look at than read: rollouts against the exact solution, learning curves."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from econbench.core import Task
from econbench.metrics.evaluate import PolicySpec, resolve_policy, rollout


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib ships with the dev and plot extras
        raise ImportError("plots need matplotlib: pip install 'econbench[plot]'") from exc
    return plt


def wrap_name(name: str, width: int = 26) -> str:
    """A policy name on lines of about ``width`` characters, broken only after a separator (space _ - / . :),
    never inside a word: legends stay narrow and names stay readable."""
    parts = re.split(r"(?<=[\s_\-/.:])", str(name))
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += part
    return "\n".join([*lines, line.rstrip()]) if line else "\n".join(lines)


@dataclass(frozen=True)
class Curve:
    """A training run's learning curve as logged: the return against timesteps, and which return it is."""

    label: str
    timesteps: np.ndarray
    values: np.ndarray
    scored: bool  # the discounted return the score measures (else the undiscounted episode return)
    group: str = ""  # whose undiscounted return, where a multi-group trainer logged one per group (a panel each)


def _runs_figure(runs: Sequence[Any], labels: Sequence[str] | None) -> tuple[Any, Any, Any, list[str], Any]:
    """The 2x3 rollout figure's frame: ``(plt, fig, axes, names, colours)``, one name and colour per run.

    Shared by the families' rollout figures so that their runs are named and coloured alike.
    """
    plt = _pyplot()
    names = [wrap_name(n) for n in (list(labels) if labels else [r.policy for r in runs])]
    colours = plt.get_cmap("tab10")(np.arange(len(runs)) % 10)
    fig, axes = plt.subplots(2, 3, figsize=(17, 9))
    return plt, fig, axes, names, colours


def _save(plt: Any, fig: Any, path: str | Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    """``rect`` keeps part of the figure free of axes (for legends placed on the figure)."""
    fig.tight_layout(rect=rect)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _series(task: Task, profile: Any, episodes: int, seed: int) -> list[np.ndarray]:
    """Feature 0 of the state and of the action, and the cumulative discounted reward: ``(T, episodes)`` each."""
    group = task.role.group if task.role else task.groups[0].name
    run = rollout(task, profile, episodes, seed, record=True)
    agent = slice(task.role.agent, task.role.agent + 1) if task.role else slice(None)
    rewards = run.rewards[group][:, :, agent].mean(axis=2)
    return [
        run.obs[group][:, :, agent, 0].mean(axis=2),
        run.actions[group][:, :, agent, 0].mean(axis=2),
        np.cumsum(rewards * task.discount ** np.arange(rewards.shape[0])[:, None], axis=0),
    ]


def is_named(task: Task, spec: PolicySpec) -> bool:
    return isinstance(spec, str) and spec in task.policies


def plot_trajectories(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    episodes: int = 4,
    labels: Sequence[str] | None = None,
) -> Path:
    """Per policy, on the same initial states and shocks: the agents' mean state and action (feature 0) and the
    cumulative discounted reward, period by period.

    With the exact solution and a learned policy (a checkpoint, not a named policy) among them, a second row
    draws learned minus exact: a learned policy close to the optimum hides it in the first row.
    """
    plt = _pyplot()
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    group = task.role.group if task.role else task.groups[0].name
    runs = []
    for k, spec in enumerate(policies):
        name, profile = resolve_policy(task, spec)
        runs.append((wrap_name(labels[k] if labels else name), name, _series(task, profile, episodes, seed)))
    exact = next(
        (series for (_, name, series), spec in zip(runs, policies) if name == "exact" and is_named(task, spec)), None
    )
    learned = [k for k, spec in enumerate(policies) if not is_named(task, spec)]
    rows = 2 if exact is not None and learned else 1
    fig, axes = plt.subplots(rows, 3, figsize=(15, 4 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, name, series) in enumerate(runs):
        wide = name == "exact"  # drawn wide underneath, so a policy on top of it leaves it visible
        for ax, data in zip(axes[0], series):
            for e in range(episodes):
                ax.plot(
                    data[:, e],
                    color=colours[k % len(colours)],
                    lw=3.2 if wide else 1.1,
                    alpha=0.45 if wide else 0.9,
                    zorder=1 if wide else 2,
                    label=label if e == 0 else None,
                )
    who = f"agent {task.role.agent} of {group}" if task.role else f"mean over {group}"
    fig.suptitle(f"{task.name}: {episodes} episodes on the common initial states and shocks of seed {seed} ({who})")
    titles = ["state: observation feature 0", "action: feature 0 (natural units)", "cumulative discounted reward"]
    for ax, title in zip(axes[0], titles):
        ax.set(title=title, xlabel="period")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    if rows == 2:
        for k in learned:
            label, _, series = runs[k]
            for ax, data, base in zip(axes[1], series, exact):  # type: ignore[arg-type]
                for e in range(episodes):
                    ax.plot(
                        data[:, e] - base[:, e],
                        color=colours[k % len(colours)],
                        lw=1.1,
                        label=label if e == 0 else None,
                    )
        for ax, title in zip(axes[1], titles):
            ax.axhline(0.0, color="grey", lw=0.8)
            ax.set(title=f"{title}: learned \u2212 exact", xlabel="period")
            ax.grid(alpha=0.3)
        axes[1][0].legend(fontsize=8)
    return _save(plt, fig, path)


def rollout_figure(task: Task) -> Callable[..., Path]:
    """The task's own rollout figure (its ``figure`` hook), else :func:`plot_trajectories`: feature 0 of the
    first group's states and actions and the cumulative discounted reward."""
    return task.figure or plot_trajectories


def plot_rollout(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """The task's rollout figure for these policies (see :func:`rollout_figure`)."""
    return rollout_figure(task)(task, policies, path, seed=seed, labels=labels)


def plot_learning_curves(
    curves: Sequence[Curve], path: str | Path, title: str, reference: dict[str, float] | None = None
) -> Path:
    """The return against timesteps, one line and one legend entry per run; horizontal lines for reference levels.

    The y-axis says which return it is: the discounted return the score measures when the trainer logged it,
    else the undiscounted episode return, which is not the score. Curves of several groups (consumers, firms
    and a government) get a panel each: their returns are in different units and scales.
    """
    plt = _pyplot()
    curves = [c for c in curves if len(c.values)]
    groups = list(dict.fromkeys(c.group for c in curves)) or [""]
    fig, axes = plt.subplots(
        1, len(groups), figsize=(7.5 if len(groups) == 1 else 4.6 * len(groups), 4.2), squeeze=False
    )
    scored = bool(curves) and all(c.scored for c in curves)
    ylabel = (
        "mean discounted return\n(what the score measures)"
        if scored
        else "undiscounted episode return\n(not the score)"
    )
    for ax, group in zip(axes[0], groups):
        mine = [c for c in curves if c.group == group]
        for c in mine:
            ax.plot(c.timesteps, c.values, lw=1.2, label=wrap_name(c.label))
        for name, level in (reference or {}).items() if len(groups) == 1 else ():
            ax.axhline(level, ls="--", lw=1, color="grey")
            ax.annotate(name, (ax.get_xlim()[1], level), ha="right", va="bottom", fontsize=8, color="grey")
        if mine:  # the early, very poor episodes would squash the rest; each run's later part stays in view
            tails = [c.values[len(c.values) // 5 :] for c in mine]
            lo = min(float(np.percentile(t, 1)) for t in tails)
            hi = max(float(t.max()) for t in tails)
            pad = 0.1 * (hi - lo) or 0.05 * max(abs(hi), 1e-12)
            ax.set_ylim(lo - pad, hi + pad)
            ax.legend(fontsize=8)
        ax.set(title=f"{group} (mean per agent)" if group else title, xlabel="timesteps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    if len(groups) > 1:
        fig.suptitle(title)
    return _save(plt, fig, path)
