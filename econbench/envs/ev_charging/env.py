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


def rule(p: EVParams, backend: Backend, choose: Chooser | None) -> GroupPolicy:
    """A full action from a station chooser; ``None`` never charges."""
    xp = backend.xp
    targets = backend.asarray(np.asarray(p.charge_targets))
    dynamic = p.mode == "dynamic"

    def policy(obs: Array) -> Array:
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
        if choose is None:
            head = xp.zeros((E, N), dtype=xp.int64, device=backend.device)
        else:
            head = xp.where(charge, xp.astype(choose(obs, need, xp), xp.int64) + 1, 0)
        return xp.stack([head, level], axis=-1) if dynamic else head[..., None]

    return policy


def _argmin(values: Callable[[Array, Array], list[Array]]) -> Chooser:
    return lambda obs, need, xp: _first_min(values(obs, need), xp)


def _random(p: EVParams, backend: Backend, seed: int = 0) -> Chooser:
    gen = np.random.default_rng(seed)

    def choose(obs: Array, need: Array, xp: Any) -> Array:
        # one draw per driver, shared by every env: deviation searches compare envs on the same draws
        draw = gen.integers(0, p.n_options, size=obs.shape[1])
        return backend.asarray(np.broadcast_to(draw, tuple(obs.shape[:2])), dtype=xp.int64)

    return choose


def _split(p: EVParams, backend: Backend, flows: np.ndarray, seed: int = 0) -> Chooser:
    """Each request draws its station with probability ``flows[o, k, s] / demand[o, k]`` (origin o, class k),
    the origin recognised by its detours and the class by its value of time."""
    gen = np.random.default_rng(seed)
    city = build_city(p)
    detour_h = city.option_minutes / 60.0  # (origins, S)
    vot = np.asarray(p.vot_classes)
    demand = np.asarray(p.origin_demand, dtype=float)
    probs = flows / np.where(demand > 0, demand, 1.0)[..., None]
    cum = np.cumsum(probs, axis=-1)

    def choose(obs: Array, need: Array, xp: Any) -> Array:
        host = backend.to_numpy(obs).astype(float)
        travel = host[..., N_OWN : N_OWN + F * p.n_options : F]
        origin = np.argmin(np.abs(travel[..., None, :] - detour_h[None, None]).sum(-1), axis=-1)
        klass = np.argmin(np.abs(host[..., 6:7] * vot.max() - vot[None, None, :]), axis=-1)
        u = gen.random(origin.shape)
        station = (u[..., None] > cum[origin, klass]).sum(-1)
        return backend.asarray(np.minimum(station, p.n_stations - 1), dtype=xp.int64)

    return choose


def _profile_choice(p: EVParams, backend: Backend, choice: np.ndarray) -> Chooser:
    """One-shot: driver i takes ``choice[i]``, recognised by its own detours."""
    detour_h = build_city(p).option_minutes / 60.0  # (N, S)

    def choose(obs: Array, need: Array, xp: Any) -> Array:
        host = backend.to_numpy(obs).astype(float)
        travel = host[..., N_OWN : N_OWN + F * p.n_options : F]
        who = np.argmin(np.abs(travel[..., None, :] - detour_h[None, None]).sum(-1), axis=-1)
        return backend.asarray(choice[who], dtype=xp.int64)

    return choose


def named_policies(p: EVParams) -> dict[str, Profile]:
    K = p.n_options

    def make(chooser: Callable[[EVParams, Backend], Chooser | None]) -> Profile:
        return lambda task, backend: {"drivers": rule(task.params, backend, chooser(task.params, backend))}

    out: dict[str, Profile] = {
        "nearest": make(lambda q, b: _argmin(lambda obs, need: _options(obs, K, 0))),
        "shortest_wait": make(lambda q, b: _argmin(lambda obs, need: _hours_to_full(q, obs, need, K))),
        "least_cost": make(lambda q, b: _argmin(lambda obs, need: _dollars(q, obs, need, K))),
        "random": make(lambda q, b: _random(q, b)),
    }
    if p.mode == "dynamic":
        out["no_charging"] = make(lambda q, b: None)
    elif p.mode == "steady":
        out["exact"] = make(lambda q, b: _split(q, b, solution.wardrop(steady_instance(q)).flows))
        out["optimum"] = make(lambda q, b: _split(q, b, solution.system_optimum(steady_instance(q)).flows))
    else:
        out["exact"] = make(lambda q, b: _profile_choice(q, b, batch_game(q).best_response_dynamics()[0]))
        out["optimum"] = make(lambda q, b: _profile_choice(q, b, batch_game(q).optimum()))
    return out


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
