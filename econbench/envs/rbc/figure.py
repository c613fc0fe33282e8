"""The RBC tax-design economy's rollout figure (after Curry et al., arXiv 2201.01163, Fig. 2).

The generic figure in :mod:`econbench.plots` plots observation feature 0 and
the first action head, which mean nothing in this economy. Here every quantity
is read from the simulator's state (:class:`~econbench.envs.rbc.dynamics.RBCState`)
and the decoded actions, not decoded from observations, so the figure shows
what the dynamics did whatever the observation encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from econbench.backend import Backend
from econbench.core import BatchedEnv, Task
from econbench.envs.rbc.dynamics import RBCDynamics, RBCState
from econbench.metrics.evaluate import PolicySpec, resolve_policy
from econbench.plots import _pyplot, _save, wrap_name

N_CONSUMER_GROUPS = 4  # consumers are ordered by theta (consumer 0 dislikes work most): quartiles of the index
_PROFILE_STYLES = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dash-dot"}  # line style per profile


@dataclass
class RBCSeries:
    """One episode, quarter by quarter: row ``t`` of every ``(T, ...)`` array is quarter ``t + 1``.

    Prices, wages and taxes are those *in effect* during the quarter (posted
    the quarter before; the initial values in the first quarter), because they
    are what consumers paid, workers earned and the government collected.
    """

    policy: str
    price: np.ndarray  # (T, F) money per unit
    wage: np.ndarray  # (T, F) money per hour
    income_tax: np.ndarray  # (T,)
    corporate_tax: np.ndarray  # (T,)
    firm_hours: np.ndarray  # (T, F) hours worked at each firm (firms must take every hour offered)
    production: np.ndarray  # (T, F) units made this quarter (sellable from the next)
    sales: np.ndarray  # (T, F) units sold to domestic consumers
    exports: np.ndarray  # (T, F) units sold to the foreign buyer
    inventory: np.ndarray  # (T, F) units in stock at the end of the quarter (for sale in the next)
    consumption: np.ndarray  # (T, C) units consumed per consumer, all goods together
    consumer_hours: np.ndarray  # (T, C)
    consumer_reward: np.ndarray  # (T, C) per-quarter rewards
    firm_reward: np.ndarray  # (T, F)
    welfare: np.ndarray  # (T,)
    theta: np.ndarray  # (C,) labour-disutility coefficients (annealed), falling with the consumer's index
    alpha: np.ndarray  # (F,) labour share of each firm's production
    capital: np.ndarray  # (F,) each firm's capital at the start of the episode
    discount: float

    def cumulative(self, reward: np.ndarray) -> np.ndarray:
        """Running discounted sum over quarters (what the protocol scores at the last quarter)."""
        weights = self.discount ** np.arange(reward.shape[0])
        return np.cumsum(reward * weights.reshape(-1, *([1] * (reward.ndim - 1))), axis=0)


def consumer_groups(n_consumers: int, n_groups: int = N_CONSUMER_GROUPS) -> list[np.ndarray]:
    """Consecutive index blocks: theta falls with the index, so each block is a band of work aversion."""
    return [g for g in np.array_split(np.arange(n_consumers), min(n_groups, n_consumers)) if g.size]


def rbc_series(task: Task, policy: PolicySpec, seed: int | None = None, backend: Backend | str = "numpy") -> RBCSeries:
    """Roll one episode of an RBC task under ``policy`` (a named policy, checkpoint or full profile).

    One economy suffices: reset and dynamics are deterministic, and the seed
    (the card's first evaluation seed by default) only matters to stochastic
    policies.
    """
    seed = int(task.card["protocol"]["eval_seeds"][0]) if seed is None else seed
    name, profile = resolve_policy(task, policy, backend)
    env = BatchedEnv(task, 1, backend, seed=seed)
    b, dyn = env.backend, cast(RBCDynamics, env.dynamics)

    def host(x: Any) -> np.ndarray:
        return np.asarray(b.to_numpy(x), dtype=np.float64)[0]  # drop the single env's axis

    obs = env.reset()
    start: RBCState = env.state
    rows: dict[str, list[np.ndarray]] = {}

    def add(key: str, value: np.ndarray) -> None:
        rows.setdefault(key, []).append(value)

    for _ in range(env.horizon):
        before = env.state
        actions = env.check_actions({g: profile[g](obs[g]) for g in profile})
        act = dyn.decode(actions)
        obs, out, _, _ = env.step(actions)
        after = env.state
        hours, employer = host(act["hours"]), host(act["employer"])  # (C,), (C, F) one-hot
        sales = host(after.consumed).sum(axis=0)
        exports = host(after.exported)
        add("price", host(before.prices))
        add("wage", host(before.wages))
        add("income_tax", host(before.income_tax))
        add("corporate_tax", host(before.corporate_tax))
        add("firm_hours", hours @ employer)
        # the stock identity y' = y - sales - exports + Y recovers output without repeating the production function
        add("production", host(after.stocks) - host(before.stocks) + sales + exports)
        add("sales", sales)
        add("exports", exports)
        add("inventory", host(after.stocks))
        add("consumption", host(after.consumed).sum(axis=1))
        add("consumer_hours", hours)
        add("consumer_reward", host(out.rewards["consumers"]))
        add("firm_reward", host(out.rewards["firms"]))
        add("welfare", host(out.welfare))
    return RBCSeries(
        policy=name,
        **{k: np.stack(v) for k, v in rows.items()},
        theta=host(start.consumer_theta),
        alpha=host(start.firm_alpha),
        capital=host(start.firm_capital),
        discount=float(task.discount),
    )


def plot_rbc_rollout(
    task: Task,
    policies: Sequence[PolicySpec],
    path: str | Path,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Firms, consumers, taxes and cumulative rewards over one episode, one line style per policy profile.

    Per-firm panels colour the firms; consumer panels average over bands of
    work aversion (theta), since 100 lines would be unreadable.
    """
    plt = _pyplot()
    from matplotlib.ticker import EngFormatter

    runs = [rbc_series(task, spec, seed) for spec in policies]
    names = list(labels) if labels else [r.policy for r in runs]
    T, F = runs[0].price.shape
    quarters = np.arange(1, T + 1)
    firm_colours = plt.get_cmap("tab10" if F <= 10 else "tab20")(np.arange(F) % (10 if F <= 10 else 20))
    groups = consumer_groups(runs[0].theta.size)
    group_colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(groups)))
    styles = [list(_PROFILE_STYLES)[k % len(_PROFILE_STYLES)] for k in range(len(runs))]

    fig, axes = plt.subplots(3, 4, figsize=(20, 12), sharex=True)
    per_firm = [
        (axes[0, 0], "price", "price in effect", "money per unit"),
        (axes[0, 1], "wage", "wage in effect", "money per hour"),
        (axes[0, 2], "firm_hours", "hours worked at each firm (labour demand)", "hours per quarter"),
        (axes[0, 3], "production", "production", "units per quarter"),
        (axes[1, 0], "inventory", "inventory at the end of the quarter", "units"),
        (axes[1, 1], "exports", "exports", "units per quarter"),
    ]
    per_group = [
        (axes[1, 2], "consumption", "consumption per consumer (all goods)", "units per quarter (group mean)"),
        (axes[1, 3], "consumer_hours", "hours worked per consumer", "hours per quarter (group mean)"),
    ]
    ax_tax = axes[2, 0]
    rewards = [
        (axes[2, 1], "consumers' reward (mean)", "utility"),
        (axes[2, 2], "firms' reward (mean)", "money (after-tax profit)"),
        (axes[2, 3], "welfare (government's reward)", "utility"),
    ]
    cumulative = "cumulative " if task.discount == 1.0 else f"cumulative discounted ({task.discount:g}) "
    for run, ls in zip(runs, styles):
        for ax, key, _, _ in per_firm:
            data = getattr(run, key)
            for i in range(F):
                ax.plot(quarters, data[:, i], ls=ls, color=firm_colours[i], lw=1.4, marker=".", ms=4)
        for ax, key, _, _ in per_group:
            data = getattr(run, key)
            for members, colour in zip(groups, group_colours):
                ax.plot(quarters, data[:, members].mean(axis=1), ls=ls, color=colour, lw=1.6, marker=".", ms=4)
        ax_tax.plot(quarters, run.income_tax, ls=ls, color="tab:blue", lw=1.6, marker="o", ms=5, mfc="none")
        ax_tax.plot(quarters, run.corporate_tax, ls=ls, color="tab:red", lw=1.6, marker="x", ms=5)
        series = [
            run.cumulative(run.consumer_reward).mean(axis=1),
            run.cumulative(run.firm_reward).mean(axis=1),
            run.cumulative(run.welfare),
        ]
        for (ax, _, _), data in zip(rewards, series):
            ax.plot(quarters, data, ls=ls, color="black", lw=1.6, marker=".", ms=4)

    for ax, _, title, unit in per_firm + per_group:
        ax.set(title=title, ylabel=unit)
    # prices, wages and exports on their whole range: where on the action grid (or the export cap) firms are
    params = task.params
    for ax, key, levels in ((axes[0, 0], "price", params.price_levels), (axes[0, 1], "wage", params.wage_levels)):
        top = max(max(levels), max(float(np.max(getattr(r, key))) for r in runs))  # initial values may be off-grid
        ax.set_ylim(-0.03 * top, 1.05 * top)
    axes[1, 1].set_ylim(-0.03 * params.importer_quantity, 1.05 * params.importer_quantity)
    if not params.use_importer:
        axes[1, 1].text(
            0.5,
            0.5,
            "closed economy:\nno export market",
            transform=axes[1, 1].transAxes,
            ha="center",
            va="center",
            color="grey",
        )
    ax_tax.set(title="tax rates in effect", ylabel="rate (share of income / profit)", ylim=(-0.05, 1.05))
    ax_tax.legend(
        handles=[
            plt.Line2D([], [], color="tab:blue", marker="o", mfc="none", label="income tax"),
            plt.Line2D([], [], color="tab:red", marker="x", label="corporate tax"),
        ],
        fontsize=9,
    )
    for ax, title, unit in rewards:
        ax.set(title=cumulative + title, ylabel=unit)
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))  # millions as "M": an offset label would hit the title
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_xticks(quarters)
    for ax in axes[-1]:
        ax.set_xlabel("quarter")

    r0 = runs[0]
    firm_handles = [
        plt.Line2D([], [], color=firm_colours[i], lw=2, label=f"firm {i} (α={r0.alpha[i]:g}, K₀={r0.capital[i]:,.0f})")
        for i in range(F)
    ]
    group_handles = [
        plt.Line2D(
            [], [], color=c, lw=2, label=f"consumers {m[0]}–{m[-1]} (θ {r0.theta[m[0]]:.4f}–{r0.theta[m[-1]]:.4f})"
        )
        for m, c in zip(groups, group_colours)
    ]
    profile_handles = [
        plt.Line2D([], [], color="black", ls=ls, lw=1.6, label=wrap_name(n)) for n, ls in zip(names, styles)
    ]
    legends = [
        (profile_handles, "policy profile (line style)", 0.95),
        (firm_handles, "firms (colour)", 0.80),
        (group_handles, "consumer groups (colour)", 0.38),
    ]
    for handles, title, top in legends:
        fig.legend(
            handles=handles,
            title=title,
            loc="upper left",
            bbox_to_anchor=(0.845, top),
            fontsize=9,
            title_fontsize=10,
            frameon=False,
        )
    profiles = " vs ".join(f"{n} ({_PROFILE_STYLES[ls]})" for n, ls in zip(names, styles))
    fig.suptitle(f"{task.name}: one episode of {T} quarters (deterministic economy) under {profiles}", fontsize=14)
    return _save(plt, fig, path, rect=(0.0, 0.0, 0.84, 0.97))
