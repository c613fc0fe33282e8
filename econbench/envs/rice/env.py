"""Task factories and named fixed policies of RICE-N.

Every named policy is a rule over the observation that all regions follow
(a full profile), so it drives the whole game or the other regions of the
region view. The rules fill every head: the climate-economy block and the
protocol's (they negotiate for what they plan to do anyway: each region
promises and requests its own planned mitigation and accepts every
proposal; in a club it joins when its plan meets the club's minimum), and
they respect the action masks, raising mitigation to an agreed minimum and
setting the tariffs a club imposes.

* ``zeros``: every index 0 (no saving, mitigation or trade: upstream's extreme fixture policy);
* ``bau``: business as usual: save 20 %, no mitigation, export up to 20 % and bid 10 % of
  output for each partner's goods (the bids are rescaled to what exporters offer), no tariffs;
* ``mitigation_<k>``: ``bau`` with a uniform mitigation rate of k/10 (k = 3, 5, 7, 9);
* ``ramp``: ``bau`` with mitigation rising 0.1 every second climate-economy step (10 years) to 0.9;
* ``temperature``: ``bau`` with mitigation index ``round((T_AT - 1 C) / 0.25 C)``, capped at 9:
  abate as the atmosphere warms.

The learned profiles shipped in ``trained/<protocol>/`` (``shared_ppo_cpu_seed<s>``, from
``baselines/rice.py``) are named policies of the tasks of their protocol too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, DiscreteSpec, GroupPolicy, GroupSpec, PolicyFactory, Task, lazy_hook
from econbench.envs.rice.dynamics import RICEDynamics, action_nvec, obs_dim, obs_offsets
from econbench.envs.rice.params import RICEParams
from econbench.envs.rice.protocols import get_protocol

BAU_SAVINGS, BAU_EXPORT, BAU_BID = 2, 2, 1  # action indices (rates x 10)
UNIFORM_MITIGATION = (3, 5, 7, 9)
TEMPERATURE_FLOOR, TEMPERATURE_PER_LEVEL = 1.0, 0.25  # C


# ---------------------------------------------------------------------------- fixed rules
Plan = Callable[[Array, Any], Array]  # observations -> planned mitigation index (E, N)


class RegionRule:
    """A full action from a mitigation plan: ``bau``'s saving and trade, negotiation and masks handled.

    A class, so that envs holding it pickle.
    """

    def __init__(self, p: RICEParams, backend: Backend, plan: Plan, trade: bool = True, negotiate: bool = True) -> None:
        xp = backend.xp
        self.backend, self.plan, self.negotiate = backend, plan, negotiate
        self.N, self.L = p.n_regions, p.action_levels
        self.proto = get_protocol(p.protocol)(p, backend)
        self.off = obs_offsets(p)
        self.heads = len(action_nvec(p))
        base = np.zeros(self.heads, dtype=np.int64)
        if trade:
            base[0], base[2] = BAU_SAVINGS, BAU_EXPORT
            base[3 + self.N : 3 + 2 * self.N] = BAU_BID
        self.base_b = backend.asarray(base, dtype=xp.int64)

    def __call__(self, obs: Array) -> Array:
        xp, N, L, heads, proto, off = self.backend.xp, self.N, self.L, self.heads, self.proto, self.off
        E = obs.shape[0]
        plan_idx = xp.astype(xp.clip(self.plan(obs, xp), 0, L - 1), xp.int64)
        act = xp.broadcast_to(self.base_b[None, None, :], (E, N, heads))
        act = xp.asarray(act, copy=True)
        if proto.n_stages:
            floor = xp.astype(xp.round(obs[..., off["min_mitigation"]] * L), xp.int64)
            plan_idx = xp.maximum(plan_idx, floor)
        act[..., 1] = plan_idx
        return proto.fixed_rule(act, plan_idx, obs, off) if self.negotiate else act


def rule(p: RICEParams, backend: Backend, plan: Plan, trade: bool = True, negotiate: bool = True) -> GroupPolicy:
    """A full action from a mitigation plan (see :class:`RegionRule`)."""
    return RegionRule(p, backend, plan, trade, negotiate)


class ConstantPlan:
    """The same mitigation index everywhere, always."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self, obs: Array, xp: Any) -> Array:
        return xp.astype(xp.zeros_like(obs[..., 0]), xp.int64) + self.index


def constant_plan(index: int) -> Plan:
    return ConstantPlan(index)


class RampPlan:
    """Mitigation rising one level every second climate-economy step, to 9."""

    def __init__(self, p: RICEParams) -> None:
        self.steps_per_round = get_protocol(p.protocol).n_stages + 1
        self.at = obs_offsets(p)["timestep"]

    def __call__(self, obs: Array, xp: Any) -> Array:
        k = xp.round(obs[..., self.at] * 100.0)  # env steps taken
        climate_steps = xp.floor(k / self.steps_per_round)
        return xp.astype(xp.minimum(1.0 + xp.floor(climate_steps / 2.0), 9.0), xp.int64)


def ramp_plan(p: RICEParams) -> Plan:
    return RampPlan(p)


class TemperaturePlan:
    """Mitigation index ``round((T_AT - 1 C) / 0.25 C)``, capped at 9."""

    def __init__(self, p: RICEParams) -> None:
        self.at = obs_offsets(p)["temperature"]

    def __call__(self, obs: Array, xp: Any) -> Array:
        t_at = obs[..., self.at] * 10.0
        return xp.astype(xp.clip(xp.round((t_at - TEMPERATURE_FLOOR) / TEMPERATURE_PER_LEVEL), 0.0, 9.0), xp.int64)


def temperature_plan(p: RICEParams) -> Plan:
    return TemperaturePlan(p)


def _profile(name: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """The named policy ``name`` (see the module's docstring) for every region."""
    p: RICEParams = task.params
    if name == "zeros":
        return {"regions": rule(p, backend, constant_plan(0), trade=False, negotiate=False)}
    if name == "ramp":
        plan = ramp_plan(p)
    elif name == "temperature":
        plan = temperature_plan(p)
    else:
        plan = constant_plan(int(name.removeprefix("mitigation_")) if name.startswith("mitigation_") else 0)
    return {"regions": rule(p, backend, plan)}


def named_policies(protocol: str = "none") -> dict[str, PolicyFactory]:
    """The fixed rules, and the learned profiles shipped for ``protocol`` (see :mod:`econbench.envs.rice.trained`)."""
    from econbench.envs.rice import trained

    names = ["zeros", "bau", "ramp", "temperature", *(f"mitigation_{k}" for k in UNIFORM_MITIGATION)]
    return {**{name: partial(_profile, name) for name in names}, **trained.shipped(protocol)}


# ---------------------------------------------------------------------------- factories
def groups(p: RICEParams) -> tuple[GroupSpec, ...]:
    return (
        GroupSpec(
            "regions",
            p.n_regions,
            "region",
            BoxSpec((obs_dim(p),), dtype=p.obs_dtype),
            DiscreteSpec(action_nvec(p)),
            masked=True,
        ),
    )


def rice_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    """The whole game: every region acts in every stage; the card's protocol adds the negotiation stages."""
    p = params_from_card(RICEParams, card["id"], **overrides)
    horizon = p.n_activity_steps * (get_protocol(p.protocol).n_stages + 1)
    limit = card.get("max_episode_steps")
    if limit is not None and int(limit) != horizon:
        raise ValueError(
            f"{card['id']}: protocol {p.protocol!r} needs {horizon} env steps per episode but this ID is registered "
            f"with {limit}; use the ID of that protocol (RICECooperation-v0, -Bilateral-v0, -Club-v0)"
        )
    from econbench.envs.rice.gap import deviation_gap
    from econbench.envs.rice.metrics import report

    return Task(
        card["id"],
        card,
        p,
        groups(p),
        RICEDynamics,
        p.discount,
        horizon,
        named_policies(p.protocol),
        equilibrium_gap=deviation_gap,
        report=report,
        figure=lazy_hook("econbench.envs.rice.figure:plot_rice_rollout"),
    )
