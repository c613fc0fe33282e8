"""The one-shot batch game (EVCharging-Batch-v0; ev_charging.md §2(b), ev_charging.md §5): N EVs request a charge at once and pick a station.

Driver ``i`` is place ``i`` of the city (its own detours). Everyone arrives
at the start of the step whatever the detour, and each station serves its
EVs first come, first served in a uniformly random order (a random key per
driver and step), so the waits are the atomic game's ``floor(k / c)`` service
times and the total cost is the game's exactly (``solution.BatchGame``).
"""

from __future__ import annotations

from econbench.backend import BackendRNG
from econbench.core import Array
from econbench.envs.ev_charging.dynamics.common import Head, StaticDynamics
from econbench.envs.ev_charging.dynamics.state import IDLE, TO_STATION, EVState, Fields


class BatchDynamics(StaticDynamics):
    """N EVs, one decision each (horizon 1), a random FIFO order at each station."""

    def initial_state(self, rng: BackendRNG, n_envs: int) -> EVState:
        """Every EV holds its request from the start (``requests`` counts them)."""
        p, b, xp = self.params, self.backend, self.xp
        E, N = n_envs, p.n_drivers
        i8, i32 = xp.int8, xp.int32
        zeros, plug, counters, clock = self._empty_state(E)
        inf = xp.full((E, N), float("inf"), dtype=b.dtype, device=b.device)
        empty_f, empty_i = b.zeros((E, N, 0)), self._ints(0, i32, (E, N, 0))
        node = xp.broadcast_to(xp.arange(N, dtype=i32, device=b.device)[None, :], (E, N))
        node = xp.asarray(node, copy=True)
        counters = counters + float(N) * self._unit("requests")[None, :]
        return EVState(
            self._ints(IDLE, i8, (E, N)),
            node,
            self._ints(-1, i32, (E, N)),
            self._ints(0, i8, (E, N)),
            zeros,
            zeros,
            zeros,
            zeros + p.energy_kwh,
            zeros + p.vot_classes[0],
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

    def _noise_widths(self) -> dict[str, int]:
        widths = super()._noise_widths()
        widths["order"] = self.params.n_drivers  # the random FIFO order at each station
        return widths

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
        """Everyone arrives at once: the queue order is random whatever the detour (ev_charging.md §5)."""
        w.put("status", idx, TO_STATION)
        return self.xp.take(t0, env), trip_cost, counters
