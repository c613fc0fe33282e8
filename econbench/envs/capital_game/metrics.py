"""Where a capital-goods game profile ends up: its distance to the competitive and to the static-Nash outcome.

The draft's question for firms as learners is whether play converges to
competitive equilibrium (docs/models/capital_game.md §5: the steady-state output gap against the
competitive outcome, and the same against a non-competitive benchmark, to
separate "learned the competitive equilibrium" from "learned to exercise market
power"). Each profile is simulated from the competitive steady state on common
shocks; means are over the second half of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.capital_game.dynamics import GameDynamics, GameState
from econbench.metrics.evaluate import PolicySpec, resolve_policy


@dataclass(frozen=True)
class Outcome:
    markup: float  # mean markup charged
    capital: float  # mean capital per household and good
    output: float  # mean capital-good output per good, sum_f q_f
    price: float  # mean clearing price
    welfare: float  # mean per-period welfare (mean log consumption)
    profit: float  # mean per-period profit per firm


@dataclass(frozen=True)
class OutcomeReport:
    task_id: str
    policy: str
    learned: Outcome
    competitive: Outcome
    static_nash: Outcome

    def output_gap(self, to: str = "competitive") -> float:
        """``|Q - Q_ref| / Q_ref``, docs/models/capital_game.md §5."""
        ref: Outcome = getattr(self, to)
        return abs(self.learned.output - ref.output) / ref.output

    def welfare_ce(self, to: str = "competitive") -> float:
        """Consumption-equivalent change against ``to``: ``exp(mean log C - mean log C_ref) - 1`` (negative: worse)."""
        return math.expm1(self.learned.welfare - getattr(self, to).welfare)

    def as_dict(self) -> dict[str, Any]:
        return {
            "markup": self.learned.markup,
            "capital_over_competitive": self.learned.capital / self.competitive.capital,
            "output_gap_competitive": self.output_gap("competitive"),
            "output_gap_static_nash": self.output_gap("static_nash"),
            "welfare_ce_vs_competitive": self.welfare_ce("competitive"),
            "static_nash_markup": self.static_nash.markup,
            "capital_over_competitive_static_nash": self.static_nash.capital / self.competitive.capital,
        }


def simulate(task: Task, profile: Any, episodes: int = 16, steps: int = 400, seed: int = 0) -> Outcome:
    """Run ``profile`` from the competitive steady state; average over the second half of ``steps``."""
    p = task.params
    env = BatchedEnv(task, episodes, "numpy", seed=seed)
    env.reset()
    s: GameState = env.state
    env.state = GameState(np.full_like(s.k, p.k_ss), s.agg, s.idio, s.price, s.markup)
    dyn = env.dynamics
    assert isinstance(dyn, GameDynamics)
    obs = env.observe()
    sums = np.zeros(6)
    for t in range(steps):
        actions = profile_actions(profile, obs, env.action_masks)
        state = env.state
        obs, out, *_ = env.step(actions, past_end=True)  # a long-run simulation: the horizon does not apply
        if t >= steps // 2:
            markup = np.asarray(actions["firms"], dtype=np.float64)[..., 0]
            tr = dyn.trade(state, np.asarray(actions["households"], dtype=np.float64), markup)
            sums += [
                markup.mean(),
                state.k.mean(),
                tr.supply.sum(-1).mean() / p.n_capital,
                tr.price.mean(),
                float(np.mean(out.welfare)),
                tr.profit.mean(),
            ]
    return Outcome(*(sums / (steps - steps // 2)).tolist())


def outcome(task: Task, policy: PolicySpec, episodes: int = 16, steps: int = 400, seed: int = 0) -> OutcomeReport:
    """The profile's outcome beside the competitive and static-Nash references on the same shocks."""
    name, profile = resolve_policy(task, policy, "numpy")
    ref = {k: simulate(task, task.policy(k), episodes, steps, seed) for k in ("competitive", "static_nash")}
    return OutcomeReport(task.id, name, simulate(task, profile, episodes, steps, seed), **ref)
