"""The fixed geography of an instance: stations, travel times and the options offered to drivers.

Built once on the host from the parameters (the layout is part of the task,
not of an episode), then moved to the backend by the dynamics. Also builds the
``solution.py`` instances of the static modes, so the exact references are
computed from the very numbers the env simulates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.params import EVParams


@dataclass(frozen=True)
class City:
    """Host arrays of one instance.

    ``option_station[o, k]`` is the k-th station offered at place ``o`` and
    ``option_minutes[o, k]`` the travel time to it; a place is a grid node in
    the dynamic mode, an origin in the steady mode and a driver in the
    one-shot mode (EV-specific detours, ev_charging.md §5).
    """

    station_node: np.ndarray  # (S,)
    station_type: np.ndarray  # (S,)
    plugs: np.ndarray  # (S,)
    power_kw: np.ndarray  # (S,)
    price: np.ndarray  # (S,) $/kWh
    option_station: np.ndarray  # (places, K)
    option_minutes: np.ndarray  # (places, K)

    @property
    def n_places(self) -> int:
        return self.option_station.shape[0]


def hops(p: EVParams, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Manhattan distance in edges between grid nodes."""
    return np.abs(a % p.grid - b % p.grid) + np.abs(a // p.grid - b // p.grid)


def build_city(p: EVParams) -> City:
    rng = np.random.default_rng(p.city_seed)
    S = p.n_stations
    nodes = np.asarray(p.station_nodes, dtype=np.int64) if p.station_nodes else rng.integers(0, p.grid**2, S)
    if p.station_types:
        types = np.asarray(p.station_types, dtype=np.int64)
    else:
        types = rng.choice(len(p.type_names), size=S, p=np.asarray(p.type_shares))
    plugs = np.asarray(p.type_plugs, dtype=np.int64)[types]
    power = np.asarray(p.type_power_kw, dtype=float)[types]
    price = np.asarray(p.type_price, dtype=float)[types]
    if p.mode == "dynamic":
        grid_nodes = np.arange(p.grid**2)
        minutes = hops(p, grid_nodes[:, None], nodes[None, :]) * p.edge_minutes  # (nodes, S)
        K = min(p.n_options, S)
        order = np.lexsort((np.broadcast_to(np.arange(S), minutes.shape), minutes), axis=1)[
            :, :K
        ]  # nearest, ties by index
        option_minutes = np.take_along_axis(minutes, order, axis=1)
        return City(nodes, types, plugs, power, price, order, option_minutes.astype(float))
    detours = np.asarray(p.detour_h, dtype=float) if p.mode == "steady" else oneshot_detours(p)
    order = np.broadcast_to(np.arange(S), detours.shape).copy()
    return City(nodes, types, plugs, power, price, order, detours * 60.0)


def oneshot_detours(p: EVParams) -> np.ndarray:
    """EV-specific detours (h): column s uniform on [detour_low[s], detour_high[s]], drawn in station order (ev_charging.md §6 Example 3)."""
    rng = np.random.default_rng(p.detour_seed)
    return np.stack([rng.uniform(lo, hi, p.n_drivers) for lo, hi in zip(p.detour_low, p.detour_high)], axis=1)


def stations(city: City) -> solution.Stations:
    return solution.Stations(
        tuple(int(c) for c in city.plugs), tuple(float(x) for x in city.power_kw), tuple(float(x) for x in city.price)
    )


def steady_instance(p: EVParams) -> solution.Instance:
    """The nonatomic instance the steady mode simulates (ev_charging.md §4): its Wardrop equilibrium and optimum are exact."""
    if p.mode != "steady":
        raise ValueError(f"the nonatomic instance is defined for mode 'steady', not {p.mode!r}")
    city = build_city(p)
    return solution.Instance(
        stations(city),
        p.energy_kwh,
        city.option_minutes / 60.0,
        np.asarray(p.origin_demand, dtype=float),
        np.asarray(p.vot_classes, dtype=float),
    )


def batch_game(p: EVParams) -> solution.BatchGame:
    """The atomic game the one-shot mode simulates (ev_charging.md §5): deterministic service, FIFO in random order."""
    if p.mode != "oneshot":
        raise ValueError(f"the atomic game is defined for mode 'oneshot', not {p.mode!r}")
    city = build_city(p)
    return solution.BatchGame(stations(city), p.energy_kwh, city.option_minutes / 60.0, float(p.vot_classes[0]))
