"""Batched dynamics of the capital-goods economy: households save in capital goods, made at a quadratic cost.

One step (docs/models/capital_goods.md §2):

* output ``Y_i = Z_agg Z_i prod_j K_ij^(alpha/N_c)``;
* household i spends ``X_ij = s_ij Y_i`` on good j (``sum_j s_ij`` scaled down to
  ``max_saving`` when above it); ``X_j = sum_i X_ij``;
* planner formulation: ``I_j = sqrt(2 X_j / phi)`` units are made and shared in
  proportion to spending, ``I_ij = X_ij I_j / X_j``;
* market formulation: competitive capital-good firms price at marginal cost,
  ``p_j = phi I_j = sqrt(phi X_j)``, households buy ``I_ij = X_ij / p_j`` and the
  firms' profits ``(phi/2) I_j^2 = X_j / 2`` are rebated in equal shares (or kept:
  ``rebate = false``);
* ``C_i = (1 - sum_j s_ij) Y_i + rebate``, reward ``log C_i`` (own) or the mean
  over households (shared); ``K_ij' = (1 - delta) K_ij + I_ij``;
* two-state Markov chains for the aggregate and each idiosyncratic shock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from econbench import blocks
from econbench.backend import Backend, BackendRNG
from econbench.core import Array, Dynamics, StepOutput
from econbench.envs.capital_goods.params import CapitalParams


@dataclass(frozen=True)
class CapitalState:
    k: Array  # (n_envs, n_households, n_capital)
    agg: Array  # (n_envs,) int64: aggregate shock state (0 low, 1 high)
    idio: Array  # (n_envs, n_households) int64


@dataclass(frozen=True)
class Allocation:
    """What one step's spending buys; shared by the step and the metrics (Euler errors)."""

    y: Array  # (n_envs, n_households) output
    saving: Array  # (n_envs, n_households, n_capital) spending shares after the budget scaling
    invest: Array  # (n_envs, n_households, n_capital) I_ij
    total: Array  # (n_envs, n_capital) I_j
    consumption: Array  # (n_envs, n_households)


def observation_size(p: CapitalParams) -> int:
    """own stocks and shock, aggregate shock, mean stocks, the others' stocks and shocks, the informed flag."""
    return 2 * p.n_capital + 2 + (p.n_households - 1) * (p.n_capital + 1) + 1


class CapitalDynamics(Dynamics):
    """Households as agents (group ``households``); the planner view subclasses it."""

    params: CapitalParams
    group = "households"
    # Large batches in cache-sized blocks: 1.75x at 1,024 economies of 100 households, 1.4x for the 10 x 10
    # planner and 1.1x for the market at 65,536 (against the whole batch, same machine and run)
    block_bytes = blocks.BLOCK_BYTES

    def __init__(self, params: CapitalParams, backend: Backend) -> None:
        super().__init__(params, backend)
        p, xp = params, self.xp
        n = p.n_households
        others = (np.arange(n)[:, None] + np.arange(1, n)[None, :]) % n  # household i sees i+1, i+2, ... in turn
        self.others = backend.asarray(others.ravel(), dtype=xp.int64)
        informed = np.zeros(n)
        informed[: p.n_informed] = 1.0
        self.informed = backend.asarray(informed)
        # spending below which scale^2 / X (2/phi or 1/phi over X) could overflow or phi X lose its normal range
        info = np.finfo(np.dtype(backend.dtype_name))
        self.x_floor = max(4.0 / (min(p.phi, 1.0) * float(info.max)), float(info.tiny) / min(p.phi, 1.0)) * 4.0

    # ------------------------------------------------------------------ economics
    def shock_values(self, state: CapitalState) -> tuple[Array, Array]:
        """``(Z_agg, Z_i)`` of two-state chains: low + (high - low) * state, any shape of index array."""
        xp, p, f = self.xp, self.params, self.backend.dtype
        za = p.z_agg[0] + (p.z_agg[1] - p.z_agg[0]) * xp.astype(state.agg, f)
        zi = p.z_idio[0] + (p.z_idio[1] - p.z_idio[0]) * xp.astype(state.idio, f)
        return za, zi

    def spending(self, state: CapitalState, saving: Array) -> tuple[Array, Array, Array]:
        """Output ``Y_i``, the spending shares after the budget scaling, and spending ``X_ij = s_ij Y_i``;
        whatever then turns spending into capital (sharing, competitive or strategic prices)."""
        xp, p = self.xp, self.params
        za, zi = self.shock_values(state)
        y = za[:, None] * zi * xp.exp((p.alpha / p.n_capital) * xp.sum(xp.log(state.k), axis=-1))
        total_share = xp.sum(saving, axis=-1)
        scale = xp.where(total_share > p.max_saving, p.max_saving / xp.maximum(total_share, p.max_saving), 1.0)
        s = saving * scale[..., None]
        return y, s, s * y[..., None]

    def allocate(self, state: CapitalState, saving: Array) -> Allocation:
        xp, p = self.xp, self.params
        y, s, spend = self.spending(state, saving)
        x = xp.sum(spend, axis=1)  # X_j
        x_safe = xp.where(x > 0.0, x, 1.0)
        # Units per unit of spending, scale / sqrt(X_j): as sqrt(scale^2 / X_j) (the reference's rounding) where
        # that is finite, as scale / sqrt(X_j) below x_floor, where scale^2 / X_j would overflow (tiny, subnormal
        # spending shares) or phi X_j underflow to 0. All (n_envs, n_capital): nothing per household.
        direct_ok = x_safe >= self.x_floor
        x_big = xp.where(direct_ok, x_safe, self.x_floor)  # x_safe where the direct form is used; no overflow elsewhere
        if p.formulation == "planner":
            direct = xp.sqrt(2.0 / (p.phi * x_big))  # I_j / X_j
            scale = math.sqrt(2.0 / p.phi)
            rebate = xp.zeros_like(y)
        else:
            direct = 1.0 / xp.sqrt(p.phi * x_big)  # 1 / p_j
            scale = 1.0 / math.sqrt(p.phi)
            profit = 0.5 * xp.sum(x, axis=-1)  # sum_j (phi/2) I_j^2
            rebate = xp.broadcast_to((profit / p.n_households)[:, None], y.shape) if p.rebate else xp.zeros_like(y)
        per_unit = xp.where(direct_ok, direct, scale / xp.sqrt(x_safe))
        invest = spend * per_unit[:, None, :]
        c = (1.0 - xp.sum(s, axis=-1)) * y + rebate
        return Allocation(y, s, invest, xp.sum(invest, axis=1), c)

    def next_shocks(self, state: CapitalState, noise: Array) -> tuple[Array, Array]:
        xp, p = self.xp, self.params
        agg = xp.where(noise[:, 0] < p.agg_stay, state.agg, 1 - state.agg)
        idio = xp.where(noise[:, 1:] < p.idio_stay, state.idio, 1 - state.idio)
        return agg, idio

    # ------------------------------------------------------------------ Dynamics API
    def initial_state(self, rng: BackendRNG, n_envs: int) -> CapitalState:
        p, xp = self.params, self.xp
        k = rng.uniform((n_envs, p.n_households, p.n_capital), p.k0_low * p.k_ss, p.k0_high * p.k_ss)
        agg = xp.astype(rng.uniform((n_envs,)) < 0.5, xp.int64)  # symmetric chains: states equally likely
        idio = xp.astype(rng.uniform((n_envs, p.n_households)) < 0.5, xp.int64)
        return CapitalState(k, agg, idio)

    def draw_noise(self, rng: BackendRNG, n_envs: int) -> Array:
        return rng.uniform((n_envs, 1 + self.params.n_households))

    def saving_of(self, actions: Mapping[str, Array], n_envs: int) -> Array:
        return actions[self.group]

    def step(self, state: CapitalState, actions: Mapping[str, Array], noise: Array, t: Array) -> StepOutput:
        xp, p = self.xp, self.params
        a = self.allocate(state, self.saving_of(actions, state.k.shape[0]))
        log_c = xp.log(a.consumption)
        welfare = xp.mean(log_c, axis=1)
        k_next = (1.0 - p.delta) * state.k + a.invest
        agg, idio = self.next_shocks(state, noise)
        return StepOutput(CapitalState(k_next, agg, idio), {self.group: self.reward(log_c, welfare)}, welfare)

    def reward(self, log_c: Array, welfare: Array) -> Array:
        if self.params.reward == "own":
            return log_c
        return self.xp.broadcast_to(welfare[:, None], log_c.shape)

    def observe(self, state: CapitalState) -> dict[str, Array]:
        xp = self.xp
        n_envs, n, nc = state.k.shape
        za, zi = self.shock_values(state)
        mean_k = xp.broadcast_to(xp.mean(state.k, axis=1)[:, None, :], state.k.shape)
        parts = [state.k, zi[..., None], xp.broadcast_to(za[:, None, None], (n_envs, n, 1)), mean_k]
        if n > 1:
            seen = self.informed[None, :, None]
            other_k = xp.reshape(xp.take(state.k, self.others, axis=1), (n_envs, n, (n - 1) * nc))
            other_z = xp.reshape(xp.take(zi, self.others, axis=1), (n_envs, n, n - 1))
            parts += [other_k * seen, other_z * seen]
        parts.append(xp.broadcast_to(self.informed[None, :, None], (n_envs, n, 1)))
        return {self.group: xp.concat(parts, axis=-1)}


class PlannerCapitalDynamics(CapitalDynamics):
    """One planner sets every household's spending shares and earns the mean log consumption."""

    group = "planner"

    def saving_of(self, actions: Mapping[str, Array], n_envs: int) -> Array:
        p = self.params
        return self.xp.reshape(actions["planner"], (n_envs, p.n_households, p.n_capital))

    def reward(self, log_c: Array, welfare: Array) -> Array:
        return welfare[:, None]

    def observe(self, state: CapitalState) -> dict[str, Array]:
        xp = self.xp
        n_envs = state.k.shape[0]
        za, zi = self.shock_values(state)
        return {"planner": xp.concat([xp.reshape(state.k, (n_envs, -1)), zi, za[:, None]], axis=-1)[:, None, :]}
