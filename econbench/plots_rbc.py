"""Moved to :mod:`econbench.envs.rbc.figure` (the task's ``figure`` hook).

Kept only while :data:`econbench.plots.ROLLOUT_FIGURES` and ``baselines/rbc_reproduce.py`` name this module;
delete it once they reach the figure through ``task.figure``.
"""

from econbench.envs.rbc.figure import RBCSeries, consumer_groups, plot_rbc_rollout, rbc_series  # noqa: F401
