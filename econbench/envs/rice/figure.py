"""RICE-N's rollout figure: the climate, the world economy and the competition's two indices, per policy.

The competition judged protocols by where they land in the (economic index,
climate index) plane; the figure puts that plane beside the century of
temperature, carbon, output and mitigation behind each point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from econbench.backend import Backend
from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.rice.metrics import climate_index, economic_index
from econbench.metrics.evaluate import PolicySpec, resolve_policy
from econbench.plots import _runs_figure, _save


@dataclass
class RICESeries:
    """One episode, one row per climate-economy step (negotiation steps carry the economy unchanged)."""

    policy: str
    years: np.ndarray  # (T,)
    temperature: np.ndarray  # (T,) atmosphere, C above pre-industrial
    carbon: np.ndarray  # (T,) atmospheric carbon, GtC
    gross_output: np.ndarray  # (T,) world, net of damages and abatement
    mitigation: np.ndarray  # (T, N)
    savings: np.ndarray  # (T, N)
    utility: np.ndarray  # (T,) world sum
    climate_index: float
    economic_index: float


def rice_series(
    task: Task, policy: PolicySpec, seed: int | None = None, backend: Backend | str = "numpy"
) -> RICESeries:
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    name, profile = resolve_policy(task, policy, backend)
    env = BatchedEnv(task, 1, backend, seed=seed)
    b = env.backend

    def host(x: object) -> np.ndarray:
        return np.asarray(b.to_numpy(x), dtype=np.float64)[0]

    obs = env.reset()
    t0 = float(host(env.state.temperature)[0])
    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("temperature", "carbon", "gross", "mitigation", "savings", "utility")
    }
    for _ in range(env.horizon):
        obs, out, term, trunc = env.step(profile_actions(profile, obs, env.action_masks))
        s = env.state
        if float(host(s.stage)) != 0.0:
            continue
        rows["temperature"].append(host(s.temperature)[0])
        rows["carbon"].append(host(s.carbon)[0])
        rows["gross"].append(host(s.gross_output).sum())
        rows["mitigation"].append(host(s.mitigation))
        rows["savings"].append(host(s.savings))
        rows["utility"].append(host(out.rewards["regions"]).sum())
        if bool(host(term)) or bool(host(trunc)):
            break
    p = task.params
    T = len(rows["temperature"])
    temperature = np.asarray(rows["temperature"])
    gross = np.asarray(rows["gross"])
    return RICESeries(
        name,
        p.start_year + p.step_years * np.arange(1, T + 1),
        temperature,
        np.asarray(rows["carbon"]),
        gross,
        np.asarray(rows["mitigation"]),
        np.asarray(rows["savings"]),
        np.asarray(rows["utility"]),
        float(climate_index(temperature[-1] - t0)),
        float(economic_index(gross.sum())),
    )


def plot_rice_rollout(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Temperature, carbon, world output, mitigation, utility over the century; the index plane."""
    runs = [rice_series(task, spec, seed) for spec in policies]
    plt, fig, axes, names, colours = _runs_figure(runs, labels)
    panels = [
        (axes[0, 0], "temperature", "atmospheric temperature (C above 1750)"),
        (axes[0, 1], "carbon", "atmospheric carbon (GtC)"),
        (axes[0, 2], "gross_output", "world output net of damages and abatement"),
        (axes[1, 1], "utility", "world utility per step (sum of the regions' rewards)"),
    ]
    for ax, field, title in panels:
        for r, name, c in zip(runs, names, colours):
            ax.plot(r.years, getattr(r, field), color=c, lw=1.5, label=name)
        ax.set(title=title, xlabel="year")
        ax.grid(alpha=0.3)
    ax = axes[1, 0]
    for r, name, c in zip(runs, names, colours):
        ax.plot(r.years, r.mitigation.mean(axis=1), color=c, lw=1.5, label=name)
        ax.fill_between(r.years, r.mitigation.min(axis=1), r.mitigation.max(axis=1), color=c, alpha=0.12)
    ax.set(title="mitigation rate: mean over regions (band: min to max)", xlabel="year", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax = axes[1, 2]
    for r, name, c in zip(runs, names, colours):
        ax.scatter(r.economic_index, r.climate_index, color=c, s=60, label=name, zorder=3)
    ax.set(
        title="the competition's indices (1 = the extreme fixed policies' best)",
        xlabel="economic index",
        ylabel="climate index",
        xlim=(-0.05, 1.05),
        ylim=(-0.05, 1.05),
    )
    ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    who = f"region {task.role.agent} learns, the others: {task.role.others}" if task.role else "all regions"
    fig.suptitle(f"{task.name}: one episode per policy ({who}); every policy here is deterministic")
    fig.tight_layout()
    return _save(plt, fig, path)
