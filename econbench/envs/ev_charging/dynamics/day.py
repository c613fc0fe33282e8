"""The day with trips (EVCharging-v0, -Driver, -LargeCity; ev_charging.md §2): commuters, their trips and the station queues.

Each driver has a home and a workplace, a morning and an evening departure
and a battery. An idle driver either follows its schedule (departing once
its next trip is due) or sets off for a station with a charge target.

Costs are dollars, charged when they become certain: travel at departure,
waiting, plugged time and energy when the EV joins a queue (its whole service
is then known), lateness when a trip leaves after its scheduled time, the
stranding penalty when a trip cannot be driven, and the shortfall below the
wanted state of charge at the end of the day. The battery's energy is worth
``energy_value``: driving spends it and charging earns it back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from econbench.backend import BackendRNG
from econbench.core import Array
from econbench.envs.ev_charging.dynamics.common import EVDynamics, Head
from econbench.envs.ev_charging.dynamics.state import AT_STATION, IDLE, STRANDED, TO_STATION, TRIP, EVState, Fields
from econbench.envs.ev_charging.params import EVParams


class DayDynamics(EVDynamics):
    """A day of commutes: two trips per driver, charge targets, stranding and the end-of-day shortfall."""

    T = 2  # to work and back home
    DONE = IDLE  # a charged driver is idle at its station's node
    CHARGE_FIELD = "soc"

    @staticmethod
    def action_nvec(p: EVParams) -> tuple[int, ...]:
        """Head 0: 0 = no station (follow the schedule), k = the k-th option; head 1: the charge target,
        an index into ``charge_targets``."""
        return (p.n_options + 1, len(p.charge_targets))

    def _hops(self, a: Array, c: Array) -> Array:
        xp, G = self.xp, self.params.grid
        d = xp.abs(xp.remainder(a, G) - xp.remainder(c, G)) + xp.abs(xp.floor_divide(a, G) - xp.floor_divide(c, G))
        return xp.astype(d, self.backend.dtype)

    def _draw_class(self, u: Array) -> Array:
        xp = self.xp
        cum = np.cumsum(self.params.vot_shares)
        vot = xp.zeros_like(u) + self.params.vot_classes[-1]
        for c in reversed(range(len(cum) - 1)):
            vot = xp.where(u < float(cum[c]), self.params.vot_classes[c], vot)
        return vot

    def initial_state(self, rng: BackendRNG, n_envs: int) -> EVState:
        """Small integer types (status and trip int8, places and stations int32): a step reads the status of
        every driver several times, and a million int8 are 1 MB where int64 would be 8."""
        p, xp = self.params, self.xp
        E, N = n_envs, p.n_drivers
        i8, i32 = xp.int8, xp.int32
        zeros, plug, counters, clock = self._empty_state(E)
        u = rng.uniform((E, N, 4))
        z = rng.normal((E, N, 2))
        n_nodes = p.grid**2
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
        return EVState(
            self._ints(IDLE, i8, (E, N)),
            home,
            self._ints(-1, i32, (E, N)),
            self._ints(0, i8, (E, N)),
            zeros,
            zeros,
            soc,
            zeros,
            vot,
            dep[..., 0],
            leg,
            2.0 * leg,
            dep,
            dest,
            kwh,
            plug,
            clock,
            counters,
        )

    # ------------------------------------------------------------------ step hooks
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
        """The drive spends energy (stranded if the battery cannot cover it); head 1 sets the charge."""
        p, b, xp = self.params, self.backend, self.xp
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
        return arrive, trip_cost, counters

    def _stay(self, w: Fields, stay: Array, t0: Array, cost: Array, counters: Array) -> tuple[Array, Array]:
        """Those whose next trip is due depart."""
        xp = self.xp
        E, N = w.state.status.shape
        due = xp.reshape(w["next_dep"], (E, N)) <= t0[:, None]  # compared in 2-D: no broadcast copy of t0
        idx = xp.nonzero(stay & xp.reshape(due, (-1,)))[0]
        if idx.shape[0]:
            cost, counters = self._depart(w, idx, t0, cost, counters)
        return cost, counters

    def _depart(self, w: Fields, idx: Array, t0: Array, cost: Array, counters: Array) -> tuple[Array, Array]:
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

    def _energy_credit(self) -> float:
        return self.params.energy_value

    def _charged(self, w: Fields, idx: Array, charged: Array) -> None:
        """A charged driver is at its station's node."""
        xp = self.xp
        station = w.take("station", idx)
        st_node = xp.take(self.station_node, xp.clip(station, 0, None))
        w.put("node", idx, xp.where(charged, st_node, w.take("node", idx)))

    def _end_of_step(self, w: Fields, last: Array, cost: Array) -> Array:
        """The end of the day: the shortfall below the wanted state of charge."""
        p, xp = self.params, self.xp
        if not bool(xp.any(last)):
            return cost
        E, N = w.state.status.shape
        status = w["status"]
        have = w["soc"] + xp.where(status == AT_STATION, w["energy"], 0.0)
        short = xp.clip(p.end_soc * p.battery_kwh - have, 0.0, None)
        ends = xp.reshape(xp.broadcast_to(last[:, None], (E, N)), (-1,)) & (status != STRANDED)
        return cost + xp.where(ends, p.shortfall_penalty * short, 0.0)

    def _mask_heads(self, state: EVState) -> list[Array]:
        """Every charge target is always allowed."""
        b, xp = self.backend, self.xp
        E, N = state.status.shape
        return super()._mask_heads(state) + [
            xp.ones((E, N, len(self.params.charge_targets)), dtype=xp.bool, device=b.device)
        ]
