"""Batched dynamics of the RBC tax-design economy (``docs/models/rbc.md`` §2-§7).

One step is one quarter of upstream's ``CudaStep`` (salesforce/ai-economist,
``real_business_cycle/rbc/cuda/firm_rbc.cu``): budget-feasible demand,
aggregation, proportional rationing, consumers' accounts, the export market,
firms' accounts and production, the next posted prices/wages/taxes, lump-sum
redistribution of the tax revenue, budgets with interest on positive balances,
capital. The kernel's block-shared sums become reductions over the agent axis;
there is no loop over environments or agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.core import Array, Dynamics, GroupSpec, StepOutput, mask_error
from econbench.envs.rbc.params import RBCParams
from econbench.obs_blocks import ObsBlocks


@dataclass(frozen=True)
class RBCState:
    """Upstream's state vectors split by meaning; leading axis ``n_envs``.

    ``consumed`` and ``exported`` are upstream's "aux" logs (the last step's
    realised consumption per consumer and good, and export sales per firm):
    carried for diagnostics and conformance, observed by nobody.
    """

    prices: Array  # (E, F): posted by firms last step, apply this step
    wages: Array  # (E, F)
    stocks: Array  # (E, F): inventories y_i
    overdemanded: Array  # (E, F): 1.0 where good i was rationed last step
    income_tax: Array  # (E,): tau
    corporate_tax: Array  # (E,): sigma
    time: Array  # (E,): steps taken (a float, as upstream's state)
    consumer_budget: Array  # (E, C)
    consumer_theta: Array  # (E, C): annealed labour-disutility coefficient
    firm_budget: Array  # (E, F)
    firm_capital: Array  # (E, F)
    firm_alpha: Array  # (E, F)
    consumed: Array  # (E, C, F)
    exported: Array  # (E, F)


def consumer_thetas(p: RBCParams) -> np.ndarray:
    """theta_j = theta / Q(j/N) with Q the Pareto(b) quantile (1 - q)^(-1/b), before annealing."""
    q = np.arange(p.n_consumers) / p.n_consumers
    return p.consumer_theta * (1.0 - q) ** (1.0 / p.pareto_scale_theta)


def firm_action_table(p: RBCParams) -> np.ndarray:
    """``(n_firm_actions, 3)`` rows (price, wage, investment fraction), index ``a * n_wages + b``."""
    price = np.repeat(np.asarray(p.price_levels), len(p.wage_levels))
    wage = np.tile(np.asarray(p.wage_levels), len(p.price_levels))
    return np.stack([price, wage, np.full(price.size, p.investment_fraction)], axis=1)


def government_action_table(p: RBCParams) -> np.ndarray:
    """``(n_government_actions, 2)`` rows (income tax, corporate tax), index ``a * n_rates + b``."""
    rates = np.asarray(p.tax_levels)
    return np.stack([np.repeat(rates, rates.size), np.tile(rates, rates.size)], axis=1)


_TOL = 1e-9  # mask bounds are computed in floating point; do not lose a grid point to rounding


def firm_action_mask(p: RBCParams) -> np.ndarray:
    """Allowed firm actions at curriculum progress ``f = firm_mask_progress`` (cuda_manager.firm_action_mask).

    Price allowed iff ``p0 - (p0 - min p) f <= price <= p0 + (max p - p0) f``,
    wage likewise around ``w0``; ``f >= 1`` allows the whole grid.
    """
    t = firm_action_table(p)
    f = max(p.firm_mask_progress, 0.0)
    p0, w0 = p.firm_mask_price_start, p.firm_mask_wage_start
    lo_p, hi_p = p0 - (p0 - min(p.price_levels)) * f, p0 + (max(p.price_levels) - p0) * f
    lo_w, hi_w = w0 - (w0 - min(p.wage_levels)) * f, w0 + (max(p.wage_levels) - w0) * f
    ok_p = (t[:, 0] >= lo_p - _TOL * max(abs(p0), 1.0)) & (t[:, 0] <= hi_p + _TOL * max(abs(p0), 1.0))
    ok_w = (t[:, 1] >= lo_w - _TOL * max(abs(w0), 1.0)) & (t[:, 1] <= hi_w + _TOL * max(abs(w0), 1.0))
    return ok_p & ok_w


def government_action_mask(p: RBCParams) -> np.ndarray:
    """Allowed tax pairs: both rates at most ``start + government_mask_progress``.

    Upstream: cuda_manager.government_action_mask.
    """
    t = government_action_table(p)
    cap = p.government_mask_tax_start + max(p.government_mask_progress, 0.0) + _TOL
    return (t[:, 0] <= cap) & (t[:, 1] <= cap)


class RBCDynamics(Dynamics):
    """Consumers (12 categorical heads), firms (30 joint actions) and a government (36 joint actions)."""

    params: RBCParams

    def __init__(self, params: RBCParams, backend: Backend) -> None:
        super().__init__(params, backend)
        p, xp = params, self.xp
        F, C = p.n_firms, p.n_consumers
        fa, ga = firm_action_table(p), government_action_table(p)
        self.cons_table = backend.asarray(np.asarray(p.consumption_levels))
        self.hours_table = backend.asarray(np.asarray(p.hours_levels))
        self.firm_table, self.gov_table = backend.asarray(fa), backend.asarray(ga)  # one gather per group decodes all
        self.firm_eye = backend.asarray(np.eye(F))  # one-hot rows: employers in actions, firm ids in observations
        # the default table is 0, 1, ..., 10 units: the head's index is the amount, a cast replaces a gather
        self._units_are_indices = list(p.consumption_levels) == list(range(len(p.consumption_levels)))
        # per-env rows of the initial state (CudaResetEnv copies this checkpoint)
        self.theta0 = backend.asarray(consumer_thetas(p))
        self.alpha0 = backend.asarray(np.asarray(p.production_alpha))
        self.capital0 = backend.asarray(np.asarray(p.initial_capital))
        self.pow10 = backend.asarray(10.0 ** np.arange(1, p.obs_digits + 1))
        self.firm_mask = backend.asarray(firm_action_mask(p), dtype=xp.bool)
        self.gov_mask = backend.asarray(government_action_mask(p), dtype=xp.bool)
        self.consumer_mask = backend.asarray(np.ones(sum(p.consumer_nvec), dtype=bool), dtype=xp.bool)
        self._firm_mask_all = bool(firm_action_mask(p).all())
        self._gov_mask_all = bool(government_action_mask(p).all())
        self._C, self._F = C, F
        # sums over consumers and over goods are products with these (see step)
        self.ones_c, self.ones_f = backend.asarray(np.ones(C)), backend.asarray(np.ones(F))
        # total hours are sums of non-negative table entries: a floor <= 0 never binds (the default is 0)
        self._floor_binds = p.labor_floor > 0.0 or min(p.hours_levels) < 0.0
        self._eyes: dict[int, Array] = {}  # n_envs -> firms' one-hot ids broadcast to (E, F, F)

    # ------------------------------------------------------------------ reset
    def initial_state(self, rng: BackendRNG, n_envs: int) -> RBCState:
        """Deterministic (upstream draws nothing at reset); theta is annealed as in CudaResetEnv."""
        p, b = self.params, self.backend
        E, C, F = n_envs, self._C, self._F
        zf = b.zeros((E, F))
        ze = b.zeros((E,))
        return RBCState(
            prices=zf + p.initial_prices,
            wages=zf + p.initial_wages,
            stocks=zf + p.initial_stocks,
            overdemanded=b.zeros((E, F)),
            income_tax=ze,
            corporate_tax=b.zeros((E,)),
            time=b.zeros((E,)),
            consumer_budget=b.zeros((E, C)) + p.initial_consumer_endowment,
            consumer_theta=(b.zeros((E, C)) + self.theta0) * p.theta_anneal_factor,
            firm_budget=b.zeros((E, F)) + p.initial_firm_endowment,
            firm_capital=b.zeros((E, F)) + self.capital0,
            firm_alpha=b.zeros((E, F)) + self.alpha0,
            consumed=b.zeros((E, C, F)),
            exported=b.zeros((E, F)),
        )

    # ------------------------------------------------------------------ actions
    def _lookup(self, table: Array, index: Array) -> Array:
        """``table[index]`` (rows, for a 2-D table) for an index array of any shape (array-API ``take`` wants 1-D)."""
        xp = self.xp
        return xp.reshape(xp.take(table, xp.reshape(index, (-1,)), axis=0), (*index.shape, *table.shape[1:]))

    def decode(self, actions: Mapping[str, Array]) -> dict[str, Array]:
        """Integer actions to the kernel's float actions (upstream ``_update_consumer_actions_inplace``, GetAction).

        Every array is newly allocated: ``step`` scales the demand in place.
        """
        xp, F = self.xp, self._F
        ca = actions["consumers"]
        fk = actions["firms"][..., 0]
        gk = actions["government"][:, 0, 0]
        units = ca[..., :F]
        if self._units_are_indices:
            demand = xp.astype(units, self.backend.dtype)
        else:
            demand = self._lookup(self.cons_table, units)
        firm = self._lookup(self.firm_table, fk)  # (E, F, 3): price, wage, investment fraction
        gov = xp.take(self.gov_table, gk, axis=0)  # (E, 2): income and corporate tax
        return {
            "demand": demand,  # (E, C, F) attempted units
            "hours": self._lookup(self.hours_table, ca[..., F]),  # (E, C)
            "employer": self._lookup(self.firm_eye, ca[..., F + 1]),  # (E, C, F) one-hot
            "price": firm[..., 0],  # (E, F) next price
            "wage": firm[..., 1],
            "invest": firm[..., 2],
            "tau": gov[:, 0],  # (E,) next income tax
            "sigma": gov[:, 1],
        }

    def check_masks(
        self,
        state: RBCState,
        actions: Mapping[str, Array],
        t: Array,
        groups: Sequence[GroupSpec],
        where: Array | None = None,
    ) -> None:
        """The curriculum masks are the same in every env and never restrict consumers: a table lookup per
        firm and government action, nothing at all on the full grids (the card's defaults)."""
        xp, b = self.xp, self.backend
        checked = {g.name for g in groups}
        for group, mask, full in (
            ("firms", self.firm_mask, self._firm_mask_all),
            ("government", self.gov_mask, self._gov_mask_all),
        ):
            if full or group not in checked:
                continue
            a = actions[group][..., 0]
            ok = self._lookup(mask, a)
            if where is not None:
                ok = ok | ~where
            if not bool(xp.all(ok)):
                env, agent = (int(v[0]) for v in np.nonzero(~b.to_numpy(ok)))
                raise mask_error(group, agent, env, 0, int(b.to_numpy(a)[env, agent]), b.to_numpy(mask))

    # ------------------------------------------------------------------ step
    def step(self, state: RBCState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        """One quarter of ``CudaStep``.

        Per (consumer, good) only three arrays are allocated: the demand (scaled
        and rationed in place into the consumption), the employers' one-hot rows
        and the utility terms. Every sum over consumers or goods (costs, demand,
        hours per employer, wages, spending, utility) is a matrix product: NumPy
        reduces the short axes of an ``(E, C, F)`` array several times slower.
        """
        xp, p = self.xp, self.params
        a = self.decode(actions)
        price, wage, y = state.prices, state.wages, state.stocks
        tau, sigma = state.income_tax, state.corporate_tax
        B = state.consumer_budget
        hours, onehot = a["hours"], a["employer"]
        price_col = price[:, :, None]  # (E, F, 1): a matrix product against it sums value over goods

        # one (E, C, F) buffer holds the attempted units, then (scaled in place) the budget-feasible
        # demand d, then (rationed in place) the consumption c: large temporaries cost page faults
        c = a["demand"]

        # 1. budget-feasible demand: scale every attempted amount by B / cost when cost exceeds B
        cost = (c @ price_col)[..., 0]  # (E, C)
        over_budget = (cost > 0.0) & (cost > B)
        scale = xp.where(over_budget, xp.maximum(B, 0.0) / xp.where(over_budget, cost, 1.0), 1.0)
        c *= scale[..., None]  # d_ij

        # 2. aggregation: demand per good, hours per employer (no labour-market clearing)
        D = self.ones_c @ c  # (E, F)
        L = (hours[:, None, :] @ onehot)[:, 0, :]  # (E, F)

        # 3. proportional rationing of over-demanded goods
        rationed = (D > 0.0) & (D > y)
        ration = xp.where(rationed, y / xp.where(rationed, D, 1.0), 1.0)
        c *= ration[:, None, :]  # c_ij
        Ctot = self.ones_c @ c  # (E, F)

        # 4. consumers' accounts and rewards
        spend = (c @ price_col)[..., 0]  # (E, C)
        gross = (onehot @ wage[:, :, None])[..., 0] * hours  # w_{e_j} h_j
        income_tax = tau[:, None] * gross
        one_minus_eta = 1.0 - p.crra_param
        # sum_i ((c_i + 1)^(1 - eta) - 1) / (1 - eta), with the F subtractions of 1 done once after the sum
        u = c + 1.0
        u **= one_minus_eta
        util = (u @ self.ones_f - float(self._F)) / one_minus_eta
        disutility = 0.5 if p.halve_labour_disutility else 1.0
        r_consumer = util - (state.consumer_theta * disutility) * hours

        # 5. export market after domestic sales (open economy)
        if p.use_importer:
            sells = (price > p.importer_price) if p.export_price_strict else (price >= p.importer_price)
            left = xp.maximum(xp.minimum(y - Ctot, p.importer_quantity), 0.0)
            X = xp.where(sells, left, 0.0)
        else:
            X = xp.zeros_like(y)

        # 6. firms' accounts: investment before corporate tax (code) or out of the budget (paper option)
        revenue = (Ctot + X) * price
        G = revenue - L * wage
        f = a["invest"]
        if p.investment_base == "gross_income":
            dK = xp.maximum(f * G, 0.0)
            profit = G - dK
            corp = sigma[:, None] * xp.maximum(profit, 0.0)
            r_firm = profit - corp
        else:  # paper wording: invest a fraction of the available (positive) budget; tax on positive gross income
            dK = f * xp.maximum(state.firm_budget, 0.0)
            corp = sigma[:, None] * xp.maximum(G, 0.0)
            r_firm = G - corp - dK

        # 7. production with pre-investment capital; output is sellable next step
        labour = xp.where(L < p.labor_floor, 0.0, L) if self._floor_binds else L
        alpha = state.firm_alpha
        Y = p.technology * state.firm_capital ** (1.0 - alpha) * labour**alpha

        # 9.-10. redistribution (equal lump sum) and budgets with interest on positive balances
        revenue_pool = income_tax @ self.ones_c + corp @ self.ones_f  # (E,)
        B_next = B + (p.consumer_budget_topup - spend + (gross - income_tax) + (revenue_pool / self._C)[:, None])
        FB_next = state.firm_budget + r_firm
        if p.interest_rate != 0.0:
            B_next = xp.where(B_next > 0.0, B_next + B_next * p.interest_rate, B_next)
            FB_next = xp.where(FB_next > 0.0, FB_next + FB_next * p.interest_rate, FB_next)

        nxt = RBCState(
            prices=a["price"],
            wages=a["wage"],
            stocks=y - Ctot - X + Y,
            overdemanded=xp.astype(rationed, self.backend.dtype),
            income_tax=a["tau"],
            corporate_tax=a["sigma"],
            time=state.time + 1.0,
            consumer_budget=B_next,
            consumer_theta=state.consumer_theta,
            firm_budget=FB_next,
            firm_capital=state.firm_capital + dK,
            firm_alpha=alpha,
            consumed=c,
            exported=X,
        )
        welfare = r_consumer @ self.ones_c
        if p.government_counts_firm_reward:
            welfare = welfare + p.firm_reward_for_government_factor * (r_firm @ self.ones_f)
        rewards = {"consumers": r_consumer, "firms": r_firm, "government": welfare[:, None]}
        return StepOutput(nxt, rewards, welfare)

    # ------------------------------------------------------------------ observations
    def _digits(self, x: Array) -> Array:
        """Upstream's digit expansion ``(x mod 10^(k+1)) / 10^(k+1)``, k = 0..D-1 (floor modulo), on a new last axis."""
        return self.xp.remainder(x[..., None], self.pow10) / self.pow10

    def global_features(self, s: RBCState) -> Array:
        """``(E, global_dim)``: prices, wages, stocks, flags, taxes, time, scaled as upstream's networks see them."""
        xp, p = self.xp, self.params
        E = s.prices.shape[0]
        if p.obs_encoding == "raw":
            stock, price, wage, time = s.stocks, s.prices, s.wages, s.time
        else:
            # a rationed-out good can keep a -1e-15 rounding residue; its digits would flip to ~1 (floor modulo)
            stock = xp.reshape(self._digits(xp.maximum(s.stocks, 0.0)), (E, -1))
            price, wage = s.prices / max(p.price_levels), s.wages / max(p.wage_levels)
            time = s.time / float(p.horizon)
        taxes = [s.income_tax[:, None], s.corporate_tax[:, None]]
        return xp.concat([price, wage, stock, s.overdemanded, *taxes, time[:, None]], axis=1)

    def _budget(self, budget: Array) -> Array:
        return budget[..., None] if self.params.obs_encoding == "raw" else self._digits(budget)

    def _firm_eye(self, E: int) -> Array:
        """The firms' one-hot ids broadcast over ``E`` envs (a view, kept per batch size)."""
        eye = self._eyes.get(E)
        if eye is None:
            eye = self._eyes[E] = self.xp.broadcast_to(self.firm_eye[None, ...], (E, self._F, self._F))
        return eye

    def observe_blocks(self, state: RBCState) -> dict[str, ObsBlocks | Array]:
        """The global features (most of a consumer's observation) stored once per economy, then each agent's own."""
        p = self.params
        g = self.global_features(state)
        E = g.shape[0]
        raw = p.obs_encoding == "raw"
        theta = state.consumer_theta if raw else state.consumer_theta / p.consumer_theta
        capital = state.firm_capital if raw else state.firm_capital / p.capital_obs_scale
        shared = g[:, None, :]
        consumers = ObsBlocks((shared, self._budget(state.consumer_budget), theta[..., None]), self._C)
        firms = ObsBlocks(
            (
                shared,
                self._budget(state.firm_budget),
                capital[..., None],
                state.firm_alpha[..., None],
                self._firm_eye(E),
            ),
            self._F,
        )
        return {"consumers": consumers, "firms": firms, "government": shared}

    def action_masks(self, state: RBCState) -> dict[str, Array]:
        """Curriculum masks from the parameters (the same in every env); consumers are never restricted upstream."""
        xp = self.xp
        E = state.prices.shape[0]
        return {
            "consumers": xp.broadcast_to(self.consumer_mask[None, None, :], (E, self._C, self.consumer_mask.shape[0])),
            "firms": xp.broadcast_to(self.firm_mask[None, None, :], (E, self._F, self.firm_mask.shape[0])),
            "government": xp.broadcast_to(self.gov_mask[None, None, :], (E, 1, self.gov_mask.shape[0])),
        }
