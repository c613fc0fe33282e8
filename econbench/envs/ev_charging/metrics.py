"""The EV task's metrics (docs/models/ev_charging.md §7): service figures for every mode; allocations against the exact references.

* service: cost per driver (or per request), mean wait per charge, energy
  delivered, unserved, stranded and lost shares, from the env's counters;
* steady mode: the station loads the policy produces against the Wardrop
  equilibrium's and the optimum's (the share of demand misallocated,
  ``(||x - x*||_1 + unserved) / (2 D)``), the Wardrop relative gap and the
  efficiency ratio ``TC(x) / TC(SO)`` of the served split, and the instance's
  price of anarchy;
* one-shot mode: station counts, total cost against the Nash equilibrium's
  and the optimum's, NashConv and the largest regret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from econbench.backend import Backend, get_backend
from econbench.core import BatchedEnv, GroupPolicy, Task, profile_actions
from econbench.envs.ev_charging.dynamics import COUNTERS

if TYPE_CHECKING:
    from econbench.envs.ev_charging.solution import Assignment, Instance


def rollout_choices(
    task: Task, profile: Mapping[str, GroupPolicy], seed: int, episodes: int, backend: Backend | str = "numpy"
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Run the episodes; returns the counters ``(episodes, len(COUNTERS))`` and, per episode, every decision
    taken: the station chosen (-1: none), the chooser's place (node, origin or driver) and value of time."""
    b = get_backend(backend)
    env = BatchedEnv(task, episodes, b, seed=seed)
    obs = env.reset(seed=seed)
    city = env.dynamics.city
    rows: list[list[list[np.ndarray]]] = [[[] for _ in range(episodes)] for _ in range(3)]
    for _ in range(env.horizon):
        acts = profile_actions(profile, obs, env.action_masks)
        a = b.to_numpy(acts["drivers"])[..., 0]
        can = b.to_numpy(env.state.status) == 0
        node = b.to_numpy(env.state.node).astype(np.int64)
        vot = b.to_numpy(env.state.vot)
        station = np.where(a > 0, city.option_station[node, np.clip(a - 1, 0, None)], -1)
        for e in range(episodes):
            for r, x in enumerate((station, node, vot)):
                rows[r][e].append(x[e][can[e]])
        obs, _, term, trunc = env.step({"drivers": acts["drivers"]})
        if bool(np.all(b.to_numpy(term | trunc))):
            break
    station_, place, vot_ = ([np.concatenate(x) for x in r] for r in rows)
    return np.asarray(b.to_numpy(env.state.counters), dtype=float), station_, place, vot_


def service_metrics(task: Task, counters: np.ndarray) -> dict[str, float]:
    """Means over episodes of the service figures."""
    c = {name: counters[:, j] for j, name in enumerate(COUNTERS)}
    per = c["requests"] if task.params.mode == "steady" else np.full(len(counters), float(task.params.n_drivers))
    served = np.maximum(c["served"], 1.0)
    out = {
        "cost_per_" + ("request" if task.params.mode == "steady" else "driver"): float(np.mean(c["cost"] / per)),
        "mean_wait_h": float(np.mean(c["wait_h"] / served)),
        "energy_kwh_per_driver": float(np.mean(c["energy_kwh"] / task.params.n_drivers)),
        "charges_per_driver": float(np.mean(c["served"] / task.params.n_drivers)),
        "unserved_share": float(np.mean(c["unserved"] / per)),
        "stranded_share": float(np.mean(c["stranded"] / task.params.n_drivers)),
    }
    if task.params.mode == "steady":
        out["lost_share"] = float(np.mean(c["lost"] / np.maximum(c["requests"], 1.0)))
    return out


def split_metrics(inst: Instance, flows: np.ndarray, ue: Assignment, so: Assignment) -> dict[str, float]:
    """A steady-state allocation against the exact references.

    ``flows`` are the served EV/h ``(origins, classes, stations)``. The references serve every request, so
    demand left unserved counts as misallocated: distance ``(||x - x*||_1 + unserved) / (2 D)``, the share of
    the demand ``D`` placed otherwise. The Wardrop relative gap and ``TC / TC(SO)`` judge the served split,
    rescaled to the whole demand; both are infinite where a station would be at or beyond capacity.
    """
    D = float(inst.demand.sum())
    loads = flows.sum(axis=(0, 1))
    unserved = max(D - float(loads.sum()), 0.0)
    served = flows.sum(axis=2, keepdims=True)
    split = np.where(served > 0, flows * inst.demand[:, :, None] / np.where(served > 0, served, 1.0), 0.0)
    feasible = bool(np.all(split.sum(axis=(0, 1)) < inst.capacity))
    return {
        "distance_to_wardrop": float((np.abs(loads - ue.loads).sum() + unserved) / (2 * D)),
        "distance_to_optimum": float((np.abs(loads - so.loads).sum() + unserved) / (2 * D)),
        "wardrop_relative_gap": float(inst.relative_gap(split)) if feasible else float("inf"),
        "efficiency_ratio": float(inst.total_cost(split) / so.total_cost) if feasible else float("inf"),
    }


def allocation_metrics(task: Task, stations: list[np.ndarray], places: list[np.ndarray]) -> dict[str, Any]:
    """The static modes' allocations against their exact references (means over episodes)."""
    from econbench.envs.ev_charging import solution
    from econbench.envs.ev_charging.city import batch_game, steady_instance

    p = task.params
    if p.mode == "steady":
        inst = steady_instance(p)
        ue, so = solution.wardrop(inst), solution.system_optimum(inst)
        hours = p.horizon * p.step_minutes / 60.0
        rows = []
        for station, origin in zip(stations, places):
            served = station >= 0
            # flows (origins, classes, stations) in EV/h of the requested demand; one class per origin here
            shares = np.zeros((inst.demand.shape[0], inst.stations.n))
            np.add.at(shares, (origin[served], station[served]), 1.0)
            per_origin = np.maximum(np.bincount(origin, minlength=inst.demand.shape[0]), 1)[:, None]
            flows = (shares / per_origin)[:, None, :] * inst.demand[:, :, None]
            rows.append(
                {
                    "loads": flows.sum(axis=(0, 1)),
                    **split_metrics(inst, flows, ue, so),
                    "empirical_load_eph": float(station[served].size / hours),
                }
            )
        return {
            "station_loads_eph": np.mean([r["loads"] for r in rows], axis=0).round(4).tolist(),
            "wardrop_loads_eph": ue.loads.round(4).tolist(),
            "optimum_loads_eph": so.loads.round(4).tolist(),
            **{k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "loads"},
            "price_of_anarchy": float(ue.total_cost / so.total_cost),
        }
    if p.mode == "oneshot":
        game = batch_game(p)
        nash, optimum = game.best_response_dynamics()[0], game.optimum()
        rows = []
        for station, who in zip(stations, places):
            choice = np.full(p.n_drivers, -1)
            choice[who] = station
            if (choice < 0).any():
                rows.append(None)
                continue
            regrets = game.regrets(choice)
            rows.append(
                {
                    "counts": game.counts(choice),
                    "total": game.total_cost(choice),
                    "nash_conv": float(regrets.sum()),
                    "max_regret": float(regrets.max()),
                }
            )
        full = [r for r in rows if r is not None]
        out: dict[str, Any] = {
            "nash_counts": game.counts(nash).tolist(),
            "optimum_counts": game.counts(optimum).tolist(),
            "nash_total": game.total_cost(nash),
            "optimum_total": game.total_cost(optimum),
            "episodes_with_unserved_evs": len(rows) - len(full),
        }
        if full:
            out.update(
                counts=np.mean([r["counts"] for r in full], axis=0).tolist(),
                efficiency_ratio=float(np.mean([r["total"] for r in full]) / game.total_cost(optimum)),
                nash_conv=float(np.mean([r["nash_conv"] for r in full])),
                max_regret=float(np.mean([r["max_regret"] for r in full])),
            )
        return out
    return {}


def ev_metrics(
    task: Task, profile: Mapping[str, GroupPolicy], seed: int, episodes: int, backend: Backend | str = "numpy"
) -> dict[str, Any]:
    counters, stations, places, _ = rollout_choices(task, profile, seed, episodes, backend)
    return {**service_metrics(task, counters), **allocation_metrics(task, stations, places)}
