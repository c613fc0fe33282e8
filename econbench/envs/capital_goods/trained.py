"""Learned capital-goods planners shipped with econbench: policy folders (:mod:`econbench.policies`), no torch needed.

``baselines/capital_goods.py --export`` writes each shipped run of the draft's
planner exercises into ``trained/<exercise>/shared_ppo_cpu_seed<s>/`` with every
parameter of its economy; each folder is a named policy of exactly the tasks
with those parameters (``CapitalGoods-Planner-v0`` is the one-household
exercise, ``CapitalGoods-Planner-10x10-v0`` the 10 x 10 one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from econbench.core import PolicyFactory
from econbench.policies import shipped as shipping

TRAINED_DIR = Path(__file__).parent / "trained"
export = shipping.export


def shipped(params: Any, group: str) -> dict[str, PolicyFactory]:
    """The profiles trained on exactly this economy, by folder name."""
    return shipping.shipped(__package__ or "econbench.envs.capital_goods", "trained", params=params, groups=(group,))
