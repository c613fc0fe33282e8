"""Parameters of EVCharging-Operator-v0: the stations, the drivers and the hourly demand profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from econbench.envs.ev_charging import solution
from econbench.validate import check_params, domain


@dataclass(frozen=True)
class OperatorParams:
    """Stations, drivers and the hourly demand profile; values live in ``tasks/EVCharging-Operator-v0.toml``.

    Sequences are stored as tuples so the parameters hash: the hourly optima
    are cached per parameter set (:func:`~econbench.envs.ev_operator.solution.hourly_optimum`).
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
            raise ValueError(
                f"plugs, power, price and detour need one value per station, got lengths "
                f"{len(self.plugs)}, {len(self.power)}, {len(self.price)}, {len(self.detour)}"
            )
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
        return solution.Instance.single(
            solution.Stations(self.plugs, self.power, price), self.energy, self.detour, demand, self.vot
        )
