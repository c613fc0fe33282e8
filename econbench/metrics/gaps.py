"""Optimality gaps (single-agent views) and equilibrium gaps (multi-agent tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.core import Task
from econbench.metrics.evaluate import EvalResult, PolicySpec, evaluate, resolve_policy
from econbench.metrics.stats import bootstrap_ci
from econbench.registry import make_task


@dataclass
class OptimalityGap:
    """``raw = mean (V* - V)/|V*|`` and ``normalized = (V* - V)/(V* - V_ref)`` on common initial states and shocks.

    ``normalized`` is 0 at the optimum and 1 at the card's reference policy;
    the raw gap is reported too, though the level of V* makes it small for
    almost any policy.
    """

    task_id: str
    policy: str
    reference: str
    v_star: float
    v_policy: float
    v_reference: float
    raw: float
    raw_ci: tuple[float, float]
    normalized: float
    normalized_ci: tuple[float, float]


def _ratio_ci(
    num: np.ndarray, den: np.ndarray, strata: np.ndarray, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    picks = np.concatenate([g[rng.integers(0, g.size, (n_boot, g.size))] for g in groups], axis=1)
    stats = num[picks].mean(axis=1) / den[picks].mean(axis=1)
    return float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975))


def optimality_gap(
    task: Task | str,
    policy: PolicySpec,
    backend: Backend | str = "numpy",
    seeds: list[int] | None = None,
    episodes: int | None = None,
    progress: bool = False,
    exact: EvalResult | None = None,
    reference: EvalResult | None = None,
) -> OptimalityGap:
    """Gap of a single-agent policy to the exact optimum (``"exact"`` policy of the task).

    In role views the optimum is known only against the role's default
    others, for which the exact profile is a best response.
    """
    task = make_task(task) if isinstance(task, str) else task
    if not task.is_single_agent:
        raise ValueError(f"{task.name} is multi-agent: use equilibrium_gap (or its -Planner-/role view)")
    kw: dict[str, Any] = dict(backend=backend, seeds=seeds, episodes=episodes, progress=progress)
    star = exact or evaluate(task, "exact", **kw)
    ref = reference or evaluate(task, "reference", **kw)
    pi = evaluate(task, policy, **kw)
    v_star, v_pi, v_ref = star.scores.ravel(), pi.scores.ravel(), ref.scores.ravel()
    strata = np.repeat(np.arange(star.scores.shape[0]), star.scores.shape[1])
    raw = (v_star - v_pi) / np.abs(v_star)
    return OptimalityGap(
        task.id,
        pi.policy,
        ref.policy,
        float(v_star.mean()),
        float(v_pi.mean()),
        float(v_ref.mean()),
        float(raw.mean()),
        bootstrap_ci(raw, strata),
        float((v_star - v_pi).mean() / (v_star - v_ref).mean()),
        _ratio_ci(v_star - v_pi, v_star - v_ref, strata),
    )


@dataclass
class GapResult:
    """Best-response gains of one group's agents against a profile.

    ``gains[e, i]`` is agent i's gain in episode e; ``values`` its discounted
    return under the profile. ``epsilon`` is the largest mean gain over the
    group's agents, ``relative`` the largest ``gain / |value|``.
    """

    task_id: str
    policy: str
    group: str
    method: str
    gains: np.ndarray  # (episodes, n_agents)
    values: np.ndarray  # (episodes, n_agents)

    @property
    def epsilon(self) -> float:
        return float(self.gains.mean(axis=0).max())

    @property
    def relative(self) -> float:
        gain, value = self.gains.mean(axis=0), np.abs(self.values.mean(axis=0))
        ratio = np.divide(gain, value, out=np.where(gain == 0, 0.0, np.inf), where=value > 0)  # 0/0 is no gain
        return float(ratio.max())

    @property
    def epsilon_ci(self) -> tuple[float, float]:
        rng = np.random.default_rng(0)
        idx = rng.integers(0, self.gains.shape[0], (2000, self.gains.shape[0]))
        stats = self.gains[idx].mean(axis=1).max(axis=1)
        return float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975))

    @property
    def is_lower_bound(self) -> bool:
        return self.method.startswith("lower bound")


def equilibrium_gap(
    task: Task | str,
    policy: PolicySpec,
    backend: Backend | str = "numpy",
    seeds: list[int] | None = None,
    episodes: int | None = None,
    progress: bool = False,
) -> list[GapResult]:
    """Each group's best-response gain against the profile, by the task's method (see its card)."""
    task = make_task(task) if isinstance(task, str) else task
    if task.equilibrium_gap is None:
        raise ValueError(f"{task.name} has no equilibrium-gap method; single-agent views have optimality gaps")
    proto = task.card["protocol"]
    seeds = list(proto["eval_seeds"] if seeds is None else seeds)
    episodes = int(proto["episodes_per_seed"] if episodes is None else episodes)
    name, profile = resolve_policy(task, policy, backend)
    return task.equilibrium_gap(task, profile, name, seeds, episodes, backend=backend, progress=progress)
