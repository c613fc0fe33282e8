"""Task factories, named policies and the households' equilibrium gap of the capital-goods economy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from econbench.backend import Backend, get_backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, GroupPolicy, GroupSpec, PolicyFactory, Task
from econbench.envs.capital_goods import rule, solution, trained
from econbench.envs.capital_goods.dynamics import CapitalDynamics, PlannerCapitalDynamics, observation_size
from econbench.envs.capital_goods.params import CapitalParams

DEVIATION_RATES = (0.5, 0.8, 0.9, 1.1, 1.25, 2.0)  # multiples of the steady-state saving share a tested household tries


class ConstantAction:
    """Every agent plays ``value`` in each of ``width`` components: a class, so that envs holding it pickle."""

    def __init__(self, backend: Backend, width: int, value: float) -> None:
        self.backend, self.width, self.value = backend, width, value

    def __call__(self, obs: Array) -> Array:
        b = self.backend
        return b.xp.full(obs.shape[:-1] + (self.width,), self.value, dtype=obs.dtype, device=b.device)


def _constant_saving(group: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Reference policy (docs/models/capital_goods.md §6): spend the steady-state share of output, split equally over the goods."""
    p: CapitalParams = task.params
    return {group: ConstantAction(backend, task.group(group).action.shape[0], p.saving_ss / p.n_capital)}


class ExactSaving:
    """The optimum of one household and one good (``solution.solve_euler``): investment ``I(K, z)`` linear in K
    between grid points, turned into the spending share that buys it."""

    def __init__(self, p: CapitalParams, backend: Backend) -> None:
        sol = solution.solve_euler(p)
        self.p, self.backend = p, backend
        self.table = backend.asarray(sol.invest.T.ravel())  # (K, z) row-major
        self.k_lo, self.dk, self.n_k = float(sol.k[0]), float(sol.k[1] - sol.k[0]), sol.k.size
        self.idio_hi, self.agg_hi = float(p.z_idio[1]), float(p.z_agg[1])
        self.price = p.phi if p.formulation == "market" else 0.5 * p.phi  # spending per unit I^2 at one household

    def __call__(self, obs: Array) -> Array:
        xp, p, table, n_k = self.backend.xp, self.p, self.table, self.n_k
        k, zi, za = obs[..., 0], obs[..., 1], obs[..., 2]
        s = 2 * xp.astype(za >= self.agg_hi, xp.int64) + xp.astype(zi >= self.idio_hi, xp.int64)  # (agg, idio) order
        pos = xp.clip((k - self.k_lo) / self.dk, 0.0, float(n_k - 1))
        i = xp.clip(xp.astype(xp.floor(pos), xp.int64), 0, n_k - 2)
        w = pos - xp.astype(i, k.dtype)
        lo = xp.reshape(xp.take(table, xp.reshape(i * 4 + s, (-1,)), axis=0), k.shape)
        hi = xp.reshape(xp.take(table, xp.reshape((i + 1) * 4 + s, (-1,)), axis=0), k.shape)
        invest = xp.maximum((1.0 - w) * lo + w * hi, 0.0)
        return xp.clip(self.price * invest**2 / (za * zi * k**p.alpha), 0.0, p.max_saving)[..., None]


def _exact(group: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {group: ExactSaving(task.params, backend)}


def constant_deviation_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    group: str,
    actions: Sequence[float],
    method: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
) -> Any:
    """Lower bound on an agent's best-response gain: the group's first and last agents in turn play each
    constant action (every component) against the profile, on the same shocks (common random numbers:
    same seed, same batch); the best deviation on average counts, a loss counts as 0."""
    from econbench.metrics.evaluate import rollout
    from econbench.metrics.gaps import GapResult

    b = get_backend(backend)
    xp = b.xp
    g = task.group(group)
    tested = sorted({0, g.n_agents - 1})
    gains, values = [], []
    for seed in seeds:
        base = rollout(task, profile, episodes, seed, b).returns[group]
        gain = np.zeros((episodes, len(tested)))
        for col, agent in enumerate(tested):
            best = np.full(episodes, -np.inf)
            best_mean = -np.inf
            for value in actions:

                def override(
                    t: int, obs: dict[str, Array], acts: dict[str, Array], agent: int = agent, value: float = value
                ) -> dict[str, Array]:
                    a = b.asarray(acts[group])
                    onehot = b.asarray(np.arange(g.n_agents) == agent, dtype=xp.bool)[None, :, None]
                    return {**acts, group: xp.where(onehot, xp.full_like(a, value), a)}

                dev = rollout(task, profile, episodes, seed, b, override=override).returns[group][:, agent]
                if dev.mean() > best_mean:
                    best, best_mean = dev, float(dev.mean())
            delta = best - base[:, agent]
            gain[:, col] = delta if delta.mean() > 0.0 else 0.0
        gains.append(gain)
        values.append(base[:, tested])
    return GapResult(
        task.id, policy, group, method.format(tested=tested), np.concatenate(gains), np.concatenate(values)
    )


def household_deviation_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[Any]:
    """Households 0 and N-1 in turn spend a constant share (``DEVIATION_RATES`` times the steady state's,
    split equally over goods) against the profile."""
    p = task.params
    shares = [m * p.saving_ss / p.n_capital for m in DEVIATION_RATES]
    method = (
        "lower bound by deviation search: households {tested} in turn spend a constant share "
        f"({', '.join(map(str, DEVIATION_RATES))} x the steady state's) against the profile, common shocks"
    )
    return [constant_deviation_gap(task, profile, policy, "households", shares, method, seeds, episodes, backend)]


def _build(card: Mapping[str, Any], group: str, overrides: Mapping[str, Any]) -> Task:
    p = params_from_card(CapitalParams, card["id"], **overrides)
    if group == "planner":
        spec = GroupSpec(
            "planner",
            1,
            "planner",
            BoxSpec((p.n_households * (p.n_capital + 1) + 1,)),
            BoxSpec((p.n_households * p.n_capital,), 0.0, 1.0),
        )
        dyn: type[CapitalDynamics] = PlannerCapitalDynamics
    else:
        spec = GroupSpec(
            "households",
            p.n_households,
            "household",
            BoxSpec((observation_size(p),)),
            BoxSpec((p.n_capital,), 0.0, 1.0),
        )
        dyn = CapitalDynamics
    policies: dict[str, PolicyFactory] = {"constant_saving": partial(_constant_saving, group)}
    if p.n_households == 1 and p.n_capital == 1:
        policies["exact"] = partial(_exact, group)
    policies.update(trained.shipped(p, group))  # the learned planners of econbench/envs/capital_goods/trained/
    policies.update(rule.tuned(p, group))  # a five-number saving rule tuned for this economy (rules/)
    gap = household_deviation_gap if group == "households" else None
    exact = solution.summary if "exact" in policies else None
    return Task(card["id"], card, p, (spec,), dyn, p.beta, p.horizon, policies, equilibrium_gap=gap, solution=exact)


def households_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "households", overrides)


def planner_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    return _build(card, "planner", overrides)
