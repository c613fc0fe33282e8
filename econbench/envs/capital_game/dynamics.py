"""Batched dynamics of the capital-goods game: households buy capital goods from strategic firms.

One step, on top of the capital-goods economy's market formulation
(``econbench.envs.capital_goods.dynamics``):

* household i spends ``X_ij = s_ij Y_i`` on good j (the budget scaling as there);
* each of good j's ``M`` firms sets a markup ``m_f`` over its marginal cost and
  supplies along its schedule ``p = m_f phi M q_f``, i.e. ``q_f = h_f p`` with
  ``h_f = 1/(m_f phi M)``; the price clears the market, ``p_j sum_f q_f = X_j``:
  ``p_j = sqrt(X_j / H_j)``, ``H_j = sum_f h_f``;
* households get ``I_ij = X_ij / p_j``; firm f earns ``p_j q_f - (phi M/2) q_f^2``
  (its reward), and the firms' profits are rebated to the households in equal
  shares (households own the firms; ``rebate = false`` drops them);
* ``C_i = (1 - sum_j s_ij) Y_i + rebate``, reward ``log C_i``; capital and shocks
  move as in the economy.

With every markup 1 the price is ``sqrt(phi X_j) = phi I_j``, marginal cost: the
competitive market, whatever ``M``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.core import Array, StepOutput
from econbench.envs.capital_game.params import GameParams
from econbench.envs.capital_goods.dynamics import CapitalDynamics, CapitalState
from econbench.envs.capital_goods.solution import steady_state


@dataclass(frozen=True)
class GameState(CapitalState):
    price: Array  # (n_envs, n_capital): last period's clearing prices
    markup: Array  # (n_envs, n_firms): last period's markups


@dataclass(frozen=True)
class Trade:
    """One step's market outcome; shared by the step and the outcome metrics."""

    y: Array  # (n_envs, n_households)
    invest: Array  # (n_envs, n_households, n_capital)
    price: Array  # (n_envs, n_capital)
    supply: Array  # (n_envs, n_firms) q_f
    profit: Array  # (n_envs, n_firms)
    consumption: Array  # (n_envs, n_households)


def household_obs_size(p: GameParams) -> int:
    """own stocks and shock, aggregate shock, mean stocks, last prices."""
    return 3 * p.n_capital + 2


def firm_obs_size(p: GameParams) -> int:
    """aggregate shock, mean stocks, own good's last price, own and rivals' last markups, which good."""
    return 2 * p.n_capital + 4


class GameDynamics(CapitalDynamics):
    """Groups ``households`` (spending shares) and ``firms`` (markups; firm ``f`` makes good ``f // M``)."""

    params: GameParams

    def __init__(self, params: GameParams, backend: Backend) -> None:
        super().__init__(params, backend)
        p = params
        self.price_ss = steady_state(p).price  # competitive steady-state price, phi I
        self.good_of_firm = backend.asarray(np.repeat(np.eye(p.n_capital), p.firms_per_good, axis=0))  # (F, N_c)
        self.see_stocks = 0.0 if p.opaque_stocks else 1.0
        self.see_prices = 0.0 if p.opaque_prices else 1.0

    def trade(self, state: CapitalState, saving: Array, markup: Array) -> Trade:
        xp, p = self.xp, self.params
        n_envs, n, nc = state.k.shape
        m = p.firms_per_good
        y, s, spend = self.spending(state, saving)
        x = xp.sum(spend, axis=1)  # X_j
        h = xp.reshape(1.0 / (markup * (p.phi * m)), (n_envs, nc, m))
        price = xp.sqrt(x / xp.sum(h, axis=-1))  # 0 where nobody buys
        paid = xp.where(price > 0.0, price, 1.0)
        supply = h * price[..., None]
        profit = xp.reshape(price[..., None] * supply - (0.5 * p.phi * m) * supply**2, (n_envs, nc * m))
        rebate = xp.sum(profit, axis=-1) / n if p.rebate else xp.zeros((n_envs,), dtype=y.dtype)
        c = (1.0 - xp.sum(s, axis=-1)) * y + rebate[:, None]
        return Trade(y, spend / paid[:, None, :], price, xp.reshape(supply, (n_envs, nc * m)), profit, c)

    # ------------------------------------------------------------------ Dynamics API
    def initial_state(self, rng: BackendRNG, n_envs: int) -> GameState:
        xp, p = self.xp, self.params
        s = super().initial_state(rng, n_envs)
        price = xp.full((n_envs, p.n_capital), self.price_ss, dtype=self.backend.dtype, device=self.backend.device)
        markup = xp.ones((n_envs, p.n_firms), dtype=self.backend.dtype, device=self.backend.device)
        return GameState(s.k, s.agg, s.idio, price, markup)

    def step(
        self,
        state: GameState,
        actions: Mapping[str, Array],
        noise: Array,  # type: ignore[override]
        t: Array,
    ) -> StepOutput:
        xp, p = self.xp, self.params
        markup = actions["firms"][..., 0]
        tr = self.trade(state, actions["households"], markup)
        log_c = xp.log(tr.consumption)
        k_next = (1.0 - p.delta) * state.k + tr.invest
        agg, idio = self.next_shocks(state, noise)
        nxt = GameState(k_next, agg, idio, tr.price, markup)
        return StepOutput(nxt, {"households": log_c, "firms": tr.profit}, xp.mean(log_c, axis=1))

    def observe(self, state: GameState) -> dict[str, Array]:  # type: ignore[override]
        xp, p = self.xp, self.params
        n_envs, n, nc = state.k.shape
        f, m = p.n_firms, p.firms_per_good
        za, zi = self.shock_values(state)
        mean_k = xp.mean(state.k, axis=1) * self.see_stocks  # (n_envs, N_c)
        rel_price = state.price / self.price_ss * self.see_prices
        households = xp.concat(
            [
                state.k,
                zi[..., None],
                xp.broadcast_to(za[:, None, None], (n_envs, n, 1)),
                xp.broadcast_to(mean_k[:, None, :], (n_envs, n, nc)),
                xp.broadcast_to(rel_price[:, None, :], (n_envs, n, nc)),
            ],
            axis=-1,
        )
        by_good = xp.reshape(state.markup, (n_envs, nc, m))
        rivals = (xp.sum(by_good, axis=-1, keepdims=True) - by_good) / max(m - 1, 1) * self.see_prices
        own_price = xp.reshape(xp.broadcast_to(rel_price[..., None], (n_envs, nc, m)), (n_envs, f, 1))
        firms = xp.concat(
            [
                xp.broadcast_to(za[:, None, None], (n_envs, f, 1)),
                xp.broadcast_to(mean_k[:, None, :], (n_envs, f, nc)),
                own_price,
                state.markup[..., None],
                xp.reshape(rivals, (n_envs, f, 1)),
                xp.broadcast_to(self.good_of_firm[None, ...], (n_envs, f, nc)),
            ],
            axis=-1,
        )
        return {"households": households, "firms": firms}
