"""Learned RICE-N profiles shipped with econbench: policy folders (:mod:`econbench.policies`), no torch needed.

``baselines/rice.py`` trains every region with shared-parameter PPO on each
protocol and exports the run's actor here (``trained/<protocol>/<name>/``):
observation normaliser, three linear layers and the masked action heads,
evaluated in float64 as RBC's shipped profiles are. Each folder becomes a named
policy of the RICE tasks of that protocol (the whole game and its region view,
where the other regions can follow it), acting deterministically (the most
likely allowed choice of every head), as econbench scores every trained policy.
A network only fits the protocol it trained on: the heads and observations differ.
"""

from __future__ import annotations

from pathlib import Path

from econbench.core import PolicyFactory
from econbench.policies import shipped as shipping

TRAINED_DIR = Path(__file__).parent / "trained"
GROUP = "regions"
export = shipping.export  # baselines/rice.py writes a run's network into TRAINED_DIR/<protocol>/<name>/


def shipped(protocol: str) -> dict[str, PolicyFactory]:
    """The profiles shipped for a protocol, by folder name."""
    return shipping.shipped(__package__ or "econbench.envs.rice", f"trained/{protocol}", groups=(GROUP,))
