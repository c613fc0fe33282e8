"""EV's own mask check (one comparison per driver) decides as the generic gather over the whole mask does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from econbench.core import ActionError, BatchedEnv, Dynamics
from econbench.registry import make_task

EV_IDS = ["econbench/EVCharging-v0", "econbench/EVCharging-Steady-v0", "econbench/EVCharging-Batch-v0"]


def _outcome(check: Callable[..., None], *args: Any) -> str:
    try:
        check(*args)
    except ActionError as exc:
        return str(exc)
    return "ok"


@pytest.mark.parametrize("task_id", EV_IDS)
def test_the_drivers_check_agrees_with_the_generic_one(task_id: str) -> None:
    task = make_task(task_id)
    env = BatchedEnv(task, 3, seed=4, mask_violation="execute")
    env.reset()
    group = task.group("drivers")
    nvec = np.asarray(group.action.nvec)
    rng = np.random.default_rng(0)
    outcomes, seen_busy = set(), False
    for k in range(min(12, env.horizon)):
        busy = np.asarray(env.state.status) != 0
        seen_busy |= bool(busy.any())
        acts = rng.integers(0, nvec, (3, group.n_agents, nvec.size))
        acts[..., 0] = np.where(busy, 0, acts[..., 0])  # legal, but on odd steps one busy driver picks a station
        if k % 2 and busy.any():
            e, i = (int(v[0]) for v in np.nonzero(busy))
            acts[e, i, 0] = 1
        for where in (None, np.asarray(rng.random((3, group.n_agents)) < 0.5)):
            args = (env.state, {"drivers": acts}, env.t, (group,), where)
            mine, generic = (
                _outcome(env.dynamics.check_masks, *args),
                _outcome(Dynamics.check_masks, env.dynamics, *args),
            )
            assert mine == generic
            outcomes.add(mine == "ok")
        env.step({"drivers": acts}, past_end=True)
    assert True in outcomes and (False in outcomes or not seen_busy)  # both verdicts, where a driver was busy
