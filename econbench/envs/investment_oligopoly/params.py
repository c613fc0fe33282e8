"""Parameters of the N-firm dynamic Cournot oligopoly with adjustment costs.

Values live in ``tasks/InvestmentOligopoly*.toml``. Source: QuantEcon lecture
"Markov Perfect Equilibrium" (QuantEcon/lecture-python.myst,
lectures/markov_perf.md), generalised from two to N firms as in
``shared/specs/investment_and_ev.md`` section A4.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OligopolyParams:
    """Inverse demand ``p = a0 - a1 sum_j q_j``; firm i earns ``p q_i - gamma (q_i' - q_i)^2``.

    Note ``gamma`` (not ``gamma/2``) multiplies the squared adjustment, as in the
    lecture.
    """

    a0: float  # lecture: 10
    a1: float  # lecture: 2
    beta: float  # lecture: 0.96
    gamma: float  # lecture: 12
    n_firms: int  # strategic firms, 1..50+
    u_max: float  # bound on the action u_i = q_i' - q_i
    q0_low: float  # q_i0 = c_i * a0 / (a1 (n_firms + 1)), c_i ~ U[q0_low, q0_high]
    q0_high: float
    horizon: int  # ceil(log 1e-6 / log beta)

    @property
    def cournot_output(self) -> float:
        """Static Cournot output per firm, ``a0 / (a1 (N + 1))``: the scale of initial states."""
        return self.a0 / (self.a1 * (self.n_firms + 1))
