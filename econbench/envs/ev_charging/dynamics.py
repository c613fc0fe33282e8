"""Batched dynamics of EV charging: drivers, trips and FIFO station queues in continuous time.

Time runs in minutes from the start of the episode; a step covers
``[t0, t0 + step_minutes)``. Decisions are taken at ``t0`` by the drivers who
can act (idle in the dynamic mode, holding a request in the static modes);
everything else is an event with an exact time: arriving at a station,
starting and ending a charge, arriving at a trip's destination. Arrivals are
queued in the step in which they happen, in order of their exact times, by
:func:`queues.fifo_assign`, so the queues are exact FIFO queues whatever the
step length; this is what lets the static modes reproduce Erlang C (steady)
and the batch game (one-shot) exactly.

Events touch few drivers per step, so they are found with ``nonzero`` and
written back with ``Backend.put`` into copies of the fields they change: a
step costs a handful of passes over the drivers, not one per field.

Costs are dollars, charged when they become certain: travel at departure,
waiting, plugged time and energy when the EV joins a queue (its whole service
is then known), lateness when a trip leaves after its scheduled time, the
stranding penalty when a trip cannot be driven, and the shortfall below the
wanted state of charge at the end of the day.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from econbench.backend import BackendRNG, BufferPool
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.ev_charging.city import build_city
from econbench.envs.ev_charging.params import EVParams
from econbench.envs.ev_charging.queues import fifo_assign

IDLE, TRIP, TO_STATION, AT_STATION, STRANDED, GONE = 0, 1, 2, 3, 4, 5
STATUS_NAMES = ("idle", "trip", "to_station", "at_station", "stranded", "gone")
N_OWN = 8  # own features before the per-option block
OPTION_FEATURES = ("travel_h", "wait_h", "price_per_kwh", "power_100kw")
COUNTERS = ("requests", "served", "unserved", "stranded", "lost", "energy_kwh", "driven_kwh", "wait_h", "cost")


@dataclass(frozen=True)
class EVState:
    status: Array  # (E, N) int
    node: Array  # (E, N) int: grid node (dynamic; the destination while driving), origin (steady), own index (one-shot)
    station: Array  # (E, N) int: station of TO_STATION / AT_STATION, else -1
    trip: Array  # (E, N) int: index of the next trip
    t_free: Array  # (E, N) minutes: end of the current activity (steady: request time while idle)
    t_start: Array  # (E, N) minutes: start of the charge (AT_STATION)
    soc: Array  # (E, N) kWh
    energy: Array  # (E, N) kWh to be charged (static modes: the request)
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


def action_nvec(p: EVParams) -> tuple[int, ...]:
    """Head 0: 0 = no station (follow the schedule; static modes: leave unserved), k = the k-th option.
    Head 1 (dynamic): the charge target, an index into ``charge_targets``."""
    head = (p.n_options + 1,)
    return head + (len(p.charge_targets),) if p.mode == "dynamic" else head


class _Fields:
    """Flat views of a state's per-driver fields; a field is copied the first time a step writes it."""

    def __init__(self, dyn: "EVDynamics", state: EVState) -> None:
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


class EVDynamics(Dynamics):
    """One step of every environment's drivers and stations (see the module docstring).

    NumPy observations are written into buffers recycled once no caller holds them
    (:class:`~econbench.backend.BufferPool`): a fresh 80 MB array per step at a million drivers spends a
    sixth of the step in page faults.
    """

    params: EVParams

    def __init__(self, params: EVParams, backend: Any) -> None:
        super().__init__(params, backend)
        p, b, xp = params, backend, backend.xp
        city = build_city(p)
        self.city = city
        self.S, self.C = city.plugs.size, int(city.plugs.max())
        self.K = city.option_station.shape[1]
        self.T = 2 if p.mode == "dynamic" else 0
        free = np.where(np.arange(self.C)[None, :] < city.plugs[:, None], 0.0, np.inf)
        self._plug0 = free
        i64 = xp.int64
        self.opt_station = b.asarray(city.option_station.reshape(-1), dtype=i64)  # (P*K,)
        self.opt_minutes = b.asarray(city.option_minutes.reshape(-1))
        self.station_node = b.asarray(city.station_node, dtype=i64)
        self.power = b.asarray(city.power_kw)
        self.price = b.asarray(city.price)
        static = np.stack([city.option_minutes / 60.0, np.zeros_like(city.option_minutes),
                           city.price[city.option_station], city.power_kw[city.option_station] / 100.0], axis=-1)
        self._static_options = b.asarray(static)  # (P, K, 4); the wait column is filled per step
        self.targets = b.asarray(np.asarray(p.charge_targets) * p.battery_kwh)
        self.vot_classes = b.asarray(np.asarray(p.vot_classes))
        self.kwh_per_edge = p.edge_km * p.kwh_per_km
        if p.mode == "steady":
            demand = np.asarray(p.origin_demand, dtype=float).reshape(-1)  # (origins * classes,) EV/h
            self._rate = demand / 60.0  # per minute
            mean = float(self._rate.max()) * p.step_minutes
            self.max_arrivals = int(np.ceil(mean + 10.0 * np.sqrt(mean) + 10.0))  # P(more) < 1e-12 per window
            self._rate_b = b.asarray(np.where(self._rate > 0, self._rate, 1.0))
            self._rate_on = b.asarray(self._rate > 0, dtype=xp.bool)
            self.expected_requests = float(demand.sum()) * p.horizon * p.step_minutes / 60.0
        self._obs_pool = BufferPool() if b.name == "numpy" else None

    # ------------------------------------------------------------------ helpers
    def _hops(self, a: Array, c: Array) -> Array:
        xp, G = self.xp, self.params.grid
        d = xp.abs(xp.remainder(a, G) - xp.remainder(c, G)) + xp.abs(xp.floor_divide(a, G) - xp.floor_divide(c, G))
        return xp.astype(d, self.backend.dtype)

    def _env_sum(self, env: Array, values: Array, E: int) -> Array:
        """Per-environment sums of ``values`` whose environments ``env`` are sorted."""
        xp = self.xp
        cs = xp.cumulative_sum(values, include_initial=True)
        bounds = xp.searchsorted(env, xp.arange(E + 1, dtype=env.dtype, device=self.backend.device))
        return xp.take(cs, bounds[1:]) - xp.take(cs, bounds[:-1])

    def _unit(self, name: str) -> Array:
        if not hasattr(self, "_units"):
            self._units = {c: self.backend.asarray(np.eye(len(COUNTERS))[j]) for j, c in enumerate(COUNTERS)}
        return self._units[name]

    def _count(self, counters: Array, name: str, env: Array, values: Array) -> Array:
        add = self._env_sum(env, values, counters.shape[0])
        return counters + add[:, None] * self._unit(name)[None, :]

    # ------------------------------------------------------------------ reset
    def initial_state(self, rng: BackendRNG, n_envs: int) -> EVState:
        """Small integer types (status and trip int8, places and stations int32): a step reads the status of
        every driver several times, and a million int8 are 1 MB where int64 would be 8."""
        p, b, xp = self.params, self.backend, self.xp
        E, N = n_envs, p.n_drivers
        f, i8, i32 = b.dtype, xp.int8, xp.int32

        def ints(value: int, dtype: Any, shape: tuple[int, ...] = (E, N)) -> Array:
            return xp.full(shape, value, dtype=dtype, device=b.device)

        zeros = b.zeros((E, N))
        inf = xp.full((E, N), float("inf"), dtype=f, device=b.device)
        plug = xp.broadcast_to(b.asarray(self._plug0)[None, ...], (E, self.S, self.C))
        plug = xp.asarray(plug, copy=True)
        counters = b.zeros((E, len(COUNTERS)))
        clock = b.zeros((E,))
        if p.mode == "dynamic":
            u = rng.uniform((E, N, 4))
            z = rng.normal((E, N, 2))
            n_nodes = p.grid ** 2
            home = xp.astype(xp.floor(u[..., 0] * n_nodes), i32)
            work = xp.astype(xp.floor(u[..., 1] * n_nodes), i32)
            soc = (p.soc0_low + (p.soc0_high - p.soc0_low) * u[..., 2]) * p.battery_kwh
            vot = self._draw_class(u[..., 3])
            deps = []
            for j, (mean, sd, lo, hi) in enumerate((p.morning_h, p.evening_h)):
                h = xp.clip(mean + sd * z[..., j], lo, hi)
                deps.append(xp.round(h * 60.0 / p.step_minutes) * p.step_minutes)
            dep = xp.stack(deps, axis=-1)
            dest = xp.stack([work, home], axis=-1)
            leg = self._hops(home, work) * self.kwh_per_edge
            kwh = xp.stack([leg, leg], axis=-1)
            return EVState(ints(IDLE, i8), home, ints(-1, i32), ints(0, i8), zeros, zeros,
                           soc, zeros, vot, dep[..., 0], leg, 2.0 * leg, dep, dest, kwh, plug, clock, counters)
        empty_f = b.zeros((E, N, 0))
        empty_i = ints(0, i32, (E, N, 0))
        if p.mode == "oneshot":
            node = xp.broadcast_to(xp.arange(N, dtype=i32, device=b.device)[None, :], (E, N))
            node = xp.asarray(node, copy=True)
            counters = counters + float(N) * self._unit("requests")[None, :]
            return EVState(ints(IDLE, i8), node, ints(-1, i32), ints(0, i8), zeros, zeros, zeros, zeros + p.energy_kwh,
                           zeros + p.vot_classes[0], inf, zeros, zeros, empty_f, empty_i, empty_f, plug, clock, counters)
        state = EVState(ints(GONE, i8), ints(0, i32), ints(-1, i32), ints(0, i8), zeros, zeros,
                        zeros, zeros, zeros, inf, zeros, zeros, empty_f, empty_i, empty_f, plug, clock, counters)
        return self._admit(state, self._arrival_draws(rng, E), b.zeros((E,)))

    def _draw_class(self, u: Array) -> Array:
        xp = self.xp
        cum = np.cumsum(self.params.vot_shares)
        vot = xp.zeros_like(u) + self.params.vot_classes[-1]
        for c in reversed(range(len(cum) - 1)):
            vot = xp.where(u < float(cum[c]), self.params.vot_classes[c], vot)
        return vot

    # ------------------------------------------------------------------ steady-mode requests
    def _arrival_draws(self, rng: BackendRNG, n_envs: int) -> Array:
        return rng.uniform((n_envs, self._rate.size, self.max_arrivals))

    def _admit(self, state: EVState, u: Array, t1: Array) -> EVState:
        """Poisson requests in ``[t1, t1 + step)`` take free agent slots (exponential gaps from uniforms)."""
        p, b, xp = self.params, self.backend, self.xp
        E, N = state.status.shape
        R, M = u.shape[1], u.shape[2]
        gaps = -xp.log(1.0 - u) / self._rate_b[None, :, None]
        offset = xp.cumulative_sum(gaps, axis=2)
        valid = (offset < p.step_minutes) & self._rate_on[None, :, None]
        idx = xp.nonzero(xp.reshape(valid, (-1,)))[0]
        env_a = xp.floor_divide(idx, R * M)
        pair = xp.remainder(xp.floor_divide(idx, M), R)
        times = xp.take(t1, env_a) + xp.take(xp.reshape(offset, (-1,)), idx)
        w = _Fields(self, state)
        free = xp.nonzero(w["status"] == GONE)[0]
        env_f = xp.floor_divide(free, N)
        rank_f = xp.arange(free.shape[0], dtype=xp.int64, device=b.device) - xp.searchsorted(env_f, env_f)
        rank_a = xp.arange(idx.shape[0], dtype=xp.int64, device=b.device) - xp.searchsorted(env_a, env_a)
        big = N + R * M + 1
        key_f, key_a = env_f * big + rank_f, env_a * big + rank_a
        pos = xp.searchsorted(key_f, key_a)
        pos_c = xp.clip(pos, 0, max(free.shape[0] - 1, 0))
        got = (pos < free.shape[0]) & (xp.take(key_f, pos_c) == key_a) if free.shape[0] else xp.zeros_like(key_a) > 0
        counters = self._count(state.counters, "requests", env_a, xp.astype(key_a * 0 + 1, b.dtype))
        counters = self._count(counters, "lost", env_a, xp.astype(~got, b.dtype))
        ok = xp.nonzero(got)[0]
        slot = xp.take(free, xp.take(pos_c, ok))
        pair_ok = xp.take(pair, ok)
        n_classes = len(p.vot_classes)
        w.put("status", slot, IDLE)
        w.put("node", slot, xp.floor_divide(pair_ok, n_classes))
        w.put("vot", slot, xp.take(self.vot_classes, xp.remainder(pair_ok, n_classes)))
        w.put("t_free", slot, xp.take(times, ok))
        w.put("energy", slot, p.energy_kwh)
        w.put("station", slot, -1)
        return w.state_out(counters=counters)

    def draw_noise(self, rng: BackendRNG, n_envs: int) -> Any:
        """One ``(E, L)`` array of uniforms (the backends test moves noise as one array); see :meth:`_noise`."""
        width = sum(n for n in self._noise_widths().values())
        return rng.uniform((n_envs, width)) if width else None

    def _noise_widths(self) -> dict[str, int]:
        p = self.params
        return {"arrivals": self._rate.size * self.max_arrivals if p.mode == "steady" else 0,
                "service": p.n_drivers if p.service == "exponential" else 0,
                "order": p.n_drivers if p.mode == "oneshot" else 0}

    def _noise(self, noise: Array | None) -> dict[str, Array]:
        """Named slices of the step's uniforms: steady arrivals ``(E, R, M)``, service and order ``(E, N)``."""
        if noise is None:
            return {}
        out, at = {}, 0
        for name, width in self._noise_widths().items():
            if width:
                out[name] = noise[:, at:at + width]
                at += width
        if "arrivals" in out:
            out["arrivals"] = self.xp.reshape(out["arrivals"], (noise.shape[0], self._rate.size, self.max_arrivals))
        return out

    # ------------------------------------------------------------------ step
    def step(self, state: EVState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p, b, xp = self.params, self.backend, self.xp
        E, N = state.status.shape
        f = b.dtype
        t0 = xp.astype(t, f) * p.step_minutes
        t1 = t0 + p.step_minutes
        w = _Fields(self, state)
        noise = self._noise(noise)
        counters = state.counters
        cost = b.zeros((E * N,))
        act = actions["drivers"]
        go = xp.reshape(act[..., 0], (-1,)) > 0  # one strided pass over the choices; _to_station gathers flat
        can = w["status"] == IDLE

        # 1. drivers who set off for a station
        idx = xp.nonzero(can & go)[0]
        if idx.shape[0]:
            cost, counters = self._to_station(w, idx, act, t0, cost, counters)
        # 2. the others: follow the schedule (dynamic) or leave unserved (static)
        if p.mode == "dynamic":
            due = xp.reshape(w["next_dep"], (E, N)) <= t0[:, None]  # compared in 2-D: no broadcast copy of t0
            idx = xp.nonzero(can & ~go & xp.reshape(due, (-1,)))[0]
            if idx.shape[0]:
                cost, counters = self._depart(w, idx, t0, cost, counters)
        else:
            idx = xp.nonzero(can & ~go)[0]
            if idx.shape[0]:
                w.put("status", idx, GONE)
                cost = b.put(cost, idx, xp.take(cost, idx) + p.unserved_penalty)
                counters = self._count(counters, "unserved", xp.floor_divide(idx, N), xp.astype(idx * 0 + 1, f))
        # 3. arrivals at stations join the queues
        ends = xp.reshape(xp.reshape(w["t_free"], (E, N)) < t1[:, None], (-1,))  # activities ending in the step
        idx = xp.nonzero((w["status"] == TO_STATION) & ends)[0]
        plug_free = state.plug_free
        if idx.shape[0]:
            cost, counters, plug_free = self._join(w, idx, noise, cost, counters, plug_free)
            ends = b.put(ends, idx, w.take("t_free", idx) < xp.take(t1, xp.floor_divide(idx, N)))  # their charges
        # 4. charges and trips that end within the step
        status = w["status"]
        idx = xp.nonzero(((status == AT_STATION) | (status == TRIP)) & ends)[0]
        if idx.shape[0]:
            self._finish(w, idx)
        # 5. the end of the day: shortfall below the wanted state of charge
        last = t == p.horizon - 1
        if p.mode == "dynamic" and bool(xp.any(last)):
            status = w["status"]
            have = w["soc"] + xp.where(status == AT_STATION, w["energy"], 0.0)
            short = xp.clip(p.end_soc * p.battery_kwh - have, 0.0, None)
            ends = xp.reshape(xp.broadcast_to(last[:, None], (E, N)), (-1,)) & (status != STRANDED)
            cost = cost + xp.where(ends, p.shortfall_penalty * short, 0.0)
        total = xp.sum(xp.reshape(cost, (E, N)), axis=1)
        counters = counters + xp.reshape(total, (E, 1)) * self._unit("cost")[None, :]
        new = w.state_out(plug_free=plug_free, counters=counters, clock=t1)
        if p.mode == "steady":
            new = self._admit(new, noise["arrivals"], t1)
        rewards = -xp.reshape(cost, (E, N))
        welfare = -total
        if p.mode == "steady":
            welfare = welfare / self.expected_requests
        return StepOutput(new, {"drivers": rewards}, welfare, terminated=last)  # the day (or the batch) is over

    def _to_station(self, w: _Fields, idx: Array, act: Array, t0: Array, cost: Array,
                    counters: Array) -> tuple[Array, Array]:
        p, b, xp = self.params, self.backend, self.xp
        N, K = p.n_drivers, self.K
        env = xp.floor_divide(idx, N)
        flat, heads = xp.reshape(act, (-1,)), act.shape[-1]  # gathering from the strided choice would copy it

        def head(h: int) -> Array:
            return xp.take(flat, idx * heads + h)

        opt = xp.astype(w.take("node", idx), xp.int64) * K + head(0) - 1
        s = xp.take(self.opt_station, opt)
        minutes = xp.take(self.opt_minutes, opt)
        vot = w.take("vot", idx)
        trip_cost = vot * minutes / 60.0
        if p.mode == "dynamic":
            soc = w.take("soc", idx)
            need = minutes / p.edge_minutes * self.kwh_per_edge
            ok = soc >= need
            target = xp.take(self.targets, head(1))
            left = soc - need
            trip_cost = trip_cost + p.energy_value * need  # the energy driven away is worth energy_value
            w.put("soc", idx, xp.where(ok, left, soc))
            w.put("energy", idx, xp.where(ok, xp.clip(target - left, 0.0, None), 0.0))
            arrive = xp.take(xp.astype(t0, b.dtype), env) + minutes
            trip_cost = xp.where(ok, trip_cost, p.strand_penalty)
            counters = self._count(counters, "stranded", env, xp.astype(~ok, b.dtype))
            counters = self._count(counters, "driven_kwh", env, xp.where(ok, need, 0.0))
            w.put("status", idx, xp.where(ok, TO_STATION, xp.zeros_like(idx) + STRANDED))
        else:
            # steady: leave at the request time; one-shot: the queue order is random whatever the detour (B4)
            arrive = w.take("t_free", idx) + minutes if p.mode == "steady" else xp.take(t0, env)
            w.put("status", idx, TO_STATION)
        w.put("station", idx, s)
        w.put("t_free", idx, arrive)
        return b.put(cost, idx, xp.take(cost, idx) + trip_cost), counters

    def _depart(self, w: _Fields, idx: Array, t0: Array, cost: Array, counters: Array) -> tuple[Array, Array]:
        p, b, xp = self.params, self.backend, self.xp
        N = p.n_drivers
        env = xp.floor_divide(idx, N)
        trip = w.take("trip", idx)
        rows = {name: w.take(name, idx) for name in ("dep", "dest", "kwh")}  # (m, T)

        def column(a: Array, j: Array, fill: Any) -> Array:
            out = xp.zeros_like(a[:, 0]) + fill
            for k in range(self.T):
                out = xp.where(j == k, a[:, k], out)
            return out

        dest = column(rows["dest"], trip, 0)
        node = w.take("node", idx)
        hops = self._hops(node, dest)
        need = hops * self.kwh_per_edge
        soc = w.take("soc", idx)
        ok = soc >= need
        now = xp.take(t0, env)
        late = now - w.take("next_dep", idx)
        w.put("status", idx, xp.where(ok, TRIP, xp.zeros_like(idx) + STRANDED))
        w.put("soc", idx, xp.where(ok, soc - need, soc))
        w.put("node", idx, xp.where(ok, dest, node))
        w.put("t_free", idx, now + hops * p.edge_minutes)
        nxt = trip + 1
        w.put("trip", idx, nxt)
        w.put("next_dep", idx, column(rows["dep"], nxt, float("inf")))
        w.put("next_kwh", idx, column(rows["kwh"], nxt, 0.0))
        w.put("rem_kwh", idx, xp.clip(w.take("rem_kwh", idx) - column(rows["kwh"], trip, 0.0), 0.0, None))
        counters = self._count(counters, "stranded", env, xp.astype(~ok, b.dtype))
        counters = self._count(counters, "driven_kwh", env, xp.where(ok, need, 0.0))
        add = xp.where(ok, w.take("vot", idx) * late / 60.0 + p.energy_value * need, p.strand_penalty)
        return b.put(cost, idx, xp.take(cost, idx) + add), counters

    def _join(self, w: _Fields, idx: Array, noise: Any, cost: Array, counters: Array,
              plug_free: Array) -> tuple[Array, Array, Array]:
        p, b, xp = self.params, self.backend, self.xp
        N, S = p.n_drivers, self.S
        E = plug_free.shape[0]
        env = xp.floor_divide(idx, N)
        s = w.take("station", idx)
        arrive = w.take("t_free", idx)
        energy = w.take("energy", idx)
        minutes = energy / xp.take(self.power, s) * 60.0
        if "service" in noise:
            minutes = minutes * -xp.log(1.0 - xp.take(xp.reshape(noise["service"], (-1,)), idx))
        key = xp.take(xp.reshape(noise["order"], (-1,)), idx) if "order" in noise else None
        start, finish, pf = fifo_assign(b, xp.reshape(plug_free, (E * S, self.C)), env * S + s, arrive, minutes, key)
        vot = w.take("vot", idx)
        wait = start - arrive
        value = p.energy_value if p.mode == "dynamic" else 0.0  # static modes: B3's costs, prices as real costs
        add = vot * (wait + minutes) / 60.0 + (xp.take(self.price, s) - value) * energy
        w.put("status", idx, AT_STATION)
        w.put("t_start", idx, start)
        w.put("t_free", idx, finish)
        one = xp.astype(idx * 0 + 1, b.dtype)
        counters = self._count(counters, "served", env, one)
        counters = self._count(counters, "energy_kwh", env, energy)
        counters = self._count(counters, "wait_h", env, wait / 60.0)
        return b.put(cost, idx, xp.take(cost, idx) + add), counters, xp.reshape(pf, plug_free.shape)

    def _finish(self, w: _Fields, idx: Array) -> None:
        p, xp = self.params, self.xp
        status = w.take("status", idx)
        charged = status == AT_STATION
        w.put("soc", idx, w.take("soc", idx) + xp.where(charged, w.take("energy", idx), 0.0))
        w.put("energy", idx, xp.where(charged, 0.0, w.take("energy", idx)))
        done = IDLE if p.mode == "dynamic" else GONE
        w.put("status", idx, xp.where(charged, done, xp.zeros_like(status) + IDLE))
        if p.mode == "dynamic":  # a charged driver is idle at its station's node
            station = w.take("station", idx)
            st_node = xp.take(self.station_node, xp.clip(station, 0, None))
            w.put("node", idx, xp.where(charged, st_node, w.take("node", idx)))
        w.put("station", idx, xp.where(charged, -1, w.take("station", idx)))

    # ------------------------------------------------------------------ observations
    def station_waits(self, state: EVState, t0: Array) -> Array:
        """Minutes until the first plug frees at each station, ``(E, S)``."""
        xp = self.xp
        return xp.clip(xp.min(state.plug_free, axis=2) - t0[:, None], 0.0, None)

    def observe(self, state: EVState) -> dict[str, Array]:
        """Features are written feature-major, ``(F, E, N)``, and returned as an ``(E, N, F)`` view: every
        feature is one contiguous pass, where writing an agent-major array column by column is strided
        (4x slower at a million drivers)."""
        p, b, xp = self.params, self.backend, self.xp
        E, N = state.status.shape
        f32 = xp.float32
        now = xp.reshape(state.clock, (E, 1))
        shape = (obs_dim(p), E, N)
        if self._obs_pool is not None:
            out = self._obs_pool.empty(shape, np.float32)
        else:
            out = xp.empty(shape, dtype=f32, device=b.device)
        B = p.battery_kwh
        busy = state.status != IDLE
        out[0, ...] = xp.astype(~busy, f32, copy=False)
        out[1, ...] = xp.astype((state.energy if p.mode != "dynamic" else state.soc) / B, f32, copy=False)
        out[2, ...] = xp.astype(state.rem_kwh / B, f32, copy=False)
        out[3, ...] = xp.astype(state.next_kwh / B, f32, copy=False)
        out[4, ...] = xp.astype(xp.clip((state.next_dep - now) / 60.0, 0.0, 24.0), f32, copy=False)
        out[5, ...] = xp.astype(xp.broadcast_to(now / (p.horizon * p.step_minutes), (E, N)), f32, copy=False)
        out[6, ...] = xp.astype(state.vot / max(p.vot_classes), f32, copy=False)
        out[7, ...] = xp.astype(xp.clip((state.t_free - now) / 60.0, 0.0, None), f32, copy=False)  # 0 once it ended
        self._options(state, out)
        return {"drivers": xp.permute_dims(out, (1, 2, 0))}

    def _options(self, state: EVState, out: Array) -> None:
        """Writes the per-option block, rows ``N_OWN:`` of ``out``: a small table per place, gathered by each
        driver's place (NumPy gathers straight into ``out``: the block is most of what a step writes)."""
        b, xp = self.backend, self.xp
        E, N = state.status.shape
        P, K = self.city.n_places, self.K
        first_free = xp.min(state.plug_free, axis=2)  # (E, S)
        at = xp.reshape(xp.take(first_free, self.opt_station, axis=1), (E, P, K))
        arrive = xp.reshape(state.clock, (E, 1, 1)) + xp.reshape(self.opt_minutes, (1, P, K))
        wait_h = xp.clip(at - arrive, 0.0, None) / 60.0
        table = xp.broadcast_to(self._static_options[None, ...], (E, P, K, 4))
        table = xp.stack([table[..., 0], wait_h, table[..., 2], table[..., 3]], axis=-1)  # (E, P, K, 4)
        table = xp.astype(xp.reshape(xp.permute_dims(table, (2, 3, 0, 1)), (4 * K, E * P)), xp.float32)
        node = xp.where(state.status == GONE, 0, state.node) if self.params.mode == "steady" else state.node
        if E > 1:
            node = xp.reshape(xp.arange(E, dtype=xp.int64, device=b.device), (E, 1)) * P + node
        place = xp.reshape(node, (-1,))
        if b.name == "numpy":
            np.take(table, place, axis=1, out=xp.reshape(out, (out.shape[0], E * N))[N_OWN:], mode="wrap")  # in range: no check
        else:
            out[N_OWN:, ...] = xp.reshape(xp.take(table, xp.astype(place, xp.int64), axis=1), (4 * K, E, N))

    def action_masks(self, state: EVState) -> dict[str, Array]:
        p, b, xp = self.params, self.backend, self.xp
        E, N = state.status.shape
        can = state.status == IDLE
        parts = [xp.ones((E, N, 1), dtype=xp.bool, device=b.device),
                 xp.broadcast_to(can[..., None], (E, N, self.K))]
        if p.mode == "dynamic":
            parts.append(xp.ones((E, N, len(p.charge_targets)), dtype=xp.bool, device=b.device))
        return {"drivers": xp.concat(parts, axis=-1)}
