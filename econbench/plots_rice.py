"""Moved to :mod:`econbench.envs.rice.figure` (the task's ``figure`` hook).

Kept only while :data:`econbench.plots.ROLLOUT_FIGURES` names this module; delete it once
:mod:`econbench.plots` reaches the figure through ``task.figure``.
"""

from econbench.envs.rice.figure import RICESeries, plot_rice_rollout, rice_series  # noqa: F401
