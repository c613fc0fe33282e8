"""What the three EV models share: the state, the station queues, the step's skeleton, observations and masks.

Time runs in minutes from the start of the episode; a step covers
``[t0, t0 + step_minutes)``. Decisions are taken at ``t0`` by the drivers who
can act (idle in the day, holding a request in the static models);
everything else is an event with an exact time: arriving at a station,
starting and ending a charge, arriving at a trip's destination. Arrivals are
queued in the step in which they happen, in order of their exact times, by
:func:`~econbench.envs.ev_charging.queues.fifo_assign`, so the queues are
exact FIFO queues whatever the step length; this is what lets the static
models reproduce Erlang C (steady) and the batch game (one-shot) exactly.

Events touch few drivers per step, so they are found with ``nonzero`` and
written back with ``Backend.put`` into copies of the fields they change: a
step costs a handful of passes over the drivers, not one per field.

:class:`EVDynamics` is the base of the models (``day.py``, ``steady.py``,
``batch.py``); each overrides the few hooks where they differ: the initial
state, what a driver who goes to a station pays on the way and when it
arrives, what happens to those who do not, what a finished charge leaves,
and the end of the step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from econbench.backend import BackendRNG, BufferPool
from econbench.core import Array, Dynamics, GroupSpec, StepOutput, mask_error
from econbench.envs.ev_charging.city import build_city
from econbench.envs.ev_charging.dynamics.state import (
    AT_STATION,
    COUNTERS,
    GONE,
    IDLE,
    N_OWN,
    TO_STATION,
    TRIP,
    EVState,
    Fields,
    obs_dim,
)
from econbench.envs.ev_charging.params import EVParams
from econbench.envs.ev_charging.queues import fifo_assign

Head = Callable[[int], Array]  # h -> the chosen value of action head h for the drivers being moved


class EVDynamics(Dynamics):
    """One step of every environment's drivers and stations (see the module docstring); a base class.

    NumPy observations are written into buffers recycled once no caller holds them
    (:class:`~econbench.backend.BufferPool`): a fresh 80 MB array per step at a million drivers spends a
    sixth of the step in page faults.
    """

    params: EVParams
    T = 0  # trips per driver and day
    DONE = IDLE  # the status a finished charge leaves
    CHARGE_FIELD = "soc"  # own feature 1: this field / battery_kwh

    def __init__(self, params: EVParams, backend: Any) -> None:
        super().__init__(params, backend)
        p, b, xp = params, backend, backend.xp
        city = build_city(p)
        self.city = city
        self.S, self.C = city.plugs.size, int(city.plugs.max())
        self.K = city.option_station.shape[1]
        free = np.where(np.arange(self.C)[None, :] < city.plugs[:, None], 0.0, np.inf)
        self._plug0 = free
        i64 = xp.int64
        self.opt_station = b.asarray(city.option_station.reshape(-1), dtype=i64)  # (P*K,)
        self.opt_minutes = b.asarray(city.option_minutes.reshape(-1))
        self.station_node = b.asarray(city.station_node, dtype=i64)
        self.power = b.asarray(city.power_kw)
        self.price = b.asarray(city.price)
        static = np.stack(
            [
                city.option_minutes / 60.0,
                np.zeros_like(city.option_minutes),
                city.price[city.option_station],
                city.power_kw[city.option_station] / 100.0,
            ],
            axis=-1,
        )
        self._static_options = b.asarray(static)  # (P, K, 4); the wait column is filled per step
        self.targets = b.asarray(np.asarray(p.charge_targets) * p.battery_kwh)
        self.vot_classes = b.asarray(np.asarray(p.vot_classes))
        self.kwh_per_edge = p.edge_km * p.kwh_per_km
        self._obs_pool = BufferPool() if b.name == "numpy" else None

    @staticmethod
    def action_nvec(p: EVParams) -> tuple[int, ...]:
        """Head 0: 0 = no station (the static models: leave unserved), k = the k-th option."""
        return (p.n_options + 1,)

    # ------------------------------------------------------------------ helpers
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

    def _ints(self, value: int, dtype: Any, shape: tuple[int, ...]) -> Array:
        return self.xp.full(shape, value, dtype=dtype, device=self.backend.device)

    def _empty_state(self, n_envs: int) -> tuple[Array, Array, Array, Array]:
        """``(zeros (E, N), plugs all free, counters at zero, clock at zero)``."""
        b, xp = self.backend, self.xp
        E, N = n_envs, self.params.n_drivers
        zeros = b.zeros((E, N))
        plug = xp.broadcast_to(b.asarray(self._plug0)[None, ...], (E, self.S, self.C))
        plug = xp.asarray(plug, copy=True)
        return zeros, plug, b.zeros((E, len(COUNTERS))), b.zeros((E,))

    # ------------------------------------------------------------------ noise
    def draw_noise(self, rng: BackendRNG, n_envs: int) -> Any:
        """One ``(E, L)`` array of uniforms (the backends test moves noise as one array); see :meth:`_noise`."""
        width = sum(n for n in self._noise_widths().values())
        return rng.uniform((n_envs, width)) if width else None

    def _noise_widths(self) -> dict[str, int]:
        """Uniforms per env: steady arrivals, exponential service times and the one-shot queue order."""
        p = self.params
        return {"arrivals": 0, "service": p.n_drivers if p.service == "exponential" else 0, "order": 0}

    def _noise(self, noise: Array | None) -> dict[str, Array]:
        """Named slices of the step's uniforms, ``(E, width)``."""
        if noise is None:
            return {}
        out, at = {}, 0
        for name, width in self._noise_widths().items():
            if width:
                out[name] = noise[:, at : at + width]
                at += width
        return out

    # ------------------------------------------------------------------ step
    def step(self, state: EVState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p, b, xp = self.params, self.backend, self.xp
        E, N = state.status.shape
        f = b.dtype
        t0 = xp.astype(t, f) * p.step_minutes
        t1 = t0 + p.step_minutes
        w = Fields(self, state)
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
        # 2. the others: follow the schedule (day) or leave unserved (static models)
        cost, counters = self._stay(w, can & ~go, t0, cost, counters)
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
        last = t == p.horizon - 1
        cost = self._end_of_step(w, last, cost)
        total = xp.sum(xp.reshape(cost, (E, N)), axis=1)
        counters = counters + xp.reshape(total, (E, 1)) * self._unit("cost")[None, :]
        new = self._after_step(w.state_out(plug_free=plug_free, counters=counters, clock=t1), noise, t1)
        rewards = -xp.reshape(cost, (E, N))
        return StepOutput(
            new, {"drivers": rewards}, self._welfare(total), terminated=last
        )  # the day (or the batch) is over

    def _to_station(
        self, w: Fields, idx: Array, act: Array, t0: Array, cost: Array, counters: Array
    ) -> tuple[Array, Array]:
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
        arrive, trip_cost, counters = self._set_off(w, idx, env, head, minutes, trip_cost, t0, counters)
        w.put("station", idx, s)
        w.put("t_free", idx, arrive)
        return b.put(cost, idx, xp.take(cost, idx) + trip_cost), counters

    def _set_off(
        self,
        w: Fields,
        idx: Array,
        env: Array,
        head: Head,
        minutes: Array,
        trip_cost: Array,
        t0: Array,
        counters: Array,
    ) -> tuple[Array, Array, Array]:
        """Drivers ``idx`` leave for their stations, ``minutes`` away: writes their status (and what the
        trip changes); returns ``(arrival times, trip costs, counters)``."""
        raise NotImplementedError

    def _stay(self, w: Fields, stay: Array, t0: Array, cost: Array, counters: Array) -> tuple[Array, Array]:
        """Drivers who could act and chose no station (``stay``, flat booleans)."""
        raise NotImplementedError

    def _join(
        self, w: Fields, idx: Array, noise: Any, cost: Array, counters: Array, plug_free: Array
    ) -> tuple[Array, Array, Array]:
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
        value = self._energy_credit()
        add = vot * (wait + minutes) / 60.0 + (xp.take(self.price, s) - value) * energy
        w.put("status", idx, AT_STATION)
        w.put("t_start", idx, start)
        w.put("t_free", idx, finish)
        one = xp.astype(idx * 0 + 1, b.dtype)
        counters = self._count(counters, "served", env, one)
        counters = self._count(counters, "energy_kwh", env, energy)
        counters = self._count(counters, "wait_h", env, wait / 60.0)
        return b.put(cost, idx, xp.take(cost, idx) + add), counters, xp.reshape(pf, plug_free.shape)

    def _energy_credit(self) -> float:
        """$/kWh a charge earns back (the static models: none, ev_charging.md §4's costs with prices as real costs)."""
        return 0.0

    def _finish(self, w: Fields, idx: Array) -> None:
        xp = self.xp
        status = w.take("status", idx)
        charged = status == AT_STATION
        w.put("soc", idx, w.take("soc", idx) + xp.where(charged, w.take("energy", idx), 0.0))
        w.put("energy", idx, xp.where(charged, 0.0, w.take("energy", idx)))
        w.put("status", idx, xp.where(charged, self.DONE, xp.zeros_like(status) + IDLE))
        self._charged(w, idx, charged)
        w.put("station", idx, xp.where(charged, -1, w.take("station", idx)))

    def _charged(self, w: Fields, idx: Array, charged: Array) -> None:
        """Drivers ``idx`` finished a charge (``charged``) or a trip; their station is still written."""

    def _end_of_step(self, w: Fields, last: Array, cost: Array) -> Array:
        """Costs due at the end of the step (``last``: the episode's last step, per env)."""
        return cost

    def _after_step(self, new: EVState, noise: Mapping[str, Array], t1: Array) -> EVState:
        """The state the next step starts from."""
        return new

    def _welfare(self, total: Array) -> Array:
        """Welfare per env from the step's total cost."""
        return -total

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
        out[1, ...] = xp.astype(getattr(state, self.CHARGE_FIELD) / B, f32, copy=False)
        out[2, ...] = xp.astype(state.rem_kwh / B, f32, copy=False)
        out[3, ...] = xp.astype(state.next_kwh / B, f32, copy=False)
        out[4, ...] = xp.astype(xp.clip((state.next_dep - now) / 60.0, 0.0, 24.0), f32, copy=False)
        out[5, ...] = xp.astype(xp.broadcast_to(now / (p.horizon * p.step_minutes), (E, N)), f32, copy=False)
        out[6, ...] = xp.astype(state.vot / max(p.vot_classes), f32, copy=False)
        out[7, ...] = xp.astype(xp.clip((state.t_free - now) / 60.0, 0.0, None), f32, copy=False)  # 0 once it ended
        self._options(state, out)
        return {"drivers": xp.permute_dims(out, (1, 2, 0))}

    def _places(self, state: EVState) -> Array:
        """Each driver's place, ``(E, N)``: the row of the option tables it sees."""
        return state.node

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
        node = self._places(state)
        if E > 1:
            node = xp.reshape(xp.arange(E, dtype=xp.int64, device=b.device), (E, 1)) * P + node
        place = xp.reshape(node, (-1,))
        if b.name == "numpy":
            np.take(
                table, place, axis=1, out=xp.reshape(out, (out.shape[0], E * N))[N_OWN:], mode="wrap"
            )  # in range: no check
        else:
            out[N_OWN:, ...] = xp.reshape(xp.take(table, xp.astype(place, xp.int64), axis=1), (4 * K, E, N))

    def action_masks(self, state: EVState) -> dict[str, Array]:
        return {"drivers": self.xp.concat(self._mask_heads(state), axis=-1)}

    def check_masks(
        self,
        state: EVState,
        actions: Mapping[str, Array],
        t: Array,
        groups: Sequence[GroupSpec],
        where: Array | None = None,
    ) -> None:
        """Only head 0's options can be forbidden, and only to drivers who cannot act: one comparison per driver,
        where the generic check builds every head's mask and gathers from it (a quarter of a step at a million
        drivers)."""
        if not groups:
            return
        b, xp = self.backend, self.xp
        chosen = actions["drivers"][..., 0]
        bad = (chosen != 0) & (state.status != IDLE)
        if where is not None:
            bad = bad & where
        if not bool(xp.any(bad)):
            return
        env, agent = (int(v[0]) for v in np.nonzero(b.to_numpy(bad)))
        row = b.to_numpy(self.action_masks(state)["drivers"][env, agent, : self.K + 1])
        raise mask_error("drivers", agent, env, 0, int(b.to_numpy(chosen)[env, agent]), row)

    def _mask_heads(self, state: EVState) -> list[Array]:
        """Head 0's mask: "no station" always, the options only to drivers who can act."""
        b, xp = self.backend, self.xp
        E, N = state.status.shape
        can = state.status == IDLE
        return [xp.ones((E, N, 1), dtype=xp.bool, device=b.device), xp.broadcast_to(can[..., None], (E, N, self.K))]


class StaticDynamics(EVDynamics):
    """The static models' shared rules (ev_charging.md §4/ev_charging.md §5): a driver holds one request, decides once and leaves once served."""

    DONE = GONE  # a served request leaves
    CHARGE_FIELD = "energy"  # own feature 1: the energy requested

    def _stay(self, w: Fields, stay: Array, t0: Array, cost: Array, counters: Array) -> tuple[Array, Array]:
        """A request that picks no station leaves unserved and pays ``unserved_penalty``."""
        p, b, xp = self.params, self.backend, self.xp
        N = p.n_drivers
        idx = xp.nonzero(stay)[0]
        if idx.shape[0]:
            w.put("status", idx, GONE)
            cost = b.put(cost, idx, xp.take(cost, idx) + p.unserved_penalty)
            counters = self._count(counters, "unserved", xp.floor_divide(idx, N), xp.astype(idx * 0 + 1, b.dtype))
        return cost, counters
