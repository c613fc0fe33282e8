"""Parameters of the capital-goods economy (the draft paper's own model).

Values live in ``tasks/CapitalGoods*.toml``. Source: M. Covarrubias, "Deep
Reinforcement Learning in Macroeconomic Models" (draft, ``shared/seeds/002``),
whose environments are marketsAI/marketsAI (``capital_planner_sa``,
``capital_planner_ma``, ``capital_market``); equations, corrected steady state
and modelling cautions from ``shared/specs/investment_and_ev.md`` section A6.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMULATIONS = ("planner", "market")
REWARDS = ("shared", "own")


@dataclass(frozen=True)
class CapitalParams:
    """Households with log utility and output ``Y_i = Z_agg Z_i prod_j K_ij^(alpha/n_capital)``.

    Each household spends shares ``s_ij`` of its output on capital good j; making
    ``I_j`` units of good j costs ``(phi/2) I_j^2`` of final good.
    """

    beta: float  # 0.98
    delta: float  # 0.04
    phi: float  # 0.5: adjustment-cost curvature of capital-good production
    alpha: float  # 0.3 (market environments) or 0.7 (planner_sa)
    n_households: int
    n_capital: int
    z_agg: tuple[float, float]  # aggregate shock states (0.8, 1.2)
    agg_stay: float  # P(aggregate state unchanged) 0.95
    z_idio: tuple[float, float]  # idiosyncratic shock states (0.9, 1.1)
    idio_stay: float  # 0.9
    formulation: str  # "planner": proportional sharing of I_j = sqrt(2 X_j/phi); "market": price = marginal cost
    rebate: bool  # market only: capital-good firms' profits paid back to households in equal shares
    reward: str  # "shared": every household earns the mean log consumption; "own": its own
    informed_share: float  # share of households that observe every stock (the rest: own and aggregate)
    max_saving: float  # total saving share is scaled down to this when the actions sum above it (C > 0)
    k0_low: float  # initial K_ij ~ U[k0_low, k0_high] * K_ss (author: [0.5, 1.25])
    k0_high: float
    horizon: int  # ceil(log 1e-6 / log beta) = 684
    vfi_points: int  # exact solution (one household, one good): K' grid of vfi_points over
    vfi_low: float  # [vfi_low, vfi_high] * K_ss (spec: 1000 points over [0.4, 1.8])
    vfi_high: float

    def __post_init__(self) -> None:
        for name in ("z_agg", "z_idio"):  # cards give lists; the exact solution caches on hashable parameters
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != 2 or min(values) <= 0.0:
                raise ValueError(f"{name} must be two positive shock states, got {getattr(self, name)!r}")
            object.__setattr__(self, name, values)
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {self.formulation!r}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if not 1 <= self.n_households <= 100_000:
            raise ValueError(f"n_households must be in [1, 100000], got {self.n_households}")
        if not 1 <= self.n_capital <= 100:
            raise ValueError(f"n_capital must be in [1, 100], got {self.n_capital}")
        if not 0.0 <= self.informed_share <= 1.0:
            raise ValueError(f"informed_share must be in [0, 1], got {self.informed_share}")
        if not 0.0 < self.max_saving < 1.0:
            raise ValueError(f"max_saving must be in (0, 1) so that consumption stays positive, got {self.max_saving}")
        for name in ("beta", "delta", "agg_stay", "idio_stay"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")
        if not 0.0 < self.alpha < 1.0 or self.phi <= 0.0:
            raise ValueError(f"need 0 < alpha < 1 and phi > 0, got alpha={self.alpha}, phi={self.phi}")
        if not 0.0 < self.k0_low <= self.k0_high:
            raise ValueError(f"need 0 < k0_low <= k0_high, got {self.k0_low}, {self.k0_high}")

    @property
    def n_informed(self) -> int:
        return int(round(self.informed_share * self.n_households))

    @property
    def sole_cost(self) -> float:
        """Net final good a sole household gives up per unit of ``I^2``: phi/2, or phi when it pays the price
        ``phi I`` on every unit and no profit comes back (the unrebated market; its optimum is then a monopsony's)."""
        return self.phi if (self.formulation == "market" and not self.rebate) else 0.5 * self.phi

    @property
    def k_ss(self) -> float:
        """Deterministic steady state per household and good (spec A6, corrected): the planner's, and the
        competitive market's with price-taking households (rebated or not).

        ``phi I (1 - beta(1-delta)) = beta (alpha/N_c) K^(alpha-1)`` with ``I = N_h delta K``.
        """
        b, d = self.beta, self.delta
        base = self.alpha * b / (self.phi * d * self.n_households * self.n_capital * (1.0 - b * (1.0 - d)))
        return base ** (1.0 / (2.0 - self.alpha))

    @property
    def saving_ss(self) -> float:
        """Steady-state share of output spent on capital goods (all goods together).

        ``alpha beta delta / (2 (1 - beta(1-delta)))`` of resources; a market household
        pays twice the resource cost (price phi I on each unit) and gets half back as profit.
        """
        b, d = self.beta, self.delta
        resource = self.alpha * b * d / (2.0 * (1.0 - b * (1.0 - d)))
        return resource * (2.0 if self.formulation == "market" else 1.0)
