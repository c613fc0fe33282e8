"""Parameters of the EV-charging game: a city, its stations, its drivers and the mode of play.

Values live in ``tasks/EVCharging*.toml``; the formulation is
``docs/models/ev_charging.md`` (§2 for the dynamic task, §4/§5
for the static modes whose exact solutions ``solution.py`` computes).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from econbench.validate import check_params, domain

MODES = ("dynamic", "steady", "oneshot")
SERVICES = ("deterministic", "exponential")


@dataclass(frozen=True)
class EVParams:
    """Every constant of one instance; per-type tuples follow ``type_names``."""

    # the model, one dynamics class each (dynamics.MODELS): "dynamic": a day of trips (DayDynamics);
    # "steady": Poisson requests (B2a, SteadyDynamics); "oneshot": N EVs at t = 0 (B2b, BatchDynamics)
    mode: str
    service: str  # "deterministic" (energy / power) or "exponential" with that mean (M/M/c)
    step_minutes: float = domain("(0, inf)")
    horizon: int = domain("[1, inf)")
    discount: float = domain("(0, 1]")

    # --- city: a grid of nodes, Manhattan travel
    grid: int = domain("[1, inf)", count=True)  # nodes per side
    edge_minutes: float = domain("(0, inf)")
    edge_km: float = domain("[0, inf)")
    n_stations: int = domain("[1, inf)", count=True)
    station_nodes: tuple[int, ...] = domain("[0, inf)")  # explicit placement; empty: drawn with city_seed
    # index into type_names per station; empty: drawn with type_shares
    station_types: tuple[int, ...] = domain("[0, inf)")
    city_seed: int = domain("[0, inf)")
    type_names: tuple[str, ...]
    type_power_kw: tuple[float, ...] = domain("(0, inf)")
    type_price: tuple[float, ...] = domain("[0, inf)")  # $/kWh
    type_plugs: tuple[int, ...] = domain("[1, inf)")
    type_shares: tuple[float, ...] = domain("[0, 1]")
    # stations offered to a driver: the n_options nearest (dynamic) or all (static modes)
    n_options: int = domain("[1, inf)", count=True)

    # --- drivers
    # dynamic and oneshot: EV owners; steady: agent slots that requests occupy
    n_drivers: int = domain("[1, inf)", count=True)
    battery_kwh: float = domain("(0, inf)")
    kwh_per_km: float = domain("[0, inf)")
    vot_classes: tuple[float, ...] = domain("(0, inf)")  # $/h
    vot_shares: tuple[float, ...] = domain("[0, 1]")
    soc0_low: float = domain("[0, 1]")  # initial state of charge, share of the battery, uniform
    soc0_high: float = domain("[0, 1]")
    end_soc: float = domain("[0, 1]")  # wanted state of charge at the end of the day
    shortfall_penalty: float = domain("[0, inf)")  # $/kWh below end_soc at the end of the day (range anxiety)
    strand_penalty: float = domain("[0, inf)")  # $ when a trip cannot be driven on the battery left
    # $/kWh the battery's energy is worth (it carries over to the next day): driving uses it, charging adds it
    energy_value: float = domain("[0, inf)")
    charge_targets: tuple[float, ...] = domain("(0, 1]")  # shares of the battery a driver can charge up to
    # departure to work: mean, sd, earliest, latest (hours)
    morning_h: tuple[float, float, float, float] = domain("[0, inf)")
    evening_h: tuple[float, float, float, float] = domain("[0, inf)")  # departure home

    # --- static modes
    energy_kwh: float = domain("[0, inf)")  # every request needs this much (ev_charging.md §4/ev_charging.md §5's e)
    # steady: (origins, stations) detour hours (ev_charging.md §6 Example 1)
    detour_h: tuple[tuple[float, ...], ...] = domain("[0, inf)")
    # steady: (origins, classes) EV/h; classes follow vot_classes
    origin_demand: tuple[tuple[float, ...], ...] = domain("[0, inf)")
    # oneshot: per-station bounds of the EV-specific detours (ev_charging.md §6 Example 3)
    detour_low: tuple[float, ...] = domain("[0, inf)")
    detour_high: tuple[float, ...] = domain("[0, inf)")
    detour_seed: int = domain("[0, inf)")  # numpy default_rng seed of those detours, drawn column by column
    unserved_penalty: float = domain("[0, inf)")  # $ for a request that chooses no station

    def __post_init__(self) -> None:
        for f in fields(self):  # TOML gives lists; frozen params must hash
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(tuple(x) if isinstance(x, list) else x for x in v))
        check_params(self)

        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"EVCharging: {what}")

        need(self.mode in MODES, f"mode must be one of {MODES}, got {self.mode!r}")
        need(self.service in SERVICES, f"service must be one of {SERVICES}, got {self.service!r}")
        need(self.step_minutes > 0 and self.horizon >= 1, "step_minutes must be positive and horizon >= 1")
        need(
            self.grid >= 1 and self.edge_minutes > 0 and self.edge_km >= 0, "grid >= 1, edge_minutes > 0, edge_km >= 0"
        )
        need(self.n_stations >= 1, f"n_stations must be >= 1, got {self.n_stations}")
        need(self.n_drivers >= 1, f"n_drivers must be >= 1, got {self.n_drivers}")
        n_types = len(self.type_names)
        for name in ("type_power_kw", "type_price", "type_plugs", "type_shares"):
            need(len(getattr(self, name)) == n_types, f"{name} needs one value per type {self.type_names}")
        need(min(self.type_power_kw) > 0 and min(self.type_plugs) >= 1, "every type needs positive power and >= 1 plug")
        if self.station_nodes:
            need(len(self.station_nodes) == self.n_stations, "station_nodes needs one node per station")
            need(
                all(0 <= n < self.grid**2 for n in self.station_nodes), f"station_nodes must lie in [0, {self.grid**2})"
            )
        if self.station_types:
            need(len(self.station_types) == self.n_stations, "station_types needs one type per station")
            need(
                all(0 <= k < n_types for k in self.station_types),
                f"station_types must index type_names (0..{n_types - 1})",
            )
        need(len(self.vot_classes) == len(self.vot_shares) and min(self.vot_classes) > 0, "vot_classes and vot_shares")
        need(abs(sum(self.vot_shares) - 1.0) < 1e-9 and abs(sum(self.type_shares) - 1.0) < 1e-9, "shares must sum to 1")
        need(0.0 <= self.soc0_low <= self.soc0_high <= 1.0, "0 <= soc0_low <= soc0_high <= 1")
        need(len(self.charge_targets) >= 1 and all(0 < c <= 1 for c in self.charge_targets), "charge_targets in (0, 1]")
        need(1 <= self.n_options, "n_options >= 1")
        if self.mode != "dynamic":
            need(self.energy_kwh > 0, "energy_kwh must be positive")
            need(self.n_options == self.n_stations, "static modes offer every station: n_options == n_stations")
        if self.mode == "steady":
            need(
                len(self.detour_h) >= 1 and all(len(r) == self.n_stations for r in self.detour_h),
                "steady mode: detour_h must be (origins, stations)",
            )
            need(
                len(self.origin_demand) == len(self.detour_h)
                and all(len(r) == len(self.vot_classes) for r in self.origin_demand),
                "steady mode: origin_demand must be (origins, classes)",
            )
        if self.mode == "oneshot":
            need(
                len(self.detour_low) == len(self.detour_high) == self.n_stations,
                "oneshot mode: detour bounds per station",
            )
            need(self.horizon == 1, "oneshot mode is one decision: horizon must be 1")
            need(len(self.vot_classes) == 1, "oneshot mode has one value of time (ev_charging.md §5)")

    def memory_bytes(self) -> tuple[float, float]:
        """The city's tables (dynamic mode: a ``(grid^2, n_stations)`` travel-time matrix, sorted, while it is
        built; one-shot: each driver's detours); per economy, each driver's dozen state fields and trips,
        observation and mask, and the step's temporaries, plus each station's plugs (float64)."""
        places = self.grid**2 if self.mode == "dynamic" else self.n_drivers if self.mode == "oneshot" else 1
        fixed = 8.0 * 4 * places * self.n_stations
        per_driver = 8.0 * 40 + 4.0 * (8 + 4 * self.n_options)
        return fixed, self.n_drivers * per_driver + 8.0 * self.n_stations * (max(self.type_plugs, default=1) + 4)
