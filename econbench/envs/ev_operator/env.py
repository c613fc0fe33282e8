"""EVCharging-Operator-v0: a planner tolls EV charging stations hour by hour; drivers answer with a Wardrop equilibrium.

Specification: ``docs/models/ev_operator.md`` (and ev_charging.md §4, Example 1 of
§6). One origin, one value of time, M/M/c stations (Erlang C waits). Each
hour the operator posts a toll per station ($/EV, on top of the energy
price); that hour's nonatomic demand settles in the user equilibrium under
the tolls (Beckmann et al. 1956), computed exactly by water-filling
(:func:`econbench.envs.ev_charging.solution.wardrop_single`). Tolls are transfers, so the system cost
leaves them out while energy prices stay real costs (ev_charging.md §4, prices as costs).
The Pigouvian tolls ``v x W'(x)`` at each hour's system optimum implement it,
so the optimum is known: the reward is minus the price of anarchy the hour
achieves, -1 at the optimum (a return of -24 a day, so the leaderboard's
relative gap is the mean excess per hour).

The package: ``params.py`` (the card's constants), ``solution.py`` (each
hour's optimum, tolls and tolled equilibria, and what ``econbench solve``
prints), ``dynamics.py`` (the hour and its reward), ``policies.py`` (the
named policies) and this factory. The drivers' own tasks, and the exact
Wardrop code both use, live in ``econbench.envs.ev_charging``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from econbench.cards import params_from_card
from econbench.core import BoxSpec, GroupSpec, Task, lazy_hook
from econbench.envs.ev_operator.dynamics import GROUP, OperatorDynamics
from econbench.envs.ev_operator.params import OperatorParams
from econbench.envs.ev_operator.policies import named_policies
from econbench.envs.ev_operator.solution import summary


def operator_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(OperatorParams, card["id"], **overrides)
    obs = BoxSpec((3,), 0.0, 1.0)
    act = BoxSpec((p.n_stations,), 0.0, p.toll_max)
    group = GroupSpec(GROUP, 1, card["groups"][GROUP]["agent_name"], obs, act)
    return Task(
        card["id"],
        card,
        p,
        (group,),
        OperatorDynamics,
        p.discount,
        p.horizon,
        named_policies(p),
        solution=summary,
        figure=lazy_hook("econbench.envs.ev_operator.figure:plot_operator_rollout"),  # kept out of the fingerprint
    )
