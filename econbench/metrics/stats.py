"""Aggregate statistics: stratified bootstrap intervals and interquartile means (as rliable)."""

from __future__ import annotations

import numpy as np


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of the values."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = v.size
    if n == 0:
        raise ValueError("iqm of an empty sample")
    lo, hi = int(np.floor(0.25 * n)), int(np.ceil(0.75 * n))
    return float(v[lo:hi].mean()) if hi > lo else float(v.mean())


def bootstrap_ci(
    values: np.ndarray,
    strata: np.ndarray | None = None,
    statistic: str = "mean",
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (or IQM), resampling within each stratum.

    Strata are the evaluation seeds: each bootstrap sample keeps as many
    episodes of every seed as the data has, which is what rliable calls a
    stratified bootstrap.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("bootstrap of an empty sample")
    strata = np.zeros(values.size, dtype=int) if strata is None else np.asarray(strata).ravel()
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    picks = np.concatenate([g[rng.integers(0, g.size, (n_boot, g.size))] for g in groups], axis=1)
    samples = values[picks]
    if statistic == "mean":
        stats = samples.mean(axis=1)
    elif statistic == "iqm":
        stats = np.array([iqm(s) for s in samples])
    else:
        raise ValueError(f"unknown statistic {statistic!r}")
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1.0 - alpha))
