"""Task factory and named fixed policies of EV charging.

Dynamic mode (a day of commutes). Every rule shares one trigger: an idle
driver charges once its trips of the day are driven and its battery is below
``end_soc``, or at once when its next trip cannot be driven on what is left.
It charges up to the smallest target that covers ``end_soc`` plus the trips
still ahead. The rules differ in where:

* ``nearest``: the closest station;
* ``shortest_wait``: the least expected time to a full charge (travel + the
  queue's current wait + charging), the literature's "shortest expected wait";
* ``least_cost``: the cheapest in dollars at the driver's value of time (a
  myopic best response to the queues it sees);
* ``random``: a station drawn uniformly (the policy's own generator, seeded);
* ``no_charging``: never charges (what stranding and shortfall cost).

Static modes: every request picks a station at once by the same criteria;
``exact`` is the equilibrium (steady: each request draws its station with the
Wardrop equilibrium's split for its origin and class; one-shot: the pure Nash
equilibrium found by best-response dynamics) and ``optimum`` the system
optimum, both from ``solution.py`` on the instance the env simulates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, DiscreteSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.city import batch_game, build_city, steady_instance
from econbench.envs.ev_charging.dynamics import N_OWN, OPTION_FEATURES, action_nvec, dynamics_class, obs_dim
from econbench.envs.ev_charging.params import EVParams

F = len(OPTION_FEATURES)
MARGIN = 0.03  # battery share kept beyond the next trip's energy

Profile = Callable[[Task, Backend], dict[str, GroupPolicy]]


def _options(obs: Array, K: int, j: int) -> list[Array]:
    """Feature j of each option, K arrays ``(E, N)``."""
    return [obs[..., N_OWN + F * k + j] for k in range(K)]


def _hours_to_full(p: EVParams, obs: Array, need_kwh: Array, K: int) -> list[Array]:
    """Travel + current wait + charging time at each option, hours."""
    xp = array_namespace(obs)
    travel, wait, power = _options(obs, K, 0), _options(obs, K, 1), _options(obs, K, 3)
    return [
        travel[k] + wait[k] + need_kwh / xp.clip(power[k] * 100.0, 1e-6, None) for k in range(K)
    ]  # all-zero rows: no 1/0


def _dollars(p: EVParams, obs: Array, need_kwh: Array, K: int) -> list[Array]:
    vot = obs[..., 6] * max(p.vot_classes)
    price = _options(obs, K, 2)
    return [vot * h + price[k] * need_kwh for k, h in enumerate(_hours_to_full(p, obs, need_kwh, K))]


def _first_min(values: list[Array], xp: Any) -> Array:
    """Index of the smallest of K same-shaped arrays (the first on ties): K passes, no strided reduction."""
    best, arg = values[0], xp.zeros_like(values[0], dtype=xp.int64)
    for k, v in enumerate(values[1:], start=1):
        better = v < best
        best = xp.where(better, v, best)
        arg = xp.where(better, k, arg)
    return arg


Chooser = Callable[[Array, Array, Any], Array]  # (obs, kWh needed, xp) -> option index 0..K-1


class ChargingRule:
    """A full action from a station chooser; ``None`` never charges. A class, so that envs holding it pickle."""

    def __init__(self, p: EVParams, backend: Backend, choose: Chooser | None) -> None:
        self.p, self.backend, self.choose = p, backend, choose
        self.targets = backend.asarray(np.asarray(p.charge_targets))
        self.dynamic = p.mode == "dynamic"

    def __call__(self, obs: Array) -> Array:
        p, backend, targets, dynamic = self.p, self.backend, self.targets, self.dynamic
        xp = backend.xp
        E, N = obs.shape[0], obs.shape[1]
        can = obs[..., 0] > 0.5
        if dynamic:
            soc, rem, nxt = (xp.astype(obs[..., j], backend.dtype) for j in (1, 2, 3))
            wanted = xp.clip(p.end_soc + rem, 0.0, 1.0)
            done = rem <= 0.0  # the day's trips are driven
            charge = can & ((done & (soc < p.end_soc)) | (soc < nxt + MARGIN))
            level = xp.sum(xp.astype(targets[None, None, :] < wanted[..., None] - 1e-9, xp.int64), axis=-1)
            level = xp.clip(level, 0, len(p.charge_targets) - 1)
            target = xp.reshape(xp.take(targets, xp.reshape(level, (-1,))), (E, N))
            need = xp.clip(target - soc, 0.0, None) * p.battery_kwh
        else:
            charge = can
            need = xp.astype(obs[..., 1], backend.dtype) * p.battery_kwh
            level = xp.zeros((E, N), dtype=xp.int64, device=backend.device)
        if self.choose is None:
            head = xp.zeros((E, N), dtype=xp.int64, device=backend.device)
        else:
            head = xp.where(charge, xp.astype(self.choose(obs, need, xp), xp.int64) + 1, 0)
        return xp.stack([head, level], axis=-1) if dynamic else head[..., None]


def rule(p: EVParams, backend: Backend, choose: Chooser | None) -> GroupPolicy:
    """A full action from a station chooser; ``None`` never charges."""
    return ChargingRule(p, backend, choose)


def _travel(p: EVParams, obs: Array, need_kwh: Array, K: int) -> list[Array]:
    return _options(obs, K, 0)


class Argmin:
    """The option where ``values(p, obs, kWh needed, K)`` is smallest (the first on ties)."""

    def __init__(self, values: Callable[[EVParams, Array, Array, int], list[Array]], p: EVParams) -> None:
        self.values, self.p = values, p

    def __call__(self, obs: Array, need: Array, xp: Any) -> Array:
        return _first_min(self.values(self.p, obs, need, self.p.n_options), xp)


class RandomChooser:
    """A station drawn uniformly, one draw per driver shared by every env: deviation searches compare envs on
    the same draws. The generator is the policy's own, and pickles with its position."""

    def __init__(self, p: EVParams, backend: Backend, seed: int = 0) -> None:
        self.p, self.backend, self.gen = p, backend, np.random.default_rng(seed)

    def __call__(self, obs: Array, need: Array, xp: Any) -> Array:
        draw = self.gen.integers(0, self.p.n_options, size=obs.shape[1])
        return self.backend.asarray(np.broadcast_to(draw, tuple(obs.shape[:2])), dtype=xp.int64)


class SplitChooser:
    """Each request draws its station with probability ``flows[o, k, s] / demand[o, k]`` (origin o, class k),
    the origin recognised by its detours and the class by its value of time."""

    def __init__(self, p: EVParams, backend: Backend, flows: np.ndarray, seed: int = 0) -> None:
        self.p, self.backend, self.gen = p, backend, np.random.default_rng(seed)
        self.detour_h = build_city(p).option_minutes / 60.0  # (origins, S)
        self.vot = np.asarray(p.vot_classes)
        demand = np.asarray(p.origin_demand, dtype=float)
        probs = flows / np.where(demand > 0, demand, 1.0)[..., None]
        self.cum = np.cumsum(probs, axis=-1)

    def __call__(self, obs: Array, need: Array, xp: Any) -> Array:
        p, vot = self.p, self.vot
        host = self.backend.to_numpy(obs).astype(float)
        travel = host[..., N_OWN : N_OWN + F * p.n_options : F]
        origin = np.argmin(np.abs(travel[..., None, :] - self.detour_h[None, None]).sum(-1), axis=-1)
        klass = np.argmin(np.abs(host[..., 6:7] * vot.max() - vot[None, None, :]), axis=-1)
        u = self.gen.random(origin.shape)
        station = (u[..., None] > self.cum[origin, klass]).sum(-1)
        return self.backend.asarray(np.minimum(station, p.n_stations - 1), dtype=xp.int64)


class ProfileChooser:
    """One-shot: driver i takes ``choice[i]``, recognised by its own detours."""

    def __init__(self, p: EVParams, backend: Backend, choice: np.ndarray) -> None:
        self.p, self.backend, self.choice = p, backend, choice
        self.detour_h = build_city(p).option_minutes / 60.0  # (N, S)

    def __call__(self, obs: Array, need: Array, xp: Any) -> Array:
        p = self.p
        host = self.backend.to_numpy(obs).astype(float)
        travel = host[..., N_OWN : N_OWN + F * p.n_options : F]
        who = np.argmin(np.abs(travel[..., None, :] - self.detour_h[None, None]).sum(-1), axis=-1)
        return self.backend.asarray(self.choice[who], dtype=xp.int64)


def chooser(name: str, p: EVParams, backend: Backend) -> Chooser | None:
    """The station chooser of a named policy (None: ``no_charging``)."""
    if name == "nearest":
        return Argmin(_travel, p)
    if name == "shortest_wait":
        return Argmin(_hours_to_full, p)
    if name == "least_cost":
        return Argmin(_dollars, p)
    if name == "random":
        return RandomChooser(p, backend)
    if name == "no_charging":
        return None
    if p.mode == "steady":
        solve = solution.wardrop if name == "exact" else solution.system_optimum
        return SplitChooser(p, backend, solve(steady_instance(p)).flows)
    game = batch_game(p)
    return ProfileChooser(p, backend, game.best_response_dynamics()[0] if name == "exact" else game.optimum())


def _profile(name: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {"drivers": rule(task.params, backend, chooser(name, task.params, backend))}


def named_policies(p: EVParams) -> dict[str, Profile]:
    names = ["nearest", "shortest_wait", "least_cost", "random"]
    names += ["no_charging"] if p.mode == "dynamic" else ["exact", "optimum"]
    return {name: partial(_profile, name) for name in names}


def groups(p: EVParams) -> tuple[GroupSpec, ...]:
    return (
        GroupSpec(
            "drivers",
            p.n_drivers,
            "driver",
            BoxSpec((obs_dim(p),), dtype="float32"),
            DiscreteSpec(action_nvec(p)),
            masked=True,
        ),
    )


def ev_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    """A card's task: the dynamics class of its ``mode`` (``dynamics.MODELS``), chosen here once, and the
    hooks of ``hooks.py`` (an exact solution for the static models only)."""
    p = params_from_card(EVParams, card["id"], **overrides)
    if p.mode == "dynamic" and p.n_options > p.n_stations:
        p = params_from_card(EVParams, card["id"], **{**overrides, "n_options": p.n_stations})
    from econbench.envs.ev_charging.gap import ev_gap
    from econbench.envs.ev_charging.hooks import SOLUTIONS, figure, report

    gap = (
        None if card.get("large", False) else ev_gap
    )  # a deviation search at 100,000 drivers is hours: the small city's card measures it
    return Task(
        card["id"],
        card,
        p,
        groups(p),
        dynamics_class(p),
        p.discount,
        p.horizon,
        named_policies(p),
        equilibrium_gap=gap,
        solution=SOLUTIONS.get(p.mode),
        report=report,
        figure=figure,
    )
