"""Parameters of the N-firm dynamic Cournot oligopoly with adjustment costs.

Values live in ``tasks/InvestmentOligopoly*.toml``. Source: QuantEcon lecture
"Markov Perfect Equilibrium" (QuantEcon/lecture-python.myst,
lectures/markov_perf.md), generalised from two to N firms as in
``docs/models/investment_oligopoly.md`` §2-§4.
"""

from __future__ import annotations

from dataclasses import dataclass

from econbench.validate import check_params, domain


@dataclass(frozen=True)
class OligopolyParams:
    """Inverse demand ``p = a0 - a1 sum_j q_j``; firm i earns ``p q_i - gamma (q_i' - q_i)^2``.

    Note ``gamma`` (not ``gamma/2``) multiplies the squared adjustment, as in the
    lecture.
    """

    a0: float = domain("(0, inf)")  # lecture: 10
    a1: float = domain("(0, inf)")  # lecture: 2
    beta: float = domain("(0, 1)")  # lecture: 0.96
    gamma: float = domain("(0, inf)")  # lecture: 12
    n_firms: int = domain("[1, inf)", count=True)  # strategic firms, 1..50+
    u_max: float = domain("(0, inf)")  # bound on the action u_i = q_i' - q_i
    q0_low: float = domain("[0, inf)")  # q_i0 = c_i * a0 / (a1 (n_firms + 1)), c_i ~ U[q0_low, q0_high]
    q0_high: float = domain("[0, inf)")
    horizon: int = domain("[1, inf)")  # ceil(log 1e-6 / log beta)

    def __post_init__(self) -> None:
        check_params(self)
        if self.q0_low > self.q0_high:
            raise ValueError(f"need q0_low <= q0_high, got {self.q0_low}, {self.q0_high}")

    def memory_bytes(self) -> tuple[float, float]:
        """Per economy: each firm's output, observation, action, reward and the step's temporaries (float64).

        The exact MPE (solved when asked for) holds ``N`` matrices of ``(N+1)^2``: beyond a few hundred firms
        it is the solver, not the env, that runs out of memory."""
        return 0.0, 8.0 * 16 * self.n_firms

    @property
    def cournot_output(self) -> float:
        """Static Cournot output per firm, ``a0 / (a1 (N + 1))``: the scale of initial states."""
        return self.a0 / (self.a1 * (self.n_firms + 1))
