"""Parameters of the linear-quadratic Lucas–Prescott industry.

Values live in the task cards (``tasks/InvestmentLQ*.toml``); this module names
and types them. Source of the economics: Lucas & Prescott (1971),
"Investment under Uncertainty", Econometrica 39(5), in the deterministic LQ form
of QuantEcon's lecture "Rational Expectations Equilibrium"
(QuantEcon/lecture-python.myst, lectures/rational_expectations.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from econbench.validate import check_params, domain


@dataclass(frozen=True)
class LQParams:
    """Inverse demand ``p = a0 - a1 Y``; a firm earns ``p y - gamma/2 (y' - y)^2``.

    In the market task each of the ``n_firms`` agents is the representative of a
    measure ``1/n_firms`` of identical price-taking firms, so the industry output
    is the mean ``Y = mean_i y_i`` and the competitive equilibrium is the
    lecture's for every ``n_firms``.
    """

    a0: float = domain("(0, inf)")  # demand intercept (lecture: 100)
    a1: float = domain("(0, inf)")  # demand slope (lecture: 0.05)
    beta: float = domain("(0, 1)")  # discount factor (lecture: 0.95)
    gamma: float = domain("(0, inf)")  # adjustment-cost coefficient (lecture: 10), cost gamma/2 * u^2
    n_firms: int = domain("[1, inf)", count=True)  # agents in the market task (the planner task ignores it)
    u_max: float = domain("(0, inf)")  # bound on the action u = y' - y, natural units
    y0_low: float = domain("[0, inf)")  # initial industry output drawn uniformly on [y0_low, y0_high]
    y0_high: float = domain("[0, inf)")
    init_dispersion: float = domain("[0, 1)")  # firm i starts at Y0 * (1 + d * e_i), e_i ~ U[-1, 1], demeaned
    horizon: int = domain("[1, inf)")  # truncation, ceil(log 1e-6 / log beta)

    def __post_init__(self) -> None:
        check_params(self)
        if self.y0_low > self.y0_high:
            raise ValueError(f"need y0_low <= y0_high, got {self.y0_low}, {self.y0_high}")

    def memory_bytes(self) -> tuple[float, float]:
        """Per economy: each firm's output, observation, action, reward and the step's temporaries (float64)."""
        return 0.0, 8.0 * 16 * self.n_firms

    @property
    def steady_state(self) -> float:
        """Competitive (and planner) steady-state output ``a0 / a1``."""
        return self.a0 / self.a1
