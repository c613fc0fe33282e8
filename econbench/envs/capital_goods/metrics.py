"""Euler-equation errors of a capital-goods profile: the accuracy measure where no V* exists (docs/models/capital_goods.md §6).

For household i and good j, with the marginal resource cost (the competitive
price) ``mc_j = phi I_j``:

    err_ij = log10 | 1 - beta E[ C_i/C_i' (alpha/N_c Y_i'/K_ij' + (1 - delta) mc_j') ] / mc_j |

The expectation is over the next shocks: every combination of the aggregate
and idiosyncratic moves when there are at most ``ENUMERATE_OTHERS + 1``
households (exact); beyond that the aggregate move is enumerated and the
households' moves are drawn ``OTHER_DRAWS`` times from their chains, each
household's own move weighted by its probability (the others reach it only
through the prices). States are sampled from the profile's own trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.capital_goods.dynamics import CapitalDynamics, CapitalState
from econbench.metrics.evaluate import PolicySpec, resolve_policy

ENUMERATE_OTHERS = 4
OTHER_DRAWS = 16


@dataclass(frozen=True)
class EulerErrors:
    task_id: str
    policy: str
    errors: np.ndarray  # (states, n_households, n_capital): log10 of the relative error

    @property
    def mean(self) -> float:
        return float(self.errors.mean())

    @property
    def max(self) -> float:
        return float(self.errors.max())


def _next_moves(p: Any, rng: np.random.Generator) -> tuple[list[tuple[float, int, np.ndarray]], bool]:
    """Next-shock cases as (weight, aggregate move, idiosyncratic moves (N_h,)); a move of 1 switches that
    chain's state. Every combination when there are few households; otherwise ``OTHER_DRAWS`` draws of the
    households' moves per aggregate move, weighted per household by its own move (``drawn`` = True)."""
    n = p.n_households
    agg_prob = (p.agg_stay, 1.0 - p.agg_stay)
    if n <= ENUMERATE_OTHERS + 1:
        cases = []
        for moves in product((0, 1), repeat=n + 1):
            idio = np.array(moves[1:])
            prob = agg_prob[moves[0]] * np.prod(np.where(idio == 0, p.idio_stay, 1.0 - p.idio_stay))
            cases.append((float(prob), moves[0], idio))
        return cases, False
    return [
        (agg_prob[agg], agg, (rng.uniform(size=n) >= p.idio_stay).astype(np.int64))
        for agg in (0, 1)
        for _ in range(OTHER_DRAWS)
    ], True


def euler_errors(
    task: Task,
    policy: PolicySpec,
    seed: int = 0,
    episodes: int = 16,
    burn: int = 100,
    samples: int = 4,
    every: int = 50,
) -> EulerErrors:
    """Euler errors at ``samples`` dates (after ``burn`` steps, ``every`` apart) of ``episodes`` episodes."""
    p = task.params
    name, profile = resolve_policy(task, policy, "numpy")
    env = BatchedEnv(task, episodes, "numpy", seed=seed)
    dyn: CapitalDynamics = env.dynamics
    obs = env.reset()
    states = []
    for t in range(burn + every * (samples - 1) + 1):
        if t >= burn and (t - burn) % every == 0:
            states.append(env.state)
        obs, *_ = env.step(profile_actions(profile, obs, env.action_masks), past_end=True)  # dates, not episodes
    k = np.concatenate([s.k for s in states])
    state = CapitalState(k, np.concatenate([s.agg for s in states]), np.concatenate([s.idio for s in states]))
    now = _allocation(dyn, profile, state)
    k_next = (1.0 - p.delta) * k + now.invest
    cases, drawn = _next_moves(p, np.random.default_rng(seed))
    expect = np.zeros_like(k)
    # drawn: E = sum over (agg, own move) of P * the mean integrand over the draws where household i made that move
    sums = np.zeros((2, 2) + k.shape)
    counts = np.zeros((2, 2, p.n_households))
    for prob, agg_move, moves in cases:
        switch = np.broadcast_to(np.concatenate([[agg_move], moves]).astype(float), (k.shape[0], p.n_households + 1))
        nxt = CapitalState(k_next, *dyn.next_shocks(state, switch))  # a draw of 1 >= P(stay) switches that chain
        a = _allocation(dyn, profile, nxt)
        term = (p.alpha / p.n_capital) * a.y[..., None] / k_next + (1.0 - p.delta) * p.phi * a.total[:, None, :]
        integrand = now.consumption[..., None] / a.consumption[..., None] * term
        if not drawn:
            expect += prob * integrand
            continue
        for m in (0, 1):
            mine = moves == m
            sums[agg_move, m][:, mine] += integrand[:, mine]
            counts[agg_move, m, mine] += 1
    if drawn:
        own = (p.idio_stay, 1.0 - p.idio_stay)
        agg_prob = (p.agg_stay, 1.0 - p.agg_stay)
        for agg_move in (0, 1):
            seen = counts[agg_move] > 0  # (2, N_h): a move never drawn for a household borrows the other's mean
            means = sums[agg_move] / np.maximum(counts[agg_move], 1)[:, None, :, None]
            means = np.where(seen[:, None, :, None], means, means[::-1])
            expect += agg_prob[agg_move] * (own[0] * means[0] + own[1] * means[1])
    mc = p.phi * now.total[:, None, :]
    with np.errstate(divide="ignore"):
        err = np.log10(np.abs(1.0 - p.beta * expect / mc))
    return EulerErrors(task.id, name, np.maximum(err, -16.0))


def _allocation(dyn: CapitalDynamics, profile: Any, state: CapitalState) -> Any:
    obs = dyn.observe(state)
    actions = profile_actions(profile, obs, lambda: {})
    return dyn.allocate(state, dyn.saving_of(actions, state.k.shape[0]))
