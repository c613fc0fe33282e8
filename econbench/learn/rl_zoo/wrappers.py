"""Environment wrappers RL Zoo's hyperparameter file names (``env_wrapper``): what a YAML table cannot spell inline."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


class RewardOffset(gym.RewardWrapper):
    """Adds a constant to every reward, as econbench's own SB3 training does for tables with ``reward_offset``.

    In a task whose episodes all last the horizon a constant per step shifts
    every policy's return alike, so the ranking is unchanged while the value
    net sees differences it can resolve. RL Zoo applies ``env_wrapper`` over
    its ``Monitor``, so the logged training returns stay in natural units;
    ``rl_zoo3.enjoy`` sums the rewards it is handed, offset included.
    """

    def __init__(self, env: gym.Env[Any, Any], offset: float) -> None:
        super().__init__(env)
        self.offset = float(offset)

    def reward(self, reward: SupportsFloat) -> float:
        return float(reward) + self.offset
