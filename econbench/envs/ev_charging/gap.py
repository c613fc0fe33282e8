"""Equilibrium gaps of EV charging, by mode.

* One-shot: exact. The episode's station choices are a profile of the atomic
  game (ev_charging.md §5); each EV's gain is its expected cost minus its cheapest
  unilateral switch, over the random queue order (``BatchGame``'s regrets).
* Steady: exact at the profile's station loads. Each request's gain is its
  expected cost at the station it chose minus the cheapest station's, with
  M/M/c waits at the loads the episode produced (ev_charging.md §4's Wardrop condition);
  a station loaded beyond capacity is costed at 99.9 % of it, which makes
  the gain a lower bound.
* Dynamic: a lower bound by deviation search. A sample of drivers in turn
  replaces the profile by each named rule for the whole day, on the same
  population (common random numbers; the day is deterministic), and keeps
  its best gain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from econbench.backend import get_backend
from econbench.core import BatchedEnv, GroupPolicy, Task, profile_actions
from econbench.envs.ev_charging.metrics import rollout_choices

DEVIATORS = 16  # drivers per episode whose deviations are searched (dynamic mode)
GAP_EPISODES = 2  # episodes per seed of the dynamic search (each is DEVIATORS x rules whole days)
ALTERNATIVES = ("nearest", "shortest_wait", "least_cost", "no_charging")


def ev_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[Any]:
    mode = task.params.mode
    if mode == "oneshot":
        return _oneshot(task, profile, policy, seeds, episodes, backend)
    if mode == "steady":
        return _steady(task, profile, policy, seeds, episodes, backend)
    return _dynamic(task, profile, policy, seeds, min(episodes, GAP_EPISODES), backend, progress)


def _oneshot(
    task: Task, profile: Mapping[str, GroupPolicy], policy: str, seeds: list[int], episodes: int, backend: Any
) -> list[Any]:
    from econbench.envs.ev_charging.city import batch_game
    from econbench.metrics.gaps import GapResult

    game = batch_game(task.params)
    S = game.stations.n
    penalty = task.params.unserved_penalty
    gains, values = [], []
    for seed in seeds:
        _, picks, places, _ = rollout_choices(task, profile, seed, episodes, backend)
        for station, who in zip(picks, places):
            choice = np.full(task.params.n_drivers, -1)
            choice[who] = station
            n = np.bincount(choice[choice >= 0], minlength=S)
            own = np.array(
                [
                    penalty if c < 0 else game.vot * game.detour[i, c] + game.station_cost(c, n[c])
                    for i, c in enumerate(choice)
                ]
            )
            best = np.array(
                [
                    min(game.vot * game.detour[i, s] + game.station_cost(s, n[s] + (c != s)) for s in range(S))
                    for i, c in enumerate(choice)
                ]
            )
            gains.append(np.maximum(own - best, 0.0))
            values.append(-own)
    method = "exact: each EV's expected regret in the atomic batch game at the episode's station counts (B4)"
    return [GapResult(task.id, policy, "drivers", method, np.stack(gains), np.stack(values))]


def _steady(
    task: Task, profile: Mapping[str, GroupPolicy], policy: str, seeds: list[int], episodes: int, backend: Any
) -> list[Any]:
    from econbench.envs.ev_charging.city import steady_instance
    from econbench.metrics.gaps import GapResult

    p = task.params
    inst = steady_instance(p)
    hours = p.horizon * p.step_minutes / 60.0
    fixed = inst.detour + (p.energy_kwh / np.asarray(inst.stations.power))[None, :]  # (origins, S) hours
    price = np.asarray(inst.stations.price) * p.energy_kwh
    gains, values = [], []
    for seed in seeds:
        _, picks, places, vots = rollout_choices(task, profile, seed, episodes, backend)
        for station, origin, vot in zip(picks, places, vots):
            loads = np.bincount(station[station >= 0], minlength=inst.stations.n) / hours
            loads = np.minimum(loads, 0.999 * inst.capacity)
            waits = inst.waits(loads)
            cost = vot[:, None] * (fixed[origin] + waits[None, :]) + price[None, :]  # (requests, S)
            own = np.where(station >= 0, cost[np.arange(station.size), np.clip(station, 0, None)], p.unserved_penalty)
            gain = np.maximum(own - cost.min(axis=1), 0.0)
            gains.append([gain.mean() if gain.size else 0.0])
            values.append([-own.mean() if own.size else 0.0])
    method = (
        "exact: a request's expected regret at the episode's station loads with M/M/c waits "
        "(Wardrop condition, B3); a lower bound where a station is loaded beyond capacity"
    )
    return [GapResult(task.id, policy, "drivers", method, np.asarray(gains), np.asarray(values))]


def _dynamic(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any,
    progress: bool,
) -> list[Any]:
    from econbench.metrics.gaps import GapResult

    b = get_backend(backend)
    xp = b.xp
    N = task.params.n_drivers
    deviators = np.linspace(0, N - 1, min(DEVIATORS, N)).astype(np.int64)
    rules = {name: task.policy(name, b)["drivers"] for name in ALTERNATIVES}
    n_dev = len(deviators) * len(rules)
    gains, values = [], []
    for seed in seeds:
        for episode in range(episodes):
            env = BatchedEnv(task, 1 + n_dev, b, seed=seed)
            env.reset(seed=seed)
            one = BatchedEnv(task, episodes, b, seed=seed)
            one.reset(seed=seed)
            pick = b.asarray(np.full(1 + n_dev, episode), dtype=xp.int64)
            env.state = type(one.state)(
                **{f: xp.take(getattr(one.state, f), pick, axis=0) for f in one.state.__dataclass_fields__}
            )
            obs = env.observe()
            total = np.zeros((1 + n_dev, N))
            rows = np.arange(1, 1 + n_dev)
            who = np.repeat(deviators, len(rules))
            for _ in range(env.horizon):
                acts = profile_actions(profile, obs, env.action_masks)
                a = np.array(b.to_numpy(acts["drivers"]), copy=True)
                for r, rule in enumerate(rules.values()):
                    alt = b.to_numpy(rule(obs["drivers"]))
                    sel = rows[r :: len(rules)]
                    a[sel, who[r :: len(rules)]] = alt[sel, who[r :: len(rules)]]
                obs, out, term, trunc = env.step({"drivers": b.asarray(a, dtype=xp.int64)})
                total += b.to_numpy(out.rewards["drivers"])
            base = total[0, deviators]
            dev = total[rows, who].reshape(len(deviators), len(rules)).max(axis=1)
            gains.append(np.maximum(dev - base, 0.0))
            values.append(base)
            if progress:
                print(f"  {task.name} deviation search: seed {seed} episode {episode + 1}/{episodes}", flush=True)
    method = (
        f"lower bound by deviation search: {len(deviators)} drivers in turn play each rule {list(ALTERNATIVES)} for the day "
        "against the profile, same population and day"
    )
    return [GapResult(task.id, policy, "drivers", method, np.stack(gains), np.stack(values))]
