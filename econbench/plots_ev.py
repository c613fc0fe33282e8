"""Moved to :mod:`econbench.envs.ev_charging.figure`, the EV tasks' ``figure`` hook.

Kept only while ``econbench.plots.ROLLOUT_FIGURES`` still names this module;
delete it with that entry once the plots call ``Task.figure``.
"""

from econbench.envs.ev_charging.figure import EVSeries, ev_series, plot_ev_rollout

__all__ = ["EVSeries", "ev_series", "plot_ev_rollout"]
