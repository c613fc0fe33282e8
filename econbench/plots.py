"""Figures people would rather look at than read: rollouts against the exact solution, learning curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def _runs_figure(runs: Sequence[Any], labels: Sequence[str] | None) -> tuple[Any, Any, Any, list[str], Any]:
    """The 2x3 rollout figure's frame: ``(plt, fig, axes, names, colours)``, one name and colour per run.

    Shared by the families' rollout figures so that their runs are named and coloured alike.
    """
    plt = _pyplot()
    names = list(labels) if labels else [r.policy for r in runs]
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


def plot_trajectories(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    episodes: int = 4,
    labels: Sequence[str] | None = None,
) -> Path:
    """Per policy, on the same initial states and shocks: the agents' mean state (output or capacity),
    their mean action, and the cumulative discounted reward, period by period."""
    plt = _pyplot()
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    group = task.role.group if task.role else task.groups[0].name
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, spec in enumerate(policies):
        name, profile = resolve_policy(task, spec)
        name = labels[k] if labels else name
        run = rollout(task, profile, episodes, seed, record=True)
        agent = slice(task.role.agent, task.role.agent + 1) if task.role else slice(None)
        series = [
            run.obs[group][:, :, agent, 0].mean(axis=2),
            run.actions[group][:, :, agent, 0].mean(axis=2),
            np.cumsum(
                run.rewards[group][:, :, agent].mean(axis=2)
                * task.discount ** np.arange(run.rewards[group].shape[0])[:, None],
                axis=0,
            ),
        ]
        for ax, data in zip(axes, series):
            for e in range(episodes):
                ax.plot(data[:, e], color=colours[k % len(colours)], lw=1.1, alpha=0.85, label=name if e == 0 else None)
    who = f"agent {task.role.agent} of {group}" if task.role else f"mean over {group}"
    fig.suptitle(f"{task.name}: {episodes} episodes on the common initial states and shocks of seed {seed} ({who})")
    titles = [
        ("state (output / capacity)", "period"),
        ("action (natural units)", "period"),
        ("cumulative discounted reward", "period"),
    ]
    for ax, (title, xlabel) in zip(axes, titles):
        ax.set(title=title, xlabel=xlabel)
        ax.grid(alpha=0.3)
    axes[0].legend()
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
    curves: dict[str, np.ndarray], path: str | Path, title: str, reference: dict[str, float] | None = None
) -> Path:
    """Mean episode return against timesteps, one line per run; horizontal lines for reference levels."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, curve in curves.items():
        ax.plot(curve[:, 0], curve[:, 1], lw=1.2, label=name)
    for name, level in (reference or {}).items():
        ax.axhline(level, ls="--", lw=1, color="grey")
        ax.annotate(name, (ax.get_xlim()[1], level), ha="right", va="bottom", fontsize=8, color="grey")
    finals = np.concatenate([c[len(c) // 5 :, 1] for c in curves.values()]) if curves else np.array([0.0])
    lo, hi = np.percentile(finals, [1, 100])
    pad = 0.1 * (hi - lo + 1e-12)
    ax.set_ylim(lo - pad, hi + pad)  # the early, very poor episodes would squash the interesting part
    ax.set(title=title, xlabel="timesteps", ylabel="mean undiscounted episode return (last 100 episodes)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
