"""The steady-state queue (EVCharging-Steady-v0; ev_charging.md §2(a), ev_charging.md §4): Poisson charging requests choose a station once.

Agents are slots: a request arrives as a Poisson event, takes a free slot
(``GONE`` while free; a request that finds none is lost), decides at the
first step after it arrives and leaves its slot once charged or unserved. It
leaves for the station at its request time, so with exponential service the
stations are M/M/c queues and the long-run cost per request is the
Beckmann-Wardrop formula's (``solution.py``). Welfare is the step's cost per
expected request of the episode.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from econbench.backend import BackendRNG
from econbench.core import Array
from econbench.envs.ev_charging.dynamics.common import Head, StaticDynamics
from econbench.envs.ev_charging.dynamics.state import GONE, IDLE, TO_STATION, EVState, Fields
from econbench.envs.ev_charging.params import EVParams


class SteadyDynamics(StaticDynamics):
    """Poisson requests in agent slots, every station offered, ev_charging.md §4's costs (prices as real costs)."""

    def __init__(self, params: EVParams, backend: object) -> None:
        super().__init__(params, backend)
        p, b, xp = params, self.backend, self.xp
        demand = np.asarray(p.origin_demand, dtype=float).reshape(-1)  # (origins * classes,) EV/h
        self._rate = demand / 60.0  # per minute
        mean = float(self._rate.max()) * p.step_minutes
        self.max_arrivals = int(np.ceil(mean + 10.0 * np.sqrt(mean) + 10.0))  # P(more) < 1e-12 per window
        self._rate_b = b.asarray(np.where(self._rate > 0, self._rate, 1.0))
        self._rate_on = b.asarray(self._rate > 0, dtype=xp.bool)
        self.expected_requests = float(demand.sum()) * p.horizon * p.step_minutes / 60.0

    def initial_state(self, rng: BackendRNG, n_envs: int) -> EVState:
        """Every slot free (``GONE``); the first window's requests take slots."""
        b, xp = self.backend, self.xp
        E, N = n_envs, self.params.n_drivers
        i8, i32 = xp.int8, xp.int32
        zeros, plug, counters, clock = self._empty_state(E)
        inf = xp.full((E, N), float("inf"), dtype=b.dtype, device=b.device)
        empty_f, empty_i = b.zeros((E, N, 0)), self._ints(0, i32, (E, N, 0))
        state = EVState(
            self._ints(GONE, i8, (E, N)),
            self._ints(0, i32, (E, N)),
            self._ints(-1, i32, (E, N)),
            self._ints(0, i8, (E, N)),
            zeros,
            zeros,
            zeros,
            zeros,
            zeros,
            inf,
            zeros,
            zeros,
            empty_f,
            empty_i,
            empty_f,
            plug,
            clock,
            counters,
        )
        return self._admit(state, self._arrival_draws(rng, E), b.zeros((E,)))

    # ------------------------------------------------------------------ requests
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
        w = Fields(self, state)
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

    def _noise_widths(self) -> dict[str, int]:
        widths = super()._noise_widths()
        widths["arrivals"] = self._rate.size * self.max_arrivals
        return widths

    def _noise(self, noise: Array | None) -> dict[str, Array]:
        """The arrivals' uniforms as ``(E, R, M)``: origin-class pairs by candidate arrivals."""
        out = super()._noise(noise)
        if "arrivals" in out:
            out["arrivals"] = self.xp.reshape(out["arrivals"], (noise.shape[0], self._rate.size, self.max_arrivals))
        return out

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
        """A request leaves at its request time."""
        w.put("status", idx, TO_STATION)
        return w.take("t_free", idx) + minutes, trip_cost, counters

    def _after_step(self, new: EVState, noise: Mapping[str, Array], t1: Array) -> EVState:
        """The next window's requests take free slots."""
        return self._admit(new, noise["arrivals"], t1)

    def _welfare(self, total: Array) -> Array:
        """Per expected request of the episode."""
        return -total / self.expected_requests

    def _places(self, state: EVState) -> Array:
        """A free slot reads origin 0's options (its own row is stale)."""
        return self.xp.where(state.status == GONE, 0, state.node)
