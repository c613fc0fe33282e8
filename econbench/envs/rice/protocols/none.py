"""No negotiation: every env step is a climate-economy step (RICE-N with negotiation_on=False)."""

from __future__ import annotations

from econbench.envs.rice.protocols.base import Protocol


class NoNegotiation(Protocol):
    name = "none"
    n_stages = 0
