"""Exact references for EV-charging station choice: Wardrop equilibria, system optima, tolls, atomic games.

Specification: ``docs/models/ev_charging.md`` §4-§6. The
nonatomic game is a congestion game with a Beckmann potential (Beckmann,
McGuire and Winsten 1956): a station's waiting time is the M/M/c mean wait in
queue (Erlang C), increasing and convex up to capacity, so the Wardrop
equilibrium and the system optimum are convex programs with unique station
loads. The atomic batch game (N drivers, FIFO in random order) is a
Rosenthal potential game: best-response dynamics find a pure Nash
equilibrium, and the optimum is a linear assignment because a station's total
cost has nondecreasing increments.

Costs are dollars per EV: ``v (detour + e / P + wait) + p e`` for value of time
``v`` ($/h), energy ``e`` (kWh), charger power ``P`` (kW) and price ``p`` ($/kWh).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, linear_sum_assignment, minimize

# ---------------------------------------------------------------------------- queues


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a = lambda / mu`` (< c).

    Computed with the Erlang-B recursion, which stays stable for many servers.
    """
    if a <= 0.0:
        return 0.0
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho + rho * b)


def mmc_wait(x: float, c: int, mu: float) -> float:
    """Mean wait in queue (hours) at arrival rate ``x`` (EV/h) with ``c`` plugs serving ``mu`` EV/h each; inf at capacity."""
    if x <= 0.0:
        return 0.0
    if x >= c * mu:
        return math.inf
    return erlang_c(c, x / mu) / (c * mu - x)


def mmc_wait_slope(x: float, c: int, mu: float) -> float:
    """dW/dx by a central difference scaled to the distance from capacity (W is smooth below it)."""
    if x >= c * mu:
        return math.inf
    h = 1e-6 * (c * mu - x)
    lo = max(x - h, 0.0)
    if not x + h > lo:  # within rounding of capacity
        return math.inf
    return (mmc_wait(x + h, c, mu) - mmc_wait(lo, c, mu)) / (x + h - lo)


def batch_wait(n: int, c: int, service: float) -> float:
    """Mean wait of a random member of ``n`` EVs queueing FIFO at ``c`` plugs, each charge lasting ``service`` hours."""
    if n <= 0:
        return 0.0
    k = np.arange(n)
    return float(service * np.floor(k / c).sum() / n)


# ---------------------------------------------------------------------------- instances


@dataclass(frozen=True)
class Stations:
    """Plugs ``c``, charger power ``P`` (kW) and price ``p`` ($/kWh) per station."""

    plugs: tuple[int, ...]
    power: tuple[float, ...]
    price: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.plugs)
        if not (len(self.power) == len(self.price) == n) or n == 0:
            raise ValueError(
                f"plugs, power and price need one value per station, got {len(self.plugs)}, "
                f"{len(self.power)}, {len(self.price)}"
            )
        if min(self.plugs) < 1 or min(self.power) <= 0.0:
            raise ValueError("every station needs at least one plug and a positive charger power")

    @property
    def n(self) -> int:
        return len(self.plugs)


@dataclass(frozen=True)
class Instance:
    """A one-shot nonatomic instance: demand ``demand[o, k]`` (EV/h) from origin o of class k.

    ``detour[o, s]`` is the travel time (h) from origin o to station s and
    ``vot[k]`` the value of time ($/h) of class k; every EV needs ``energy`` kWh.
    """

    stations: Stations
    energy: float
    detour: np.ndarray  # (origins, stations)
    demand: np.ndarray  # (origins, classes)
    vot: np.ndarray  # (classes,)
    _cap: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        detour, demand, vot = (
            np.atleast_2d(np.asarray(self.detour, dtype=float)),
            np.atleast_2d(np.asarray(self.demand, dtype=float)),
            np.atleast_1d(np.asarray(self.vot, dtype=float)),
        )
        object.__setattr__(self, "detour", detour)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "vot", vot)
        if detour.shape != (demand.shape[0], self.stations.n):
            raise ValueError(
                f"detour must be (origins, stations) = ({demand.shape[0]}, {self.stations.n}), got {detour.shape}"
            )
        if demand.shape[1] != vot.size:
            raise ValueError(f"demand has {demand.shape[1]} classes but vot has {vot.size} values")
        cap = np.asarray(self.stations.plugs) * self.mu
        object.__setattr__(self, "_cap", cap)
        if demand.sum() >= cap.sum():
            raise ValueError(f"total demand {demand.sum():g} EV/h reaches the stations' capacity {cap.sum():g} EV/h")

    @classmethod
    def single(cls, stations: Stations, energy: float, detour: Sequence[float], demand: float, vot: float) -> Instance:
        return cls(stations, energy, np.asarray([detour]), np.asarray([[demand]]), np.asarray([vot]))

    @property
    def mu(self) -> np.ndarray:
        """Service rate per plug (EV/h): power / energy."""
        return np.asarray(self.stations.power) / self.energy

    @property
    def capacity(self) -> np.ndarray:
        return self._cap

    def waits(self, loads: np.ndarray) -> np.ndarray:
        return np.array([mmc_wait(x, c, m) for x, c, m in zip(loads, self.stations.plugs, self.mu)])

    def slopes(self, loads: np.ndarray) -> np.ndarray:
        return np.array([mmc_wait_slope(x, c, m) for x, c, m in zip(loads, self.stations.plugs, self.mu)])

    def fixed_time(self) -> np.ndarray:
        """Hours per EV besides the wait, (origins, classes, stations): detour, charging and the price in hours."""
        st = self.stations
        charge = self.energy / np.asarray(st.power)
        money = np.asarray(st.price) * self.energy
        return self.detour[:, None, :] + charge[None, None, :] + money[None, None, :] / self.vot[None, :, None]

    def time_costs(self, flows: np.ndarray) -> np.ndarray:
        """Generalised cost in hours of every (origin, class, station) at these flows."""
        return self.fixed_time() + self.waits(flows.sum(axis=(0, 1)))[None, None, :]

    def total_cost(self, flows: np.ndarray, prices_are_costs: bool = True) -> float:
        """System cost in $/h: each EV's time at its value of time, plus energy spending unless prices are transfers."""
        time = self.time_costs(flows)
        if not prices_are_costs:
            time = time - (np.asarray(self.stations.price) * self.energy)[None, None, :] / self.vot[None, :, None]
        return float((flows * time * self.vot[None, :, None]).sum())

    def relative_gap(self, flows: np.ndarray) -> float:
        """Wardrop relative gap: (sum x c - sum D min c) / sum x c, in time units; 0 at the equilibrium."""
        c = self.time_costs(flows)
        used = float((flows * c).sum())
        best = float((self.demand * c.min(axis=2)).sum())
        return (used - best) / used


# ---------------------------------------------------------------------------- nonatomic solutions
@dataclass
class Assignment:
    """Flows ``(origins, classes, stations)`` (EV/h), their station loads, waits (h) and cost ($/h)."""

    flows: np.ndarray
    loads: np.ndarray
    waits: np.ndarray
    total_cost: float
    per_ev_cost: np.ndarray  # ($) of each station at these loads, for the first class (single-class instances)


def _assignment(inst: Instance, flows: np.ndarray) -> Assignment:
    loads = flows.sum(axis=(0, 1))
    per_ev = inst.time_costs(flows)[0, 0] * inst.vot[0]
    return Assignment(flows, loads, inst.waits(loads), inst.total_cost(flows), per_ev)


def _water_fill(cost: Callable[[int, float], float], capacity: np.ndarray, demand: float) -> np.ndarray:
    """Loads with equal cost ``L`` on used stations and cost >= L on unused ones, summing to ``demand``."""
    n = capacity.size

    def load_at(level: float) -> np.ndarray:
        x = np.zeros(n)
        for s in range(n):
            if cost(s, 0.0) < level:
                top = capacity[s] * (1.0 - 1e-10)  # costs blow up at capacity
                x[s] = top if cost(s, top) <= level else brentq(lambda u: cost(s, u) - level, 0.0, top, xtol=1e-14)
        return x

    low = min(cost(s, 0.0) for s in range(n))
    high = low + 1.0
    while load_at(high).sum() < demand:
        high = low + 2.0 * (high - low)
    level = brentq(lambda L: load_at(L).sum() - demand, low, high, xtol=1e-13, rtol=1e-15)
    x = load_at(level)
    # A station whose cost is nearly flat in its load (Erlang C with many plugs, lightly loaded; or one just
    # entering use) has a load the level cannot pin down in floating point: the loads then missed the demand by
    # up to 1.4% (Example 1 near 8.35 EV/h). That station absorbs the residual; the others are well conditioned.
    # Sensitivities are ranked over a level step well above the costs' rounding noise (finite-difference slopes).
    eps = 1e-9 * max(1.0, abs(level))
    used = np.array([cost(s, 0.0) < level + eps for s in range(n)])  # the level may stop just below a jump
    s = int(np.argmax(np.where(used, load_at(level + eps) - load_at(level - eps), -np.inf)))
    x[s] = min(max(demand - (x.sum() - x[s]), 0.0), capacity[s] * (1.0 - 1e-10))
    return x


def wardrop_single(inst: Instance) -> Assignment:
    """The user equilibrium of a one-origin, one-class instance by water-filling on the per-EV cost."""
    _require_single(inst)
    fixed, v = inst.fixed_time()[0, 0], float(inst.vot[0])
    mu, plugs = inst.mu, inst.stations.plugs

    def cost(s: int, x: float) -> float:
        return v * (fixed[s] + mmc_wait(x, plugs[s], mu[s]))

    loads = _water_fill(cost, inst.capacity, float(inst.demand.sum()))
    return _assignment(inst, loads[None, None, :])


def system_optimum_single(inst: Instance) -> Assignment:
    """The system optimum of a one-origin, one-class instance: water-filling on the marginal social cost."""
    _require_single(inst)
    fixed, v = inst.fixed_time()[0, 0], float(inst.vot[0])
    mu, plugs = inst.mu, inst.stations.plugs

    def marginal(s: int, x: float) -> float:
        return v * (fixed[s] + mmc_wait(x, plugs[s], mu[s]) + x * mmc_wait_slope(x, plugs[s], mu[s]))

    loads = _water_fill(marginal, inst.capacity, float(inst.demand.sum()))
    return _assignment(inst, loads[None, None, :])


def pigouvian_tolls(inst: Instance, optimum: Assignment) -> np.ndarray:
    """$ per EV at each station, ``v x W'(x)`` at the optimum: charged on top, they make the optimum an equilibrium."""
    _require_single(inst)
    return float(inst.vot[0]) * optimum.loads * inst.slopes(optimum.loads)


def _require_single(inst: Instance) -> None:
    if inst.demand.shape != (1, 1):
        raise ValueError(
            f"water-filling needs one origin and one class, got demand of shape {inst.demand.shape}; "
            "use wardrop() / system_optimum()"
        )


def _solve_program(inst: Instance, objective: str) -> Assignment:
    """SLSQP over (origin, class, station) flows: the Beckmann potential (``"ue"``) or the total cost (``"so"``)."""
    O, K = inst.demand.shape
    S = inst.stations.n
    fixed = inst.fixed_time()
    cap = inst.capacity
    vot = inst.vot

    def integral_wait(s: int, x: float) -> float:
        nodes, weights = np.polynomial.legendre.leggauss(40)
        u = 0.5 * x * (nodes + 1.0)
        return 0.5 * x * float(sum(w * mmc_wait(ui, inst.stations.plugs[s], inst.mu[s]) for ui, w in zip(u, weights)))

    def unpack(z: np.ndarray) -> np.ndarray:
        return np.maximum(z.reshape(O, K, S), 0.0)

    def f(z: np.ndarray) -> float:
        x = unpack(z)
        loads = x.sum(axis=(0, 1))
        if np.any(loads >= cap):
            return 1e12
        if objective == "ue":
            return float((x * fixed).sum() + sum(integral_wait(s, loads[s]) for s in range(S)))
        return inst.total_cost(x) / float(vot.mean())

    def grad(z: np.ndarray) -> np.ndarray:
        """Exact gradients: the generalised costs (UE); the marginal social costs (SO)."""
        x = unpack(z)
        loads = x.sum(axis=(0, 1))
        if np.any(loads >= cap):
            return np.zeros_like(z)
        c = fixed + inst.waits(loads)[None, None, :]
        if objective == "ue":
            return c.ravel()
        weighted = (x * vot[None, :, None]).sum(axis=(0, 1))  # $/h of time per hour of wait, per station
        g = vot[None, :, None] * c + (weighted * inst.slopes(loads))[None, None, :]
        return (g / float(vot.mean())).ravel()

    start = np.broadcast_to(inst.demand[:, :, None] / S, (O, K, S)).copy()
    cons = [
        {"type": "eq", "fun": (lambda z, o=o, k=k: unpack(z)[o, k].sum() - inst.demand[o, k])}
        for o in range(O)
        for k in range(K)
    ]
    cons.append({"type": "ineq", "fun": lambda z: cap * (1.0 - 1e-9) - unpack(z).sum(axis=(0, 1))})
    res = minimize(
        f,
        start.ravel(),
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, None)] * (O * K * S),
        constraints=cons,
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    if not res.success:
        raise RuntimeError(f"SLSQP did not converge: {res.message}")
    return _assignment(inst, unpack(res.x))


def wardrop(inst: Instance) -> Assignment:
    """User equilibrium of any instance: the Beckmann potential's minimum (station loads are unique)."""
    return wardrop_single(inst) if inst.demand.shape == (1, 1) else _solve_program(inst, "ue")


def system_optimum(inst: Instance) -> Assignment:
    """Minimum total cost in $/h, energy spending included (prices as real costs)."""
    return system_optimum_single(inst) if inst.demand.shape == (1, 1) else _solve_program(inst, "so")


def price_of_anarchy(inst: Instance) -> float:
    return wardrop(inst).total_cost / system_optimum(inst).total_cost


# ---------------------------------------------------------------------------- atomic batch game
@dataclass(frozen=True)
class BatchGame:
    """N EVs each choosing a station once, all needing ``energy`` kWh at t = 0; FIFO in random order at each station."""

    stations: Stations
    energy: float
    detour: np.ndarray  # (N, stations) hours
    vot: float

    @property
    def service(self) -> np.ndarray:
        return self.energy / np.asarray(self.stations.power)

    def counts(self, choice: np.ndarray) -> np.ndarray:
        return np.bincount(np.asarray(choice), minlength=self.stations.n)

    def station_cost(self, s: int, n: int) -> float:
        """Expected $ of one EV among ``n`` at station s: time at the value of time plus energy."""
        st = self.stations
        return self.vot * (batch_wait(n, st.plugs[s], self.service[s]) + self.service[s]) + st.price[s] * self.energy

    def costs(self, choice: np.ndarray) -> np.ndarray:
        n = self.counts(choice)
        return np.array([self.vot * self.detour[i, a] + self.station_cost(a, n[a]) for i, a in enumerate(choice)])

    def deviation_costs(self, choice: np.ndarray, i: int) -> np.ndarray:
        """EV i's expected cost at every station, the others fixed."""
        n = self.counts(choice)
        n[choice[i]] -= 1
        return np.array([self.vot * self.detour[i, s] + self.station_cost(s, n[s] + 1) for s in range(self.stations.n)])

    def regrets(self, choice: np.ndarray) -> np.ndarray:
        own = self.costs(choice)
        return np.array([own[i] - self.deviation_costs(choice, i).min() for i in range(len(choice))])

    def nash_conv(self, choice: np.ndarray) -> float:
        return float(self.regrets(choice).sum())

    def naive(self) -> np.ndarray:
        """Each EV's best station as if it were alone."""
        alone = self.vot * self.detour + np.array([self.station_cost(s, 1) for s in range(self.stations.n)])[None, :]
        return np.argmin(alone, axis=1)

    def best_response_dynamics(self, start: np.ndarray | None = None, max_sweeps: int = 1000) -> tuple[np.ndarray, int]:
        """Sweeps over EVs in order, each moving to its cheapest station when that strictly gains; a potential
        game, so it ends at a pure Nash equilibrium. Returns the profile and the number of sweeps that moved someone."""
        choice = np.array(self.naive() if start is None else start, copy=True)
        for sweep in range(1, max_sweeps + 1):
            moved = False
            for i in range(len(choice)):
                dev = self.deviation_costs(choice, i)
                best = int(np.argmin(dev))
                if dev[best] < dev[choice[i]] - 1e-12:
                    choice[i] = best
                    moved = True
            if not moved:
                return choice, sweep - 1
        raise RuntimeError(f"best-response dynamics did not settle in {max_sweeps} sweeps")

    def optimum(self) -> np.ndarray:
        """Minimum total cost by assignment: slot k of station s costs ``v tau_is + G_s(k) - G_s(k - 1)``."""
        N, S = self.detour.shape
        G = np.array([[k * self.station_cost(s, k) if k else 0.0 for k in range(N + 1)] for s in range(S)])
        step = np.diff(G, axis=1)  # (S, N): the k-th arrival's increment, nondecreasing in k
        cost = (self.vot * self.detour)[:, :, None] + step[None, :, :]  # (N, S, N slots)
        rows, cols = linear_sum_assignment(cost.reshape(N, S * N))
        choice = np.empty(N, dtype=int)
        choice[rows] = cols // N
        return choice

    def total_cost(self, choice: np.ndarray) -> float:
        return float(self.costs(choice).sum())


# ---------------------------------------------------------------------------- textbook anchors
def separable_game(costs: Sequence[Callable[[float], float]], demand: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Wardrop and optimal loads of one commodity over parallel links with increasing costs ``costs[s](x)``.

    Returns ``(equilibrium loads, optimal loads, price of anarchy)``; both come
    from SLSQP, the equilibrium as the Beckmann potential's minimum (integrals by
    quadrature). Used for the classical instances (Pigou; Roughgarden's M/M/1 bound).
    """
    from scipy.integrate import quad

    n = len(costs)
    cons = [{"type": "eq", "fun": lambda x: x.sum() - demand}]
    bounds = [(0.0, demand)] * n
    start = np.full(n, demand / n)

    def potential(x: np.ndarray) -> float:
        return float(sum(quad(costs[s], 0.0, x[s])[0] for s in range(n)))

    def total(x: np.ndarray) -> float:
        return float(sum(x[s] * costs[s](x[s]) for s in range(n)))

    opts = {"ftol": 1e-14, "maxiter": 1000}
    ue = minimize(potential, start, method="SLSQP", bounds=bounds, constraints=cons, options=opts).x
    so = minimize(total, start, method="SLSQP", bounds=bounds, constraints=cons, options=opts).x
    return ue, so, total(ue) / total(so)
