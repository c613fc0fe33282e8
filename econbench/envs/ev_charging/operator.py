"""EVCharging-Operator-v0: a planner tolls EV charging stations hour by hour; drivers answer with a Wardrop equilibrium.

Specification: ``docs/models/ev_operator.md`` (ev_charging.md §4, Example 1 of
§6). One origin, one value of time, M/M/c stations (Erlang C waits). Each
hour the operator posts a toll per station ($/EV, on top of the energy
price); that hour's nonatomic demand settles in the user equilibrium under
the tolls (Beckmann et al. 1956), computed exactly by water-filling
(:func:`solution.wardrop_single`). Tolls are transfers, so the system cost
leaves them out while energy prices stay real costs (docs/models/ev_operator.md §2).
The Pigouvian tolls ``v x W'(x)`` at each hour's system optimum implement it,
so the optimum is known: the reward is minus the price of anarchy the hour
achieves, -1 at the optimum (a return of -24 a day, so the leaderboard's
relative gap is the mean excess per hour).

The equilibrium solve is scalar host work (scipy); the dynamics move the
tolls to NumPy explicitly and the rewards back, so every backend (a GPU or
array-api-strict's simulated device) gets the very same numbers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.cards import params_from_card
from econbench.core import Array, BoxSpec, Dynamics, GroupPolicy, GroupSpec, StepOutput, Task
from econbench.envs.ev_charging import solution
from econbench.validate import check_params, domain

GROUP = "operator"


# ---------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class OperatorParams:
    """Stations, drivers and the hourly demand profile; values live in ``tasks/EVCharging-Operator-v0.toml``.

    Sequences are stored as tuples so the parameters hash: the hourly optima
    are cached per parameter set (:func:`hourly_optimum`).
    """

    plugs: tuple[int, ...] = domain("[1, inf)")  # c_s
    power: tuple[float, ...] = domain("(0, inf)")  # P_s (kW)
    price: tuple[float, ...] = domain("[0, inf)")  # p_s ($/kWh), a real cost (marginal energy cost)
    detour: tuple[float, ...] = domain("[0, inf)")  # tau_s (h) from the single origin
    energy: float = domain("(0, inf)")  # e (kWh per EV)
    vot: float = domain("(0, inf)")  # v ($/h)
    demand: tuple[float, ...]  # EV/h in each hour of the day; the day repeats past its end
    toll_max: float = domain("(0, inf)")  # upper bound of every toll ($/EV)
    horizon: int = domain("[1, inf)")  # hours per episode
    discount: float = domain("(0, 1]")

    def __post_init__(self) -> None:
        for name, kind in (("plugs", int), ("power", float), ("price", float), ("detour", float), ("demand", float)):
            object.__setattr__(self, name, tuple(kind(v) for v in getattr(self, name)))
        check_params(self)
        n = len(self.plugs)
        if n == 0 or not len(self.power) == len(self.price) == len(self.detour) == n:
            raise ValueError(f"plugs, power, price and detour need one value per station, got lengths "
                             f"{len(self.plugs)}, {len(self.power)}, {len(self.price)}, {len(self.detour)}")
        if not self.demand:
            raise ValueError("demand needs at least one hourly value")
        cap = self.capacity
        bad = [d for d in self.demand if not 0.0 < d < cap]
        if bad:
            raise ValueError(f"hourly demand must lie in (0, {cap:g}) EV/h (the stations' capacity), got {bad}")

    @property
    def n_stations(self) -> int:
        return len(self.plugs)

    @property
    def n_hours(self) -> int:
        """Length of the daily profile; hour ``t`` of an episode uses ``demand[t % n_hours]``."""
        return len(self.demand)

    @property
    def capacity(self) -> float:
        """Total service capacity (EV/h): ``sum_s c_s P_s / e``; demand at or above it has no equilibrium."""
        return float(sum(c * P / self.energy for c, P in zip(self.plugs, self.power)))

    def instance(self, demand: float, tolls: Sequence[float] | None = None) -> solution.Instance:
        """That hour's one-origin instance; tolls enter as extra price per kWh (toll / e), which drivers pay."""
        price = self.price if tolls is None else tuple(p + t / self.energy for p, t in zip(self.price, tolls))
        return solution.Instance.single(solution.Stations(self.plugs, self.power, price), self.energy,
                                        self.detour, demand, self.vot)


# ---------------------------------------------------------------------------- exact references
@functools.lru_cache(maxsize=None)
def hourly_optimum(p: OperatorParams) -> tuple[np.ndarray, np.ndarray]:
    """Per hour of the profile: the system optimum's total cost ($/h) and its Pigouvian tolls ($/EV).

    Actions do not change the optimum, so it is solved once per parameter set.
    """
    cost, tolls = [], []
    for d in p.demand:
        inst = p.instance(d)
        so = solution.system_optimum_single(inst)
        cost.append(so.total_cost)
        tolls.append(solution.pigouvian_tolls(inst, so))
    out = np.asarray(cost), np.asarray(tolls)
    for a in out:
        a.setflags(write=False)
    return out


@functools.lru_cache(maxsize=1 << 16)
def tolled_cost(p: OperatorParams, demand: float, tolls: tuple[float, ...]) -> float:
    """Real total cost ($/h: time at the value of time plus energy, tolls excluded) of the equilibrium under ``tolls``.

    Cached because fixed policies repeat the same tolls every episode.
    """
    ue = solution.wardrop_single(p.instance(demand, tolls))
    return p.instance(demand).total_cost(ue.flows, prices_are_costs=True)


def hourly_poa(p: OperatorParams, hour: int, tolls: Sequence[float]) -> float:
    """``TC(UE under tolls) / TC(SO)`` at hour ``hour``'s demand: 1 at the optimum."""
    h = hour % p.n_hours
    return tolled_cost(p, p.demand[h], tuple(float(t) for t in tolls)) / float(hourly_optimum(p)[0][h])


# ---------------------------------------------------------------------------- dynamics
@dataclass(frozen=True)
class OperatorState:
    hour: Array  # (n_envs,) int64: hours elapsed in the episode


class OperatorDynamics(Dynamics):
    """The hour advances; the reward is ``-PoA`` of the hour under the posted tolls (welfare: the same)."""

    params: OperatorParams

    def __init__(self, params: OperatorParams, backend: Backend) -> None:
        super().__init__(params, backend)
        self._demand = backend.asarray(np.asarray(params.demand) / params.capacity)
        hourly_optimum(params)  # solve the optima now, not inside the first step

    def initial_state(self, rng: BackendRNG, n_envs: int) -> OperatorState:
        return OperatorState(self.backend.zeros((n_envs,), dtype=self.xp.int64))

    def step(self, state: OperatorState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        p, b = self.params, self.backend
        hours = b.to_numpy(state.hour)
        tolls = np.asarray(b.to_numpy(actions[GROUP]), dtype=np.float64)[:, 0, :]
        poa = np.array([hourly_poa(p, int(h), row) for h, row in zip(hours, tolls)])
        reward = b.asarray(-poa)
        hour = state.hour + 1
        return StepOutput(OperatorState(hour), {GROUP: reward[:, None]}, reward, terminated=hour >= p.horizon)

    def observe(self, state: OperatorState) -> dict[str, Array]:
        """``(hour of day / n_hours, demand now / capacity, demand next hour / capacity)``, all in [0, 1)."""
        xp, n = self.xp, self.params.n_hours
        h = state.hour % n
        nxt = (h + 1) % n
        obs = xp.stack([xp.astype(h, self.backend.dtype) / n, xp.take(self._demand, h, axis=0),
                        xp.take(self._demand, nxt, axis=0)], axis=-1)
        return {GROUP: obs[:, None, :]}


# ---------------------------------------------------------------------------- named policies
def _constant(tolls: Sequence[float]) -> Any:
    """The same tolls every hour."""

    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        xp, row = backend.xp, backend.asarray(np.asarray(tolls, dtype=np.float64))

        def operator(obs: Array) -> Array:
            return xp.zeros_like(obs[..., :1]) + row

        return {GROUP: operator}

    return factory


def _exact(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Each hour's Pigouvian tolls, looked up from the hour in the observation: the optimum (reward 0)."""
    p: OperatorParams = task.params
    table = hourly_optimum(p)[1]
    if table.max() > p.toll_max:
        raise ValueError(f"{task.name}: the Pigouvian tolls reach {table.max():.4g} $/EV, "
                         f"above toll_max = {p.toll_max:g}")
    xp, n = backend.xp, p.n_hours
    tolls = backend.asarray(table)

    def operator(obs: Array) -> Array:
        hour = xp.astype(xp.round(obs[..., 0] * n), xp.int64) % n
        picked = xp.take(tolls, xp.reshape(hour, (-1,)), axis=0)
        return xp.reshape(picked, (*obs.shape[:-1], p.n_stations))

    return {GROUP: operator}


def _flat_2(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """A rule of thumb: 2 $/EV at every station but the last (Example 1's far ultra-fast one), which stays free."""
    n = task.params.n_stations
    return _constant([2.0] * (n - 1) + [0.0])(task, backend)


def operator_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(OperatorParams, card["id"], **overrides)
    obs = BoxSpec((3,), 0.0, 1.0)
    act = BoxSpec((p.n_stations,), 0.0, p.toll_max)
    group = GroupSpec(GROUP, 1, card["groups"][GROUP]["agent_name"], obs, act)
    policies = {"exact": _exact, "no_tolls": _constant([0.0] * p.n_stations), "flat_2": _flat_2}
    return Task(card["id"], card, p, (group,), OperatorDynamics, p.discount, p.horizon, policies)
