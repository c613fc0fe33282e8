"""Evaluation under a card's protocol, optimality and equilibrium gaps, aggregate statistics."""

from econbench.metrics.evaluate import EvalResult, evaluate, rollout
from econbench.metrics.gaps import GapResult, equilibrium_gap, optimality_gap
from econbench.metrics.stats import bootstrap_ci, iqm

__all__ = ["EvalResult", "GapResult", "bootstrap_ci", "equilibrium_gap", "evaluate", "iqm", "optimality_gap", "rollout"]
