"""InvestmentOligopoly's equilibrium gap: each strategic firm's exact LQ best response to least-squares
linear fits of the others' rules, rolled out against the others' actual policies with common random
numbers. Exact when the others are linear, a lower bound otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from econbench import lq
from econbench.core import Array, GroupPolicy, Task
from econbench.envs.investment_oligopoly import solution
from econbench.metrics.best_response import FIT_EXACT_TOL, lstsq, record
from econbench.metrics.evaluate import rollout
from econbench.metrics.gaps import GapResult


def lq_game_gap(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    policy: str,
    seeds: list[int],
    episodes: int,
    backend: Any = "numpy",
    progress: bool = False,
) -> list[GapResult]:
    """Each strategic firm's LQ best response to linear fits of the others, rolled out against the true others."""
    p = task.params
    n = p.n_firms
    runs = record(task, profile, seeds, episodes, backend, progress)
    obs = np.concatenate([r.obs["firms"][:-1] for r in runs], axis=1)  # (T, e, N, 2)
    act = np.concatenate([r.actions["firms"] for r in runs], axis=1)[..., 0]  # (T, e, N)
    F = np.zeros((n, n + 1))
    worst = 0.0
    for i in range(n):
        X = np.stack([np.ones(obs[:, :, i, 0].size), obs[:, :, i, 0].ravel(), obs[:, :, i, 1].ravel()], axis=1)
        (c, own, cross), resid = lstsq(X, act[:, :, i].ravel())
        worst = max(worst, resid)
        F[i] = -cross
        F[i, 0], F[i, 1 + i] = -c, -own
    A, Bs, Rs, Qs = solution.game_matrices(p)
    Fs = [F[i : i + 1] for i in range(n)]
    dev = np.empty((sum(r.returns["firms"].shape[0] for r in runs), n))
    for i in tqdm(range(n), desc=f"{task.name} best responses", disable=not progress, leave=False):
        F_br, _ = lq.best_response(A, Bs, Rs, Qs, Fs, i, p.beta)
        dev[:, i] = np.concatenate([_deviate(task, profile, i, F_br[0], s, episodes, backend) for s in seeds])
    base = np.concatenate([r.returns["firms"] for r in runs])
    exact = worst < FIT_EXACT_TOL
    method = (
        "exact: LQ best response to the others' linear rules"
        if exact
        else f"lower bound: LQ best response to least-squares linear fits (max relative residual {worst:.2e})"
    )
    return [GapResult(task.id, policy, "firms", method, dev - base, base)]


def _deviate(
    task: Task, profile: Mapping[str, GroupPolicy], i: int, f_br: np.ndarray, seed: int, episodes: int, backend: Any
) -> np.ndarray:
    """Firm i's discounted profit when it alone plays ``u_i = -f_br . (1, q_1..q_N)``."""
    p = task.params

    def override(t: int, obs: dict[str, Array], actions: dict[str, Array]) -> dict[str, Array]:
        q = np.asarray(obs["firms"][..., 0])
        u = np.clip(-(f_br[0] + q @ f_br[1:]), -p.u_max, p.u_max)
        a = np.array(actions["firms"], copy=True)
        a[:, i, 0] = u
        return {"firms": a}

    if str(getattr(backend, "name", backend)) != "numpy":
        raise ValueError("the strategic best-response check runs on the numpy backend")
    return rollout(task, profile, episodes, seed, backend, override=override).returns["firms"][:, i]
