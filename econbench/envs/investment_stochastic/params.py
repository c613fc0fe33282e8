"""Parameters of the nonlinear stochastic Lucas–Prescott industry.

Values live in ``tasks/InvestmentStochastic*.toml``. Source: Lucas & Prescott
(1971); the computable version of QuantEcon's lecture "Investment Under
Uncertainty" (QuantEcon/lecture-python.myst, lectures/lucas_prescott_investment.md),
as specified in ``shared/specs/investment_and_ev.md`` section A7.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StochasticParams:
    """``k' = k (1 - delta + z)^alpha`` with investment rate ``z = x / k >= 0``.

    Demand ``D(q, u) = a0 + u - a1 q``; surplus ``s(k, u) = (a0 + u) k - a1 k^2 / 2``;
    ``u`` follows a Tauchen discretisation of ``u' = rho u + sigma eps``.
    """

    r: float  # interest rate; beta = 1 / (1 + r). Lecture: 0.05
    delta: float  # maintenance investment rate, h(delta) = 1. Lecture: 0.10
    alpha: float  # curvature of h(z) = (1 - delta + z)^alpha. Lecture: 0.70
    a0: float  # Lecture: 1
    a1: float  # Lecture: 0.01
    rho: float  # shock persistence. Lecture: 0.9
    sigma: float  # shock innovation s.d. Lecture: 0.02
    n_shocks: int  # Tauchen states. Lecture: 9
    tauchen_m: float  # grid half-width in unconditional s.d. Lecture: 3
    k_grid_min: float  # VFI grid for the exact solution. Lecture: [20, 160], 400 points
    k_grid_max: float
    k_grid_n: int
    n_firms: int  # agents in the market task
    z_max: float  # bound on the investment rate action
    k0_low: float  # initial aggregate capital ~ U[k0_low, k0_high]
    k0_high: float
    init_dispersion: float  # firm i starts at K0 * (1 + d * e_i), e_i ~ U[-1, 1], demeaned
    horizon: int  # ceil(log 1e-6 / log beta)

    @property
    def beta(self) -> float:
        return 1.0 / (1.0 + self.r)

    @property
    def k_competitive_iid(self) -> float:
        """Analytic stationary capital with i.i.d. demand: ``(a0 - delta - r/alpha) / a1``."""
        return (self.a0 - self.delta - self.r / self.alpha) / self.a1
