"""Shared fixtures: every registered ID, split by kind."""

from __future__ import annotations

import econbench
from econbench.registry import make_task

ALL_IDS = econbench.task_ids()
SINGLE_IDS = [t for t in ALL_IDS if make_task(t).is_single_agent]
MULTI_IDS = [t for t in ALL_IDS if t not in SINGLE_IDS]
