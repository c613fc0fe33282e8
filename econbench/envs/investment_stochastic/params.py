"""Parameters of the nonlinear stochastic Lucas–Prescott industry.

Values live in ``tasks/InvestmentStochastic*.toml``. Source: Lucas & Prescott
(1971); the computable version of QuantEcon's lecture "Investment Under
Uncertainty" (QuantEcon/lecture-python.myst, lectures/lucas_prescott_investment.md),
as described in ``docs/models/investment_stochastic.md`` §2-§3.
"""

from __future__ import annotations

from dataclasses import dataclass

from econbench.validate import check_params, domain


@dataclass(frozen=True)
class StochasticParams:
    """``k' = k (1 - delta + z)^alpha`` with investment rate ``z = x / k >= 0``.

    Demand ``D(q, u) = a0 + u - a1 q``; surplus ``s(k, u) = (a0 + u) k - a1 k^2 / 2``;
    ``u`` follows a Tauchen discretisation of ``u' = rho u + sigma eps``.
    """

    r: float = domain("(0, inf)")  # interest rate; beta = 1 / (1 + r). Lecture: 0.05
    delta: float = domain("[0, 1)")  # maintenance investment rate, h(delta) = 1. Lecture: 0.10
    alpha: float = domain("(0, 1]")  # curvature of h(z) = (1 - delta + z)^alpha. Lecture: 0.70
    a0: float = domain("(0, inf)")  # Lecture: 1
    a1: float = domain("(0, inf)")  # Lecture: 0.01
    rho: float = domain("(-1, 1)")  # shock persistence. Lecture: 0.9
    sigma: float = domain("(0, inf)")  # shock innovation s.d. Lecture: 0.02
    n_shocks: int = domain("[2, inf)", count=True)  # Tauchen states. Lecture: 9
    tauchen_m: float = domain("(0, inf)")  # grid half-width in unconditional s.d. Lecture: 3
    k_grid_min: float = domain("(0, inf)")  # VFI grid for the exact solution. Lecture: [20, 160], 400 points
    k_grid_max: float = domain("(0, inf)")
    k_grid_n: int = domain("[2, inf)")
    n_firms: int = domain("[1, inf)", count=True)  # agents in the market task
    z_max: float = domain("(0, inf)")  # bound on the investment rate action
    k0_low: float = domain("(0, inf)")  # initial aggregate capital ~ U[k0_low, k0_high]
    k0_high: float = domain("(0, inf)")
    init_dispersion: float = domain("[0, 1)")  # firm i starts at K0 * (1 + d * e_i), e_i ~ U[-1, 1], demeaned
    horizon: int = domain("[1, inf)")  # ceil(log 1e-6 / log beta)

    def __post_init__(self) -> None:
        check_params(self)
        for low, high in (("k_grid_min", "k_grid_max"), ("k0_low", "k0_high")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"need {low} <= {high}, got {getattr(self, low)}, {getattr(self, high)}")

    def memory_bytes(self) -> tuple[float, float]:
        """The shock chain's tables; per economy, each firm's capacity, observation, action, reward and the
        step's temporaries (float64). The exact solution's VFI (solved when asked for) is ``k_grid_n^2``."""
        return 8.0 * 3 * self.n_shocks**2, 8.0 * 16 * self.n_firms

    @property
    def beta(self) -> float:
        return 1.0 / (1.0 + self.r)

    @property
    def k_competitive_iid(self) -> float:
        """Analytic stationary capital with i.i.d. demand: ``(a0 - delta - r/alpha) / a1``."""
        return (self.a0 - self.delta - self.r / self.alpha) / self.a1
