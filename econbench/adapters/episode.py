"""Episode statistics of the quantity the benchmark scores: its return discounted at the card's rate.

The score (:func:`econbench.metrics.evaluate.score_of`) is the discounted sum
``sum_t discount**t * r_t`` from ``t = 0`` of the learner's reward in role and
planner views, and of the card's ``score_of`` quantity in the whole game (the
welfare, or the mean reward of a group's agents). Gymnasium's
``RecordEpisodeStatistics``, SB3's ``Monitor`` and CleanRL report the
undiscounted sum of rewards instead, which can be a different number altogether
(2.7e7 against a score of 1.93e6 on InvestmentLQ-Planner-v0). So every adapter
reports the scored return at episode end, in Gymnasium's episode-statistics
shape, under its own key (:data:`KEY`; Gymnasium's wrapper refuses an
``"episode"`` key that is already there):

* ``EconEnv``: ``info["discounted_episode"] = {"r": float, "l": int}`` (no wall-clock ``"t"``: Gymnasium
  requires a step's info to depend on the seed and actions only);
* ``EconVectorEnv``: ``infos["discounted_episode"] = {"r", "l", "t"}`` arrays (0 where
  no episode ended) and the mask ``infos["_discounted_episode"]``, as Gymnasium's
  vector ``RecordEpisodeStatistics`` shapes ``"episode"``;
* ``EconSB3VecEnv``: ``infos[i]["discounted_episode"]`` beside ``infos[i]["episode"]``.

``"l"`` is the episode's length, ``"t"`` its wall-clock seconds (SB3: since the
env was made, as ``Monitor``'s ``"t"``). The mean of ``"r"`` over the episodes of
an evaluation seed is that seed's score under :func:`econbench.metrics.evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from econbench.core import Task
from econbench.metrics.evaluate import Rollout, score_of

KEY = "discounted_episode"


def scored_reward(task: Task, reward: np.ndarray, rewards: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The per-step quantity whose discounted sum is the score: ``reward`` itself in single-agent views; in the
    whole game (``rewards`` per group, ``reward`` the welfare) the card's ``score_of``, applied to one step (it is
    linear in the rewards, so summing after or before it gives the same score)."""
    if rewards is None or task.is_single_agent:
        return reward
    return score_of(task, Rollout(dict(rewards), reward))


@dataclass
class Ended:
    """Episodes that ended this step: ``done`` per economy, their statistics (0 where not done)."""

    done: np.ndarray
    r: np.ndarray
    l: np.ndarray  # Gymnasium's name
    t: np.ndarray

    def vector_info(self) -> dict[str, object]:
        """The entries a Gymnasium vector env adds to ``infos``."""
        return {KEY: {"r": self.r, "l": self.l, "t": self.t}, f"_{KEY}": self.done}

    def entry(self, i: int) -> dict[str, float | int]:
        """Economy ``i``'s episode as one env's ``info[KEY]``."""
        return {"r": float(self.r[i]), "l": int(self.l[i]), "t": float(self.t[i])}


class DiscountedEpisodes:
    """Running discounted returns of ``n_envs`` economies, restarted per economy when its episode ends.

    While every economy's episode began at the same step (a batch that resets together), the discount factor,
    the length and the start time are one number each rather than arrays: at 65,536 economies that is two
    passes over memory fewer per step, about 40 of 90 us.
    """

    def __init__(self, n_envs: int, discount: float) -> None:
        self.discount = float(discount)
        self.returns = np.zeros(n_envs, dtype=np.float64)
        self.restart()

    def __setstate__(self, state: dict[str, object]) -> None:
        # Ray hands unpickled arrays over read-only (zero-copy); the running sums are updated in place
        self.__dict__.update({k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in state.items()})

    def restart(self, mask: np.ndarray | None = None) -> None:
        """New episodes in every economy, or where ``mask`` is true."""
        now = time.perf_counter()
        where = None if mask is None else np.asarray(mask, dtype=bool)
        if where is None or where.all():
            self.returns[:] = 0.0
            # discount**t by repeated products, as the evaluation has it
            self.factors: float | np.ndarray = 1.0
            self.lengths: int | np.ndarray = 0
            self.starts: float | np.ndarray = now
            return
        n = self.returns.shape[0]
        if np.ndim(self.factors) == 0:  # the economies' episodes part ways
            self.factors = np.full(n, self.factors, dtype=np.float64)
            self.lengths = np.full(n, self.lengths, dtype=np.int64)
            self.starts = np.full(n, self.starts, dtype=np.float64)
        self.returns[where], self.factors[where], self.lengths[where] = 0.0, 1.0, 0  # type: ignore[index]
        self.starts[where] = now  # type: ignore[index]

    def step(self, reward: np.ndarray, done: np.ndarray, counted: np.ndarray | None = None) -> Ended | None:
        """Add one step's scored reward; ``counted`` false marks economies whose step is a reset, not part of an
        episode (a vector env's next-step autoreset). Returns the episodes that ``done`` ends, and restarts them."""
        self.returns += self.factors * reward
        self.lengths += 1
        self.factors *= self.discount
        done = np.asarray(done, dtype=bool)
        if counted is not None and not counted.all():
            self.restart(~counted)  # their step began a new episode: it counts for nothing
            done = done & counted
        if not done.any():
            return None
        elapsed = np.round(time.perf_counter() - self.starts, 6)
        ended = Ended(
            done.copy(),
            np.where(done, self.returns, 0.0),
            np.where(done, self.lengths, 0),
            np.where(done, elapsed, 0.0),
        )
        self.restart(done)
        return ended
