"""Parameters of the capital-goods economy (the draft paper's own model).

Values live in ``tasks/CapitalGoods*.toml``. Source: M. Covarrubias, "Deep
Reinforcement Learning in Macroeconomic Models" (draft, July 2021),
whose environments are marketsAI/marketsAI (``capital_planner_sa``,
``capital_planner_ma``, ``capital_market``); equations, corrected steady state
and modelling cautions in ``docs/models/capital_goods.md`` §2 and §4.
"""

from __future__ import annotations

from dataclasses import dataclass

from econbench.validate import check_params, domain

FORMULATIONS = ("planner", "market")
REWARDS = ("shared", "own")


@dataclass(frozen=True)
class CapitalParams:
    """Households with log utility and output ``Y_i = Z_agg Z_i prod_j K_ij^(alpha/n_capital)``.

    Each household spends shares ``s_ij`` of its output on capital good j; making
    ``I_j`` units of good j costs ``(phi/2) I_j^2`` of final good.
    """

    beta: float = domain("(0, 1)")  # 0.98
    delta: float = domain("(0, 1)")  # 0.04
    phi: float = domain("(0, inf)")  # 0.5: adjustment-cost curvature of capital-good production
    alpha: float = domain("(0, 1)")  # 0.3 (market environments) or 0.7 (planner_sa)
    n_households: int = domain("[1, 100000]", count=True)
    n_capital: int = domain("[1, 100]", count=True)
    z_agg: tuple[float, float] = domain("(0, inf)")  # aggregate shock states (0.8, 1.2)
    agg_stay: float = domain("(0, 1)")  # P(aggregate state unchanged) 0.95
    z_idio: tuple[float, float] = domain("(0, inf)")  # idiosyncratic shock states (0.9, 1.1)
    idio_stay: float = domain("(0, 1)")  # 0.9
    formulation: str  # "planner": proportional sharing of I_j = sqrt(2 X_j/phi); "market": price = marginal cost
    rebate: bool  # market only: capital-good firms' profits paid back to households in equal shares
    reward: str  # "shared": every household earns the mean log consumption; "own": its own
    # share of households that observe every stock (the rest: own and aggregate)
    informed_share: float = domain("[0, 1]")
    # total saving share is scaled down to this when the actions sum above it (C > 0)
    max_saving: float = domain("(0, 1)")
    k0_low: float = domain("(0, inf)")  # initial K_ij ~ U[k0_low, k0_high] * K_ss (author: [0.5, 1.25])
    k0_high: float = domain("(0, inf)")
    horizon: int = domain("[1, inf)")  # ceil(log 1e-6 / log beta) = 684
    vfi_points: int = domain("[2, inf)")  # exact solution (one household, one good): K' grid of vfi_points over
    vfi_low: float = domain(
        "(0, inf)"
    )  # [vfi_low, vfi_high] * K_ss (docs/models/capital_goods.md §5: 1000 points over [0.4, 1.8])
    vfi_high: float = domain("(0, inf)")

    def __post_init__(self) -> None:
        for name in ("z_agg", "z_idio"):  # cards give lists; the exact solution caches on hashable parameters
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != 2 or min(values) <= 0.0:
                raise ValueError(f"{name} must be two positive shock states, got {getattr(self, name)!r}")
            object.__setattr__(self, name, values)
        check_params(self)  # finite numbers in their domains (max_saving < 1 keeps consumption positive)
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {self.formulation!r}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if self.k0_low > self.k0_high:
            raise ValueError(f"need k0_low <= k0_high, got {self.k0_low}, {self.k0_high}")
        if self.vfi_low >= self.vfi_high:
            raise ValueError(f"need vfi_low < vfi_high, got {self.vfi_low}, {self.vfi_high}")

    def memory_bytes(self) -> tuple[float, float]:
        """Who-sees-whom index table ``(N_h, N_h - 1)`` (int64, built with two temporaries as large); per
        economy, stocks, shocks and the step's allocation arrays (float64). Observations are the view's
        (BatchedEnv counts them)."""
        n, nc = self.n_households, self.n_capital
        return 8.0 * 3 * n * (n - 1), 8.0 * (8 * n * nc + 6 * n)

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
        """Deterministic steady state per household and good (docs/models/capital_goods.md §4, corrected): the planner's, and the
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
