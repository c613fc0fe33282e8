"""The interface every negotiation protocol implements."""

from __future__ import annotations

from typing import Any

from econbench.backend import Backend, PicklesNamespaces
from econbench.core import Array
from econbench.envs.rice.params import RICEParams


class Protocol(PicklesNamespaces):
    """Stages, extra action heads, agreement state, bounds on actions and observations.

    Stages are numbered 1 .. ``n_stages`` and run, in order, before every
    climate-economy step (stage 0). ``negotiate`` reads only the protocol's own
    action heads (columns ``base_heads`` onward) and must not touch the economy.
    """

    name = "base"
    n_stages = 0

    def __init__(self, p: RICEParams, backend: Backend | None = None) -> None:
        self.p, self.backend = p, backend
        self.xp: Any = backend.xp if backend is not None else None  # sizes need no backend
        self.N = p.n_regions

    def heads(self) -> tuple[int, ...]:
        """Sizes of the protocol's action heads, appended after the base block."""
        return ()

    def width(self) -> int:
        """Last-axis size of the agreement array."""
        return 0

    def negotiate(self, stage: int, agreements: Array, min_mitigation: Array, actions: Array) -> tuple[Array, Array]:
        """One negotiation stage for every env: new agreements and minimum mitigation rates ``(E, N)``."""
        return agreements, min_mitigation

    def tariff_bounds(self, agreements: Array) -> tuple[Array, Array] | None:
        """Lowest and highest allowed tariff index ``(E, N, N)`` [imposer, target], or None if unconstrained."""
        return None

    def features(self, agreements: Array) -> list[Array]:
        """Extra observation blocks ``(E, N, k)``, in order, after the own minimum mitigation rate."""
        return []

    def n_features(self) -> int:
        return 0

    def fixed_rule(self, act: Array, plan: Array, obs: Array, offsets: dict[str, int]) -> Array:
        """The negotiation of the named fixed rules: fill the protocol's heads of ``act`` ``(E, N, heads)`` (and
        the heads its agreements constrain) for regions that plan mitigation index ``plan`` ``(E, N)``, already
        raised to any agreed minimum; ``obs`` are the regions' observations, ``offsets`` their layout
        (:func:`~econbench.envs.rice.dynamics.obs_offsets`). The rules negotiate for what they plan to do anyway."""
        return act
