"""Callbacks RL Zoo's hyperparameter file names (``callback``): settings of econbench's SB3 runs with no PPO keyword."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback


class InitialAction(BaseCallback):
    """Starts the Gaussian policy's mean at ``mean`` (in [-1, 1] units: the file rescales Box actions) in every state.

    econbench's SB3 runs set this where the default start (the middle of the
    action box) is ruinous (``init_action`` in ``hyperparams/ppo.toml``; see
    :func:`econbench.learn.sb3.set_initial_action`). SB3 initialises the action
    head with tiny weights, so its bias alone sets the initial mean. A model
    that has already been updated (``rl_zoo3.train -i``) keeps its head.
    """

    def __init__(self, mean: float | Sequence[float], verbose: int = 0) -> None:
        super().__init__(verbose)
        self.mean = mean

    def _on_training_start(self) -> None:
        if self.model._n_updates > 0:  # continued training: num_timesteps may have been reset, the update count is not
            return
        bias = self.model.policy.action_net.bias
        with torch.no_grad():
            bias.copy_(torch.as_tensor(np.array(np.broadcast_to(np.asarray(self.mean, dtype=np.float64), bias.shape))))

    def _on_step(self) -> bool:
        return True
