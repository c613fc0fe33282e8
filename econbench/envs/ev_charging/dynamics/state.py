"""The EV models' state: one dataclass of per-driver and per-station arrays, and a step's writable view of it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from econbench.core import Array
from econbench.envs.ev_charging.params import EVParams

if TYPE_CHECKING:
    from econbench.core import Dynamics

IDLE, TRIP, TO_STATION, AT_STATION, STRANDED, GONE = 0, 1, 2, 3, 4, 5
STATUS_NAMES = ("idle", "trip", "to_station", "at_station", "stranded", "gone")
N_OWN = 8  # own features before the per-option block
OPTION_FEATURES = ("travel_h", "wait_h", "price_per_kwh", "power_100kw")
COUNTERS = ("requests", "served", "unserved", "stranded", "lost", "energy_kwh", "driven_kwh", "wait_h", "cost")


@dataclass(frozen=True)
class EVState:
    status: Array  # (E, N) int
    node: Array  # (E, N) int: grid node (day; the destination while driving), origin (steady), own index (one-shot)
    station: Array  # (E, N) int: station of TO_STATION / AT_STATION, else -1
    trip: Array  # (E, N) int: index of the next trip
    t_free: Array  # (E, N) minutes: end of the current activity (steady: request time while idle)
    t_start: Array  # (E, N) minutes: start of the charge (AT_STATION)
    soc: Array  # (E, N) kWh
    energy: Array  # (E, N) kWh to be charged (static models: the request)
    vot: Array  # (E, N) $/h
    next_dep: Array  # (E, N) minutes: departure of the next trip (inf: none)
    next_kwh: Array  # (E, N) energy of the next trip
    rem_kwh: Array  # (E, N) energy of the trips left today
    dep: Array  # (E, N, T) minutes
    dest: Array  # (E, N, T) int
    kwh: Array  # (E, N, T)
    plug_free: Array  # (E, S, C) minutes at which each plug frees (inf: no such plug)
    clock: Array  # (E,) minutes: the start of the next step (observations are taken then)
    counters: Array  # (E, len(COUNTERS)) running totals, for the metrics


def obs_dim(p: EVParams) -> int:
    return N_OWN + len(OPTION_FEATURES) * p.n_options


class Fields:
    """Flat views of a state's per-driver fields; a field is copied the first time a step writes it."""

    def __init__(self, dyn: Dynamics, state: EVState) -> None:
        self.b, self.xp, self.state = dyn.backend, dyn.xp, state
        self.cur: dict[str, Array] = {}

    def __getitem__(self, name: str) -> Array:
        if name not in self.cur:
            a = getattr(self.state, name)
            self.cur[name] = self.xp.reshape(a, (-1,) + tuple(a.shape[2:]))
            self.cur[name + "#view"] = True
        return self.cur[name]

    def take(self, name: str, idx: Array) -> Array:
        return self.xp.take(self[name], idx, axis=0)

    def put(self, name: str, idx: Array, values: Any) -> None:
        arr = self[name]
        if self.cur.pop(name + "#view", False):
            arr = self.xp.asarray(arr, copy=True)
        if hasattr(values, "dtype") and values.dtype != arr.dtype:
            values = self.xp.astype(values, arr.dtype)  # torch writes only matching types
        self.cur[name] = self.b.put(arr, idx, values)

    def state_out(self, **replace: Array) -> EVState:
        s = self.state
        vals = {}
        for f in dataclasses.fields(s):
            if f.name in replace:
                vals[f.name] = replace[f.name]
            elif f.name in self.cur and not self.cur.get(f.name + "#view", False):
                vals[f.name] = self.xp.reshape(self.cur[f.name], getattr(s, f.name).shape)
            else:
                vals[f.name] = getattr(s, f.name)
        return EVState(**vals)
