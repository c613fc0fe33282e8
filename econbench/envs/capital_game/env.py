"""Task factory, named policies and equilibrium gaps of the capital-goods game."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from econbench.backend import Backend
from econbench.cards import params_from_card
from econbench.core import BoxSpec, GroupPolicy, GroupSpec, Task
from econbench.envs.capital_game.dynamics import GameDynamics, firm_obs_size, household_obs_size
from econbench.envs.capital_game.params import GameParams
from econbench.envs.capital_goods.env import ConstantAction, constant_deviation_gap, household_deviation_gap

DEVIATION_MARKUPS = (1.0, 1.1, 1.25, 1.5, 2.0, 3.0)  # constant markups a tested firm tries (clipped to the range)


def _profile(markup: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    """Households spend the competitive steady-state share (the market's, split equally over goods); firms
    charge a constant markup: 1 (``competitive``) or the one-period Nash markup (``static_nash``)."""
    p: GameParams = task.params
    share = p.saving_ss / p.n_capital
    m = 1.0 if markup == "competitive" else p.static_nash_markup
    return {"households": ConstantAction(backend, p.n_capital, share), "firms": ConstantAction(backend, 1, m)}


def game_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[Any]:
    """Both sides' deviation-search lower bounds: households try constant spending shares, firms constant
    markups (``DEVIATION_MARKUPS``), against the profile on the same shocks."""
    p: GameParams = task.params
    markups = sorted({min(max(m, p.markup_low), p.markup_high) for m in DEVIATION_MARKUPS})
    method = (
        "lower bound by deviation search: firms {tested} in turn charge a constant markup "
        f"({', '.join(f'{m:g}' for m in markups)}) against the profile, common shocks"
    )
    return [
        *household_deviation_gap(task, profile, policy, seeds, episodes, backend),
        constant_deviation_gap(task, profile, policy, "firms", markups, method, seeds, episodes, backend),
    ]


def game_task(card: Mapping[str, Any], **overrides: Any) -> Task:
    p = params_from_card(GameParams, card["id"], **overrides)
    groups = (
        GroupSpec(
            "households",
            p.n_households,
            "household",
            BoxSpec((household_obs_size(p),)),
            BoxSpec((p.n_capital,), 0.0, 1.0),
        ),
        GroupSpec("firms", p.n_firms, "firm", BoxSpec((firm_obs_size(p),)), BoxSpec((1,), p.markup_low, p.markup_high)),
    )
    policies = {"competitive": partial(_profile, "competitive"), "static_nash": partial(_profile, "static_nash")}
    return Task(card["id"], card, p, groups, GameDynamics, p.beta, p.horizon, policies, equilibrium_gap=game_gap)
