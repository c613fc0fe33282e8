"""Negotiation protocols of the RICE task: stages before each climate-economy step.

A protocol keeps its agreements in one ``(n_envs, n_regions, width)`` array,
updates it in its own stages, and turns it into per-head bounds on the
regions' actions, which become the action masks (the RICE-N white paper's
idea: fix the core actions and bridge agreements to them through masking).
To add one: a module here with a :class:`~econbench.envs.rice.protocols.base.Protocol`
subclass, its name in :data:`PROTOCOLS`, and a ``[protocols.<name>]`` entry
in the RICECooperation card.
"""

from __future__ import annotations

from econbench.envs.rice.protocols.base import Protocol
from econbench.envs.rice.protocols.bilateral import Bilateral
from econbench.envs.rice.protocols.club import Club
from econbench.envs.rice.protocols.none import NoNegotiation

PROTOCOLS: dict[str, type[Protocol]] = {"none": NoNegotiation, "bilateral": Bilateral, "club": Club}


def get_protocol(name: str) -> type[Protocol]:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown negotiation protocol {name!r}; known: {sorted(PROTOCOLS)}")
    return PROTOCOLS[name]


__all__ = ["PROTOCOLS", "Protocol", "get_protocol"]
