"""Task factories and named fixed policies of the RBC tax-design economy.

Every named policy is a full profile (consumers, firms, government), so it can
drive the whole game or, in the government's role view, the other agents. The
consumers and firms follow the same simple rules in all of them; the profiles
differ in the government's fixed tax pair, which is what upstream's
fixed-rate baselines (paper Fig. 5) vary:

* consumers: work for firm ``j mod n_firms`` (an even spread, 10 workers per
  firm) a number of hours that rises with the after-tax wage relative to the
  own labour disutility (:func:`consumer_rule`), and ask for the smallest
  equal bundle of every good that costs at least half the budget, capped at
  the largest table amount; the kernel's budget scaling keeps it affordable;
* firms: hold the curriculum's starting action, price 1000 and wage 22
  (investment fraction 0.1 is the only choice upstream);
* government: ``no_tax`` sets (0, 0); ``flat_tax_<x>`` sets income and
  corporate tax both to x percent.

Policies are deterministic functions of the observations (plus the agent's
position in its group, which is how a shared policy tells agents apart) and
respect the curriculum masks: a fixed choice that a mask forbids is replaced by
the nearest allowed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, DiscreteSpec, GroupPolicy, GroupSpec, PolicyFactory, Task, lazy_hook
from econbench.envs.rbc.dynamics import (
    RBCDynamics,
    firm_action_mask,
    firm_action_table,
    government_action_mask,
    government_action_table,
)
from econbench.envs.rbc.params import RBCParams

FLAT_TAX_PERCENTS = (20, 40, 60, 80)  # the paper's fixed-rate baselines span 20 %-80 % (Fig. 5)
CONSUMER_SPEND_SHARE = 0.5  # share of the budget the consumer rule aims to spend each quarter
CONSUMER_MONEY_UTILITY = 1e-3  # utility of one unit of money in the consumer rule: u'(0) / initial price


# ---------------------------------------------------------------------------- decoding observations
def consumer_view(obs: Array, p: RBCParams, xp: Any) -> dict[str, Array]:
    """Prices and wages ``(E, C, F)``, income tax, own budget and theta ``(E, C)`` from consumer observations.

    Digit encoding: the last digit feature is ``(B mod 10^D) / 10^D``, which is
    ``B / 10^D`` for any budget below ``10^D`` (1e10 by default), so it keeps
    the budget's relative precision.
    """
    F, G = p.n_firms, p.global_dim
    tau_at = F * (3 + (p.obs_digits if p.obs_encoding == "digits" else 1))
    if p.obs_encoding == "raw":
        return {
            "prices": obs[..., :F],
            "wages": obs[..., F : 2 * F],
            "tau": obs[..., tau_at],
            "budget": obs[..., G],
            "theta": obs[..., G + 1],
        }
    return {
        "prices": obs[..., :F] * max(p.price_levels),
        "wages": obs[..., F : 2 * F] * max(p.wage_levels),
        "tau": obs[..., tau_at],
        "budget": obs[..., G + p.obs_digits - 1] * 10.0**p.obs_digits,
        "theta": obs[..., G + p.obs_digits] * p.consumer_theta,
    }


# ---------------------------------------------------------------------------- fixed rules
def nearest_allowed(table: np.ndarray, allowed: np.ndarray, target: tuple[float, ...]) -> int:
    """Index of the allowed table row closest to ``target`` (scaled max-norm; ties go to the lower index)."""
    scale = np.maximum(np.ptp(table, axis=0), 1e-12)
    dist = np.max(np.abs(table - np.asarray(target)) / scale, axis=1)
    dist = np.where(allowed, dist, np.inf)
    return int(np.argmin(dist))


class ConsumerRule:
    """Labour supply rising with the after-tax wage over the disutility; equal bundle worth ``share * budget``.

    Hours index ``floor(R)`` (clipped to the table) with ``R = (1 - tau) w_e m / (k theta_j)``:
    the utility ``m`` of the after-tax wage of one hour over its disutility
    (``k`` = 1/2 as in the kernel); ``m`` = 1/1000 is the marginal utility of
    a first unit of a good (u'(0) = 1) at the initial price 1000. Employer
    ``j mod n_firms``. Demand: the smallest equal amount of every good that
    costs at least ``share * budget`` (the kernel scales unaffordable demand
    down to the budget). A class, so that envs holding it pickle.
    """

    def __init__(
        self,
        p: RBCParams,
        backend: Backend,
        share: float = CONSUMER_SPEND_SHARE,
        money_utility: float = CONSUMER_MONEY_UTILITY,
    ) -> None:
        xp = backend.xp
        self.p, self.backend, self.share, self.money_utility = p, backend, share, money_utility
        self.levels = backend.asarray(np.asarray(p.consumption_levels))
        self.n_levels, self.n_hours = len(p.consumption_levels), len(p.hours_levels)
        employer_host = np.arange(p.n_consumers) % p.n_firms
        self.employer = backend.asarray(employer_host, dtype=xp.int64)  # (C,)
        self.employer_onehot = backend.asarray(np.eye(p.n_firms)[employer_host])  # (C, F)
        self.k = 0.5 if p.halve_labour_disutility else 1.0

    def __call__(self, obs: Array) -> Array:
        p, xp, n_levels, n_hours = self.p, self.backend.xp, self.n_levels, self.n_hours
        v = consumer_view(obs, p, xp)
        basket = xp.sum(v["prices"], axis=-1)
        spend = self.share * xp.maximum(v["budget"], 0.0)
        units = xp.where(basket > 0.0, spend / xp.where(basket > 0.0, basket, 1.0), np.inf)
        amount = xp.clip(xp.sum(xp.astype(self.levels < units[..., None], xp.int64), axis=-1), 0, n_levels - 1)
        wage = xp.sum(v["wages"] * self.employer_onehot, axis=-1)
        gain = (1.0 - v["tau"]) * wage * self.money_utility
        cost = self.k * v["theta"]
        free = xp.where(gain > 0.0, xp.full_like(gain, float(n_hours)), xp.zeros_like(gain))  # theta 0: work if paid
        ratio = xp.where(cost > 0.0, gain / xp.where(cost > 0.0, cost, 1.0), free)
        hours = xp.astype(xp.floor(xp.clip(ratio, 0.0, float(n_hours - 1))), xp.int64)
        E, C = amount.shape
        return xp.concat(
            [
                xp.broadcast_to(amount[..., None], (E, C, p.n_firms)),
                hours[..., None],
                xp.broadcast_to(self.employer[None, :, None], (E, C, 1)),
            ],
            axis=-1,
        )


def consumer_rule(
    p: RBCParams, backend: Backend, share: float = CONSUMER_SPEND_SHARE, money_utility: float = CONSUMER_MONEY_UTILITY
) -> GroupPolicy:
    """The consumers' fixed rule (see :class:`ConsumerRule`)."""
    return ConsumerRule(p, backend, share, money_utility)


class ConstantRule:
    """Every agent of a single-head group always picks ``index``: a class, so that envs holding it pickle."""

    def __init__(self, backend: Backend, n_agents: int, index: int) -> None:
        self.backend, self.n_agents, self.index = backend, n_agents, index

    def __call__(self, obs: Array) -> Array:
        b = self.backend
        return b.full((obs.shape[0], self.n_agents, 1), self.index, b.xp.int64)


def constant_rule(backend: Backend, n_agents: int, index: int) -> GroupPolicy:
    """Every agent of a single-head group always picks ``index``."""
    return ConstantRule(backend, n_agents, index)


def firm_rule(p: RBCParams, backend: Backend) -> GroupPolicy:
    """Hold the curriculum's starting price and wage (1000, 22) with the table's investment fraction."""
    start = (p.firm_mask_price_start, p.firm_mask_wage_start)
    k = nearest_allowed(firm_action_table(p)[:, :2], firm_action_mask(p), start)
    return constant_rule(backend, p.n_firms, k)


def government_rule(p: RBCParams, backend: Backend, income: float, corporate: float) -> GroupPolicy:
    k = nearest_allowed(government_action_table(p), government_action_mask(p), (income, corporate))
    return constant_rule(backend, 1, k)


def _profile(income: float, corporate: float, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    p: RBCParams = task.params
    return {
        "consumers": consumer_rule(p, backend),
        "firms": firm_rule(p, backend),
        "government": government_rule(p, backend, income, corporate),
    }


def named_policies() -> dict[str, PolicyFactory]:
    """The fixed-rule profiles and the learned ones shipped in ``trained/`` (see :mod:`econbench.envs.rbc.trained`)."""
    from econbench.envs.rbc import trained

    policies: dict[str, PolicyFactory] = {"no_tax": partial(_profile, 0.0, 0.0)}
    for x in FLAT_TAX_PERCENTS:
        policies[f"flat_tax_{x}"] = partial(_profile, x / 100.0, x / 100.0)
    return {**policies, **trained.shipped()}


# ---------------------------------------------------------------------------- factories
def groups(p: RBCParams) -> tuple[GroupSpec, ...]:
    return (
        GroupSpec(
            "consumers",
            p.n_consumers,
            "consumer",
            BoxSpec((p.consumer_obs_dim,)),
            DiscreteSpec(p.consumer_nvec),
            masked=True,
        ),
        GroupSpec(
            "firms", p.n_firms, "firm", BoxSpec((p.firm_obs_dim,)), DiscreteSpec((p.n_firm_actions,)), masked=True
        ),
        GroupSpec(
            "government",
            1,
            "government",
            BoxSpec((p.government_obs_dim,)),
            DiscreteSpec((p.n_government_actions,)),
            masked=True,
        ),
    )


def rbc_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    """The whole game: 100 consumers, 10 firms and the government act simultaneously each quarter."""
    p = params_from_card(RBCParams, card["id"], **overrides)
    return Task(
        card["id"],
        card,
        p,
        groups(p),
        RBCDynamics,
        p.discount,
        p.horizon,
        named_policies(),
        equilibrium_gap=constant_deviation_gap,
        figure=lazy_hook("econbench.envs.rbc.figure:plot_rbc_rollout"),
    )


def government_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    """Same game; the card's ``role`` makes it the government's single-agent view (the registry wraps it)."""
    return rbc_task(card, **overrides)


# ---------------------------------------------------------------------------- equilibrium gap (a lower bound)
GAP_CONSUMERS = (0, 49, 99)  # tested consumers: the most, a median and the least work-averse (theta falls with j)
GAP_CHUNK_ENVS = 512  # deviations are simulated as extra environments, this many per batch


def _deviations(p: RBCParams, group: str, n_agents: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(agent, action, head_mask)`` triples: the constant actions a deviating agent tries.

    Consumers: an equal bundle of every good (each table amount) x each hours
    level, keeping the profile's employer; firms and the government: every
    joint action their curriculum mask allows.
    """
    out = []
    if group == "consumers":
        heads = np.ones(len(p.consumer_nvec), dtype=bool)
        heads[-1] = False  # the employer stays the profile's
        for agent in (a for a in GAP_CONSUMERS if a < n_agents):
            for q in range(len(p.consumption_levels)):
                for h in range(len(p.hours_levels)):
                    act = np.array([q] * p.n_firms + [h, 0], dtype=np.int64)
                    out.append((agent, act, heads))
        return out
    allowed = firm_action_mask(p) if group == "firms" else government_action_mask(p)
    for agent in range(n_agents):
        for k in np.flatnonzero(allowed):
            out.append((agent, np.array([k], dtype=np.int64), np.ones(1, dtype=bool)))
    return out


def constant_deviation_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[Any]:
    """Best-response gains of one agent at a time, searched over constant (open-loop) deviations.

    A lower bound on each group's best-response gain: every deviation is a
    feasible plan played against the profile's actual policies, and the
    agent's own policy (gain 0) is always available. Deviations are run as
    extra environments of one batch (the economy is deterministic, so a
    deviation and the profile see the same world), ``GAP_CHUNK_ENVS`` at a time.
    The consumers' result has one column per tested consumer (``GAP_CONSUMERS``).
    """
    from econbench.backend import get_backend
    from econbench.metrics.evaluate import rollout
    from econbench.metrics.gaps import GapResult

    b = get_backend(backend)
    xp = b.xp
    p: RBCParams = task.params
    results = []
    for g in task.groups:
        devs = _deviations(p, g.name, g.n_agents)
        heads = len(g.action.nvec)  # type: ignore[union-attr]
        values, gains = [], []
        for seed in seeds:
            base = rollout(task, profile, episodes, seed, b).returns[g.name]  # (episodes, n_agents)
            dev_returns = np.empty((len(devs), episodes))
            per_chunk = max(GAP_CHUNK_ENVS // episodes, 1)
            for start in range(0, len(devs), per_chunk):
                chunk = devs[start : start + per_chunk]
                n = len(chunk) * episodes
                repl = np.zeros((n, g.n_agents, heads), dtype=np.int64)
                where = np.zeros((n, g.n_agents, heads), dtype=bool)
                rows = np.arange(n)
                agents = np.repeat([a for a, _, _ in chunk], episodes)
                repl[rows, agents] = np.repeat(np.stack([act for _, act, _ in chunk]), episodes, axis=0)
                where[rows, agents] = np.repeat(np.stack([m for _, _, m in chunk]), episodes, axis=0)
                repl_b, where_b = b.asarray(repl, dtype=xp.int64), b.asarray(where, dtype=xp.bool)

                def override(
                    t: int,
                    obs: dict[str, Array],
                    acts: dict[str, Array],
                    repl_b: Array = repl_b,
                    where_b: Array = where_b,
                ) -> dict[str, Array]:
                    return {**acts, g.name: xp.where(where_b, repl_b, b.asarray(acts[g.name], dtype=xp.int64))}

                ret = rollout(task, profile, n, seed, b, override=override).returns[g.name]
                dev_returns[start : start + len(chunk)] = ret[rows, agents].reshape(len(chunk), episodes)
            gain = np.zeros((episodes, g.n_agents))
            owners = np.array([a for a, _, _ in devs])
            for agent in np.unique(owners):  # a handful of agents: pick each one's best deviation on average
                mine = np.flatnonzero(owners == agent)
                best = mine[int(np.argmax(dev_returns[mine].mean(axis=1)))]
                delta = dev_returns[best] - base[:, agent]
                gain[:, agent] = delta if delta.mean() > 0.0 else 0.0
            cols = np.unique(owners)  # untested consumers are left out rather than reported with a zero gain
            values.append(base[:, cols])
            gains.append(gain[:, cols])
        if g.name == "consumers":
            tested = ", ".join(map(str, GAP_CONSUMERS))
            tried = f"consumers {tested}, each equal bundle x hours level, employer kept"
        elif g.name == "firms":
            tried = "every firm, each allowed joint action"
        else:
            tried = "the government, each allowed tax pair"
        method = f"lower bound: best constant-action deviation of one agent against the profile; tried: {tried}"
        results.append(GapResult(task.id, policy, g.name, method, np.concatenate(gains), np.concatenate(values)))
    return results
