"""The EV tasks' hooks for generic tools (see :class:`econbench.core.Task`): exact solutions, metrics, the figure.

* ``solution``: the named quantities ``econbench solve`` prints, for the two
  models with an exact solution: the steady queue's Wardrop equilibrium and
  system optimum (ev_charging.md §4) and the batch game's Nash equilibrium and optimum (ev_charging.md §5),
  each on the very instance the env simulates (``city.py``). The day with
  trips has none.
* ``report``: :func:`~econbench.envs.ev_charging.metrics.ev_metrics` as the
  ``ev_metrics`` section ``econbench evaluate`` prints beside the score.
* ``figure``: the rollout figure of ``figure.py``, imported by name when
  drawn: plotting is no part of a task's definition, so it stays out of the
  import closure that fingerprints the task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from econbench.core import Task, lazy_hook
from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.city import batch_game, steady_instance
from econbench.envs.ev_charging.metrics import ev_metrics
from econbench.envs.ev_charging.params import EVParams


def report(
    task: Task, profile: Mapping[str, Any], seed: int = 0, episodes: int = 1, backend: str = "numpy"
) -> dict[str, Any]:
    """``econbench evaluate``'s ``ev_metrics`` section: :func:`~econbench.envs.ev_charging.metrics.ev_metrics`."""
    return {"ev_metrics": ev_metrics(task, profile, seed=seed, episodes=episodes, backend=backend)}


def steady_summary(p: EVParams) -> dict[str, Any]:
    """EVCharging-Steady: the Wardrop equilibrium and the system optimum of the nonatomic instance (ev_charging.md §4, Erlang C
    waits), flows ``(origins, classes, stations)`` and station loads in EV/h, waits in queue in hours."""
    inst = steady_instance(p)
    ue, so = solution.wardrop(inst), solution.system_optimum(inst)
    demand = float(inst.demand.sum())
    return {
        "demand (EV/h)": demand,
        "Wardrop flows (EV/h), origin x class x station": ue.flows,
        "Wardrop station loads (EV/h)": ue.loads,
        "Wardrop waits in queue (h)": ue.waits,
        "Wardrop total cost ($/h)": ue.total_cost,
        "Wardrop cost per EV ($)": ue.total_cost / demand,
        "Wardrop relative gap": inst.relative_gap(ue.flows),
        "system-optimum flows (EV/h), origin x class x station": so.flows,
        "system-optimum station loads (EV/h)": so.loads,
        "system-optimum waits in queue (h)": so.waits,
        "system-optimum total cost ($/h)": so.total_cost,
        "system-optimum cost per EV ($)": so.total_cost / demand,
        "price of anarchy TC(UE) / TC(SO)": ue.total_cost / so.total_cost,
    }


def batch_summary(p: EVParams) -> dict[str, Any]:
    """EVCharging-Batch: the atomic game's pure Nash equilibrium by best-response dynamics from the naive profile,
    the optimum by assignment, and the naive profile (each EV's best station as if alone); costs in dollars."""
    game = batch_game(p)
    nash, sweeps = game.best_response_dynamics()
    optimum, naive = game.optimum(), game.naive()
    return {
        "Nash equilibrium station counts": game.counts(nash),
        "Nash equilibrium total cost ($)": game.total_cost(nash),
        "Nash equilibrium NashConv ($)": game.nash_conv(nash),
        "best-response sweeps that moved an EV": sweeps,
        "Nash equilibrium stations by EV": nash,
        "optimum station counts": game.counts(optimum),
        "optimum total cost ($)": game.total_cost(optimum),
        "optimum stations by EV": optimum,
        "price of anarchy (Nash / optimum)": game.total_cost(nash) / game.total_cost(optimum),
        "naive profile station counts": game.counts(naive),
        "naive profile total cost ($)": game.total_cost(naive),
    }


SOLUTIONS: dict[str, Callable[[EVParams], Mapping[str, Any]]] = {"steady": steady_summary, "oneshot": batch_summary}
"""A card's ``mode`` -> its exact solution's summary (the day with trips has no exact solution)."""


figure = lazy_hook("econbench.envs.ev_charging.figure:plot_ev_rollout")
"""One episode per policy: queues, plugs in use, driver activity, cost and energy by station."""
