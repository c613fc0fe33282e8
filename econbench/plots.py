"""Trajectory plots: how a policy moves the economy compared with the exact solution."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from econbench.core import Task
from econbench.metrics.evaluate import PolicySpec, resolve_policy, rollout


def plot_trajectories(task: Task, policies: Sequence[PolicySpec], path: str | Path, seed: int | None = None,
                      episodes: int = 4) -> Path:
    """Write a PNG with, per policy, the agents' mean state (output or capacity) over time and
    the cumulative discounted score, on the same initial states and shocks."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib ships with the dev and plot extras
        raise ImportError("plots need matplotlib: pip install 'econbench[plot]'") from exc
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    group = task.role.group if task.role else task.groups[0].name
    fig, (ax_state, ax_score) = plt.subplots(1, 2, figsize=(11, 4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, spec in enumerate(policies):
        name, profile = resolve_policy(task, spec)
        run = rollout(task, profile, episodes, seed, record=True)
        state = run.obs[group][..., 0].mean(axis=2)  # (T+1, episodes): mean of the agents' own level
        rewards = run.rewards[group].mean(axis=2)
        cum = np.cumsum(rewards * task.discount ** np.arange(rewards.shape[0])[:, None], axis=0)
        style = dict(color=colours[k % len(colours)], lw=1.2)
        for e in range(episodes):
            ax_state.plot(state[:, e], label=name if e == 0 else None, **style)
            ax_score.plot(cum[:, e], label=name if e == 0 else None, **style)
    fig.suptitle(f"{task.name}: {episodes} episodes on the common initial states and shocks of seed {seed}")
    ax_state.set(title="mean state of the agents", xlabel="period", ylabel="output / capacity")
    ax_score.set(title="cumulative discounted reward", xlabel="period")
    for ax in (ax_state, ax_score):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
