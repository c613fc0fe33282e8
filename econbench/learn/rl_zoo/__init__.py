"""RL Zoo (rl_zoo3) support: hyperparameter files for econbench's single-agent IDs, built from the cards and
econbench's own SB3 settings, and the wrappers and callbacks those files name. See docs/rl-zoo.md.

    python -m rl_zoo3.train --algo ppo --env econbench/<ID> --gym-packages econbench \\
        --conf-file "$(python -m econbench.learn.rl_zoo)"
"""

from __future__ import annotations

from econbench.learn.rl_zoo.hyperparams import PPO_FILE, ppo_table, ppo_tables, ppo_yaml

__all__ = ["PPO_FILE", "ppo_table", "ppo_tables", "ppo_yaml"]
