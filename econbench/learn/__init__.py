"""Training that econbench's own metrics and main job need, owned by the library (works from an installed wheel).

* :mod:`econbench.learn.config`: :class:`SharedPPOConfig`, a shared-PPO run's typed settings, and the packaged
  hyperparameter files (``econbench/learn/hyperparams/*.toml``) they are read from;
* :mod:`econbench.learn.networks`: the per-group actor-critic;
* :mod:`econbench.learn.shared_ppo`: the shared-parameter PPO trainer (the trained best-response gap runs it);
* :mod:`econbench.learn.trained_gap`: the trained best-response gap (retrain one group against the others);
* :mod:`econbench.learn.runs`: its run folders: checkpoints read as data, policy export, profiles for the metrics;
* :mod:`econbench.learn.sb3`: Stable-Baselines3 PPO on single-agent views (``econbench bench`` full mode);
* :mod:`econbench.learn.track`: the one tracker (W&B under CleanRL's metric names, offline without credentials) and
  the CSV learning curve;
* :mod:`econbench.learn.outputs`: where runs go (``runs/`` by default; the shipped checkpoints only when asked).

The trainers need the ``baselines`` extra (torch, stable-baselines3); importing this package does not. The readable
command-line entry points are the scripts in ``baselines/`` of a source checkout, which call these modules.
"""

from __future__ import annotations

from econbench.learn.config import HYPERPARAMS, SharedPPOConfig

__all__ = ["HYPERPARAMS", "SharedPPOConfig"]
