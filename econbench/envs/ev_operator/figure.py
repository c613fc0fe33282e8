"""The EV operator's rollout figure: the tolls each policy posts, the price of anarchy they achieve hour by hour,
and how far each stays above the exact (Pigouvian) tolls' PoA of 1, against the day's demand."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from econbench.core import Task
from econbench.envs.ev_operator.dynamics import GROUP
from econbench.metrics.evaluate import PolicySpec, resolve_policy, rollout
from econbench.plots import _pyplot, _save, wrap_name

STATION_STYLES = ("-", "--", ":", "-.")


def plot_operator_rollout(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """One day per policy (the task is deterministic): tolls per station, the hour's price of anarchy, the excess
    over the exact tolls' (policy minus exact, on a symmetric log scale: a learned policy within 1e-4 of the
    optimum would sit on it otherwise), and the demand."""
    plt = _pyplot()
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    p = task.params
    runs = []
    for k, spec in enumerate(policies):
        name, profile = resolve_policy(task, spec)
        run = rollout(task, profile, 1, seed, record=True)
        tolls = run.actions[GROUP][:, 0, 0, :]  # (hours, stations)
        poa = -run.rewards[GROUP][:, 0, 0]  # the reward is minus the hour's price of anarchy
        runs.append((wrap_name(labels[k] if labels else name), name, tolls, poa))
    hours = np.arange(len(runs[0][3])) if runs else np.arange(p.horizon)
    colours = plt.get_cmap("tab10")(np.arange(max(len(runs), 1)) % 10)
    fig, axes = plt.subplots(2, 2, figsize=(15, 9))
    ax = axes[0, 0]
    for (label, _, tolls, _), c in zip(runs, colours):
        for s in range(tolls.shape[1]):
            ax.plot(hours, tolls[:, s], color=c, ls=STATION_STYLES[s % len(STATION_STYLES)], lw=1.6)
    policy_handles = [plt.Line2D([], [], color=c, lw=2, label=label) for (label, *_), c in zip(runs, colours)]
    n_stations = runs[0][2].shape[1] if runs else 0
    station_handles = [
        plt.Line2D([], [], color="black", ls=STATION_STYLES[s % len(STATION_STYLES)], lw=1.6, label=f"station {s}")
        for s in range(n_stations)
    ]
    first = ax.legend(handles=policy_handles, fontsize=8, loc="upper left", title="policy (colour)", title_fontsize=8)
    ax.add_artist(first)
    ax.legend(handles=station_handles, fontsize=8, loc="upper right", title="station (line style)", title_fontsize=8)
    ax.set(title="tolls posted ($ per EV, on top of the energy price)", xlabel="hour of the day", ylabel="$ / EV")
    ax = axes[0, 1]
    for (label, name, _, poa), c in zip(runs, colours):
        wide = name == "exact"  # drawn wide underneath: a policy at the optimum leaves it visible
        ax.plot(
            hours,
            poa,
            color=c,
            lw=4 if wide else 1.6,
            alpha=0.45 if wide else 1.0,
            marker=None if wide else "o",
            ms=3,
            label=label,
        )
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(
        title="price of anarchy each hour (1 = the system optimum)",
        xlabel="hour of the day",
        ylabel="TC(equilibrium under the tolls) / TC(optimum)",
    )
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    exact = next((poa for (_, name, _, poa) in runs if name == "exact"), None)
    if exact is None:
        ax.text(0.5, 0.5, "no exact policy among those drawn", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        for (label, name, _, poa), c in zip(runs, colours):
            if name != "exact":
                ax.plot(hours, poa - exact, color=c, lw=1.6, marker="o", ms=3, label=label)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_yscale("symlog", linthresh=1e-6)
        ax.set(
            title="excess price of anarchy: policy \u2212 exact tolls",
            xlabel="hour of the day",
            ylabel="PoA \u2212 PoA(exact) (symmetric log)",
        )
        if len(runs) > 1:
            ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.bar(np.arange(len(p.demand)), p.demand, color="tab:grey")
    ax.set(title="demand (EV per hour)", xlabel="hour of the day", ylabel="EV / h")
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    fig.suptitle(f"{task.name}: one day (deterministic) under each policy's tolls")
    return _save(plt, fig, path)
