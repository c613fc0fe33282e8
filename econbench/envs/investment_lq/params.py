"""Parameters of the linear-quadratic Lucas–Prescott industry.

Values live in the task cards (``tasks/InvestmentLQ*.toml``); this module names
and types them. Source of the economics: Lucas & Prescott (1971),
"Investment under Uncertainty", Econometrica 39(5), in the deterministic LQ form
of QuantEcon's lecture "Rational Expectations Equilibrium"
(QuantEcon/lecture-python.myst, lectures/rational_expectations.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LQParams:
    """Inverse demand ``p = a0 - a1 Y``; a firm earns ``p y - gamma/2 (y' - y)^2``.

    In the market task each of the ``n_firms`` agents is the representative of a
    measure ``1/n_firms`` of identical price-taking firms, so the industry output
    is the mean ``Y = mean_i y_i`` and the competitive equilibrium is the
    lecture's for every ``n_firms``.
    """

    a0: float  # demand intercept (lecture: 100)
    a1: float  # demand slope (lecture: 0.05)
    beta: float  # discount factor (lecture: 0.95)
    gamma: float  # adjustment-cost coefficient (lecture: 10), cost gamma/2 * u^2
    n_firms: int  # agents in the market task (the planner task ignores it)
    u_max: float  # bound on the action u = y' - y, natural units
    y0_low: float  # initial industry output drawn uniformly on [y0_low, y0_high]
    y0_high: float
    init_dispersion: float  # firm i starts at Y0 * (1 + d * e_i), e_i ~ U[-1, 1], demeaned
    horizon: int  # truncation, ceil(log 1e-6 / log beta)

    @property
    def steady_state(self) -> float:
        """Competitive (and planner) steady-state output ``a0 / a1``."""
        return self.a0 / self.a1
