"""Parameters of the capital-goods game: the market economy with strategic capital-good firms.

The draft paper's exercise "capital-good firms as AI agents, 1 vs 1, 2 vs 2,
10 vs 10: does it converge to competitive equilibrium?" (Covarrubias 2021 draft, docs/models/capital_game.md;
section 4.2; the author's ``capital_game`` in marketsAI ``obsolete/``). Values
live in ``tasks/CapitalGoodsGame*.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from econbench.envs.capital_goods.params import CapitalParams
from econbench.validate import domain


@dataclass(frozen=True)
class GameParams(CapitalParams):
    """The household side is ``CapitalParams``'s market formulation; ``firms_per_good`` firms make each good.

    A firm that makes ``q`` units pays ``(phi M / 2) q^2`` (``M = firms_per_good``): at a symmetric
    split of ``Q`` the industry's cost is the economy's ``(phi/2) Q^2`` and its marginal cost
    ``phi Q``, so the competitive outcome does not depend on ``M``; only market power does.
    """

    # M: 1, 2, 10 for the draft's 1v1, 2v2, 10v10 (with as many households)
    firms_per_good: int = domain("[1, 1000]", count=True)
    markup_low: float = domain("(0, 1]")  # action range of a firm's price over its marginal cost
    markup_high: float = domain("[1, inf)")
    opaque_stocks: bool  # households see only their own stocks; firms see no stock at all
    opaque_prices: bool  # nobody sees last period's prices, firms not their rivals' markups

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.formulation != "market" or self.reward != "own":
            raise ValueError(
                "the capital-goods game is a market with households earning their own consumption: "
                f"need formulation='market' and reward='own', got {self.formulation!r}, {self.reward!r}"
            )
        if self.informed_share != 1.0:
            raise ValueError(
                "the game's information options are opaque_stocks and opaque_prices; "
                f"informed_share must be 1, got {self.informed_share}"
            )

    def memory_bytes(self) -> tuple[float, float]:
        """The households' as in :class:`CapitalParams`, plus each firm's good (one-hot), markup, supply and profit."""
        fixed, per_economy = super().memory_bytes()
        return fixed + 8.0 * self.n_firms * self.n_capital, per_economy + 8.0 * 8 * self.n_firms

    @property
    def n_firms(self) -> int:
        return self.n_capital * self.firms_per_good

    @property
    def static_nash_markup(self) -> float:
        """Symmetric Nash markup of the one-period game, spending fixed (see ``dynamics``): ``(M - 1/2)/(M - 1)``.

        A firm's profit with supply schedule ``h = 1/(m phi M)`` against rivals' ``H`` is
        ``X h (1 - phi M h / 2) / (h + H)``; its first-order condition at symmetry gives
        ``phi M h = (M - 1)/(M - 1/2)``. A sole firm (M = 1) faces unit-elastic demand and
        would raise its price without bound: the action range caps it.
        """
        m = self.firms_per_good
        return self.markup_high if m == 1 else min((m - 0.5) / (m - 1.0), self.markup_high)

    def k_at_markup(self, markup: float) -> float:
        """Deterministic steady state when every firm charges ``markup`` times marginal cost.

        The household's Euler equation with price ``markup * phi I``:
        ``markup phi I (1 - beta(1-delta)) = beta (alpha/N_c) K^(alpha-1)``, so ``K = K_ss markup^(-1/(2-alpha))``;
        the spending share is the competitive one (log utility, Cobb-Douglas).
        """
        return self.k_ss * markup ** (-1.0 / (2.0 - self.alpha))
