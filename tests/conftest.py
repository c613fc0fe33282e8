"""Shared fixtures: every registered ID, split by kind."""

from __future__ import annotations

import econbench
from econbench.cards import load_card
from econbench.registry import make_task

# Cards marked large (a city of 100,000 drivers) are stepped by their own tests and the benchmarks;
# the generic checks below run every other ID (they build per-agent dicts and sample every action).
LARGE_IDS = [t for t in econbench.task_ids() if load_card(t).get("large", False)]
ALL_IDS = [t for t in econbench.task_ids() if t not in LARGE_IDS]
SINGLE_IDS = [t for t in ALL_IDS if make_task(t).is_single_agent]
MULTI_IDS = [t for t in ALL_IDS if t not in SINGLE_IDS]


def unmasked(task_id: str) -> dict[str, str]:
    """Options that let uniformly sampled actions through where agreements make masks binding.

    Gymnasium's and SB3's checkers sample ``action_space.sample()`` without the
    mask; RICE's negotiated masks reject such actions unless
    ``mask_violation="execute"`` (upstream's behaviour). tests/test_rice.py
    checks the default error.
    """
    p = make_task(task_id).params
    binding = getattr(p, "mask_violation", None) == "error" and getattr(p, "protocol", "none") != "none"
    return {"mask_violation": "execute"} if binding else {}
