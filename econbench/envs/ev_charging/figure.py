"""The EV-charging rollout figure: queues, plugs in use, what drivers are doing and what it costs, over the day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from econbench.backend import Backend
from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.ev_charging.dynamics import AT_STATION, COUNTERS, STATUS_NAMES
from econbench.metrics.evaluate import PolicySpec, resolve_policy
from econbench.plots import _runs_figure, _save


@dataclass
class EVSeries:
    policy: str
    hours: np.ndarray  # (T,) time of day at the end of each step
    waiting: np.ndarray  # (T, S) EVs queued per station
    charging: np.ndarray  # (T, S) EVs plugged in per station
    status: np.ndarray  # (T, len(STATUS_NAMES)) drivers by status
    cost: np.ndarray  # (T,) cumulative dollars per driver
    energy: np.ndarray  # (S,) kWh bought per station over the episode
    plugs: np.ndarray  # (S,)


def ev_series(task: Task, policy: PolicySpec, seed: int | None = None, backend: Backend | str = "numpy") -> EVSeries:
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    name, profile = resolve_policy(task, policy, backend)
    env = BatchedEnv(task, 1, backend, seed=seed)
    b = env.backend
    city = env.dynamics.city
    S = city.plugs.size
    obs = env.reset()
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("hours", "waiting", "charging", "status", "cost")}
    energy = np.zeros(S)
    for _ in range(env.horizon):
        before = b.to_numpy(env.state.status)[0]
        obs, out, term, trunc = env.step(profile_actions(profile, obs, env.action_masks))
        s = env.state
        status, station = b.to_numpy(s.status)[0], b.to_numpy(s.station)[0]
        now = float(b.to_numpy(s.clock)[0])
        at = status == AT_STATION
        start, free = b.to_numpy(s.t_start)[0], b.to_numpy(s.t_free)[0]
        plugged = at & (start <= now) & (now < free)
        joined = at & (before != AT_STATION)
        np.add.at(energy, station[joined], b.to_numpy(s.energy)[0][joined])
        rows["hours"].append(np.asarray(now / 60.0))
        rows["waiting"].append(np.bincount(station[at & (start > now)], minlength=S))
        rows["charging"].append(np.bincount(station[plugged], minlength=S))
        rows["status"].append(np.bincount(status, minlength=len(STATUS_NAMES)))
        rows["cost"].append(np.asarray(b.to_numpy(s.counters)[0, COUNTERS.index("cost")] / task.params.n_drivers))
        if bool(b.to_numpy(term)[0]) or bool(b.to_numpy(trunc)[0]):
            break
    arr = {k: np.asarray(v, dtype=float) for k, v in rows.items()}
    return EVSeries(
        name,
        arr["hours"],
        arr["waiting"],
        arr["charging"],
        arr["status"],
        arr["cost"],
        energy,
        city.plugs.astype(float),
    )


def plot_ev_rollout(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """One episode per policy: queues and plugs in use over the day, driver activity, cost, energy by station."""
    runs = [ev_series(task, spec, seed) for spec in policies]
    plt, fig, axes, names, colours = _runs_figure(runs, labels)
    ax = axes[0, 0]
    for r, name, c in zip(runs, names, colours):
        ax.plot(r.hours, r.waiting.sum(axis=1), color=c, lw=1.5, label=name)
    ax.set(title="EVs queued (all stations)", xlabel="hour", ylabel="EVs")
    ax = axes[0, 1]
    for r, name, c in zip(runs, names, colours):
        ax.plot(r.hours, r.charging.sum(axis=1) / r.plugs.sum(), color=c, lw=1.5, label=name)
    ax.set(title="share of plugs in use", xlabel="hour", ylim=(-0.02, 1.02))
    ax = axes[0, 2]
    for r, name, c in zip(runs, names, colours):
        ax.plot(r.hours, r.cost, color=c, lw=1.5, label=name)
    ax.set(title="cumulative cost per driver ($)", xlabel="hour")
    ax = axes[1, 0]
    r0 = runs[0]
    shown = [k for k in range(len(STATUS_NAMES)) if r0.status[:, k].any()]
    ax.stackplot(r0.hours, r0.status[:, shown].T, labels=[STATUS_NAMES[k] for k in shown], alpha=0.8)
    ax.set(title=f"drivers by activity under {names[0]}", xlabel="hour", ylabel="drivers")
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1, 1]
    for r, name, c in zip(runs, names, colours):
        ax.plot(r.hours, r.waiting.max(axis=1), color=c, lw=1.5, label=name)
    ax.set(title="longest queue at a station", xlabel="hour", ylabel="EVs")
    ax = axes[1, 2]
    width = 0.8 / len(runs)
    shown_st = np.arange(min(r0.plugs.size, 12))
    for j, (r, name, c) in enumerate(zip(runs, names, colours)):
        ax.bar(shown_st + j * width, r.energy[shown_st], width=width, color=c, label=name)
    ax.set(
        title="energy bought per station (kWh)" + (" (first 12)" if r0.plugs.size > 12 else ""),
        xlabel="station",
        xticks=shown_st + 0.4 - width / 2,
        xticklabels=[str(s) for s in shown_st],
    )
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    who = f"driver {task.role.agent} learns, the others: {task.role.others}" if task.role else "all drivers"
    fig.suptitle(
        f"{task.name}: one episode per policy ({who}, {task.params.n_drivers} drivers, {r0.plugs.size} stations)"
    )
    fig.tight_layout()
    return _save(plt, fig, path)
