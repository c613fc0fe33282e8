"""Batched dynamics of EV charging, one class per model: drivers, trips and FIFO station queues in continuous time.

* :class:`~.day.DayDynamics`: the day with trips (EVCharging-v0, -Driver, -LargeCity; ev_charging.md §2);
* :class:`~.steady.SteadyDynamics`: Poisson requests and M/M/c queues (EVCharging-Steady-v0; ev_charging.md §2(a), ev_charging.md §4);
* :class:`~.batch.BatchDynamics`: N EVs at once, the atomic game (EVCharging-Batch-v0; ev_charging.md §2(b), ev_charging.md §5).

They share the state, the queues, the step's skeleton, the observation
layout and the masks (``common.py``; the state in ``state.py``). :func:`dynamics_class` maps a card's
``mode`` to its class; the task factory calls it once.
"""

from __future__ import annotations

from econbench.envs.ev_charging.dynamics.batch import BatchDynamics
from econbench.envs.ev_charging.dynamics.common import EVDynamics, StaticDynamics
from econbench.envs.ev_charging.dynamics.day import DayDynamics
from econbench.envs.ev_charging.dynamics.state import (
    AT_STATION,
    COUNTERS,
    GONE,
    IDLE,
    N_OWN,
    OPTION_FEATURES,
    STATUS_NAMES,
    STRANDED,
    TO_STATION,
    TRIP,
    EVState,
    obs_dim,
)
from econbench.envs.ev_charging.dynamics.steady import SteadyDynamics
from econbench.envs.ev_charging.params import EVParams

MODELS: dict[str, type[EVDynamics]] = {"dynamic": DayDynamics, "steady": SteadyDynamics, "oneshot": BatchDynamics}
"""A card's ``mode`` -> the model's dynamics."""


def dynamics_class(p: EVParams) -> type[EVDynamics]:
    return MODELS[p.mode]


def action_nvec(p: EVParams) -> tuple[int, ...]:
    """The drivers' action heads in this model (see each class's ``action_nvec``)."""
    return dynamics_class(p).action_nvec(p)


__all__ = [
    "AT_STATION",
    "COUNTERS",
    "GONE",
    "IDLE",
    "N_OWN",
    "OPTION_FEATURES",
    "STATUS_NAMES",
    "STRANDED",
    "TO_STATION",
    "TRIP",
    "MODELS",
    "BatchDynamics",
    "DayDynamics",
    "EVDynamics",
    "EVState",
    "StaticDynamics",
    "SteadyDynamics",
    "action_nvec",
    "dynamics_class",
    "obs_dim",
]
