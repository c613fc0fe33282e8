"""RICE-N's climate-economy step, batched over environments and regions.

One climate-economy ("activity") step follows ``rice.py`` ``climate_and_economy_simulation_step``
in the order of docs/models/rice.md §4; a negotiation protocol adds its stages before
each one (:mod:`econbench.envs.rice.protocols`). Region-pair couplings (import
requests, export caps, tariffs) are ``(E, N, N)`` arrays and every sum over
regions is a matrix product: no Python loop over regions or pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from econbench.backend import Backend, BackendRNG
from econbench.core import ActionError, Array, Dynamics, GroupSpec, StepOutput, mask_error, where_state
from econbench.envs.rice.params import RICEParams
from econbench.envs.rice.protocols import get_protocol
from econbench.obs_blocks import ObsBlocks

N_ECONOMY_BLOCKS = 10  # public per-region blocks of the observation (docs/models/rice.md §6)
N_PRIVATE = 9  # own TFP, intensity, theta1, damages, abatement cost, production, utility, welfare, reward


@dataclass
class RICEState:
    """Everything ``rice.py`` stores for the current env timestep, one row per env."""

    timestep: Array  # (E,) env steps taken (rice.py "timestep")
    stage: Array  # (E,) stage of the step just executed: 0 activity, 1.. negotiation (0 at reset)
    activity: Array  # (E,) climate-economy steps taken
    temperature: Array  # (E, 2) atmosphere, lower ocean
    carbon: Array  # (E, 3) atmosphere, upper, lower reservoirs
    exogenous_forcing: Array  # (E,)
    land_emissions: Array  # (E,) per region
    capital: Array  # (E, N)
    labor: Array
    tfp: Array
    intensity: Array
    depreciation: Array
    savings: Array
    mitigation: Array
    export_limit: Array
    mitigation_cost: Array
    damages: Array
    abatement_cost: Array
    production: Array
    gross_output: Array
    investment: Array
    consumption: Array
    utility: Array
    welfare: Array
    reward: Array
    balance: Array
    tariff_revenue: Array
    domestic_consumption: Array  # diagnostics (not observed)
    debt_ratio: Array
    tariffs: Array  # (E, N, N) [imposer, target]: in force at the next climate-economy step
    imports: Array  # (E, N, N) [importer, exporter]: realised flows ("scaled_imports")
    tariffed_imports: Array
    agreements: Array  # (E, N, width): the protocol's state
    min_mitigation: Array  # (E, N)


ECONOMY_FIELDS = (
    "capital",
    "depreciation",
    "labor",
    "gross_output",
    "investment",
    "consumption",
    "savings",
    "mitigation",
    "export_limit",
    "balance",
)  # the ten public blocks, in rice.py's order
ECONOMY_NORMS = (1e4, 1.0, 1e4, 1e3, 1e3, 1e3, 1.0, 1.0, 1.0, 1e3)
PRIVATE_FIELDS = (
    "tfp",
    "intensity",
    "mitigation_cost",
    "damages",
    "abatement_cost",
    "production",
    "utility",
    "welfare",
    "reward",
)
PRIVATE_NORMS = (1e2, 0.1, 1.0, 1.0, 1.0, 1e3, 1.0, 1.0, 1.0)


def obs_offsets(p: RICEParams) -> dict[str, int]:
    """Where each part of a region's observation starts (docs/models/rice.md §6), and its total length ``"end"``.

    Own one-hot id, temperature (2), carbon (3), forcing, land emissions, timestep, the stage (with
    negotiation), the ten economy blocks, the tariffs, the own block, then with negotiation the own
    minimum mitigation and the protocol's features.
    """
    proto = get_protocol(p.protocol)(p)
    N, negotiating = p.n_regions, proto.n_stages > 0
    economy = N + 2 + 3 + 3 + (1 if negotiating else 0)
    private = economy + N_ECONOMY_BLOCKS * N + N * N
    own = private + N_PRIVATE
    end = own + (1 + proto.n_features() if negotiating else 0)
    return {
        "temperature": N,
        "timestep": N + 7,
        "economy": economy,
        "private": private,
        "min_mitigation": own,
        "protocol": own + 1,
        "end": end,
    }


def obs_dim(p: RICEParams) -> int:
    """N^2 + 11 N + 17 without negotiation (1043 for 27 regions); 1207 with the bilateral protocol."""
    return obs_offsets(p)["end"]


def action_nvec(p: RICEParams) -> tuple[int, ...]:
    proto = get_protocol(p.protocol)(p)
    return (p.rate_nvec,) * p.base_heads + proto.heads()


class RICEDynamics(Dynamics):
    """27 regions (one group) choosing savings, mitigation, export limit, tariffs, import bids and negotiation moves."""

    params: RICEParams

    def __init__(self, params: RICEParams, backend: Backend) -> None:
        super().__init__(params, backend)
        p, b = params, backend
        N = p.n_regions
        self.N = N
        self.protocol = get_protocol(p.protocol)(p, backend)
        self.stages = self.protocol.n_stages + 1  # env steps per climate-economy step
        self.nvec = action_nvec(p)
        if p.out_of_range == "execute":
            self.unchecked_ranges = frozenset({"regions"})
        arr = lambda v: b.asarray(np.asarray(v, dtype=np.float64))  # noqa: E731
        self.phi_t = arr(np.reshape(p.phi_t, (2, 2)).T)  # transposed: rows of states times Phi^T
        self.b_t = arr(p.b_t)
        self.phi_m = arr(np.reshape(p.phi_m, (3, 3)).T)
        self.b_m = arr(p.b_m)
        self.k0 = arr(p.initial_capital)
        self.l_a = arr(p.asymptotic_population)
        self.l_g = arr(p.population_growth)
        self.g_a = arr(p.tfp_growth)
        self.delta_a = arr(p.tfp_decline)
        self.initial = {
            "capital": arr(p.initial_capital),
            "labor": arr(p.initial_population),
            "tfp": arr(p.initial_tfp),
            "intensity": arr(p.initial_intensity),
        }
        self.ones_n = arr(np.ones(N))
        self.bid_scale = arr((1.0 - np.eye(N)) / p.action_levels)  # index -> rate; nobody imports from itself
        self.obs_dtype = getattr(self.xp, params.obs_dtype)
        self.obs_eye = backend.asarray(np.eye(N), dtype=self.obs_dtype)
        self.for_pref = p.for_pref_total / (N - 1)
        self.depreciation = (1.0 - p.delta_k) ** p.step_years
        width = max(self.nvec)
        self.levels = arr(np.arange(width))
        self._full_masks: dict[int, Array] = {}
        self._nvec_host = np.asarray(self.nvec)

    # ------------------------------------------------------------------ reset
    def initial_state(self, rng: BackendRNG, n_envs: int) -> RICEState:
        """Deterministic (rice.py has no RNG): timestep-0 values of docs/models/rice.md §2."""
        b, p, E, N = self.backend, self.params, n_envs, self.N
        zn = lambda: b.zeros((E, N))  # noqa: E731
        state: dict[str, Array] = {f.name: zn() for f in fields(RICEState)}
        for name, row in self.initial.items():
            state[name] = zn() + row
        state.update(
            timestep=b.zeros((E,)),
            stage=b.zeros((E,)),
            activity=b.zeros((E,)),
            temperature=b.zeros((E, 2)) + b.asarray(np.asarray(p.initial_temperature, dtype=np.float64)),
            carbon=b.zeros((E, 3)) + b.asarray(np.asarray(p.initial_carbon, dtype=np.float64)),
            exogenous_forcing=b.zeros((E,)),
            land_emissions=b.zeros((E,)),
            tariffs=b.zeros((E, N, N)),
            imports=b.zeros((E, N, N)),
            tariffed_imports=b.zeros((E, N, N)),
            agreements=b.zeros((E, N, self.protocol.width())),
        )
        return RICEState(**state)

    # ------------------------------------------------------------------ step
    def step(self, state: RICEState, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        """The stage each env is at: a negotiation stage or the climate-economy step.

        All envs of a batch are normally at the same stage (same-length episodes);
        after partial resets each stage present is computed and rows are selected.
        """
        xp, b = self.xp, self.backend
        a = actions["regions"]
        k = t + 1
        stage = k % self.stages
        if self.params.out_of_range == "execute" and not bool(xp.all(a >= 0)):
            raise ActionError("RICE: negative action index (out_of_range='execute' only accepts indices >= 0)")
        present = np.unique(b.to_numpy(stage))
        outs = {int(s): self._stage(int(s), state, a) for s in present}
        if len(outs) == 1:
            new, rewards = next(iter(outs.values()))
        else:
            new, rewards = outs[int(present[0])]
            for s in present[1:]:
                sel = stage == int(s)
                other, r = outs[int(s)]
                new = where_state(sel, other, new, xp)
                rewards = xp.where(sel[:, None], r, rewards)
        new.timestep = xp.astype(k, b.dtype)
        new.stage = xp.astype(stage, b.dtype)
        if self.params.reference_rounding:
            new = self._round32(new)
            rewards = new.reward
        done = new.activity >= self.params.n_activity_steps
        return StepOutput(new, {"regions": rewards}, self.agent_sum(rewards), terminated=done)

    def _stage(self, stage: int, state: RICEState, a: Array) -> tuple[RICEState, Array]:
        if stage == 0:
            return self.activity_step(state, a)
        agreements, minimum = self.protocol.negotiate(
            stage, state.agreements, state.min_mitigation, a[..., self.params.base_heads :]
        )
        zero = self.backend.zeros(state.reward.shape)
        new = RICEState(**{**state.__dict__, "agreements": agreements, "min_mitigation": minimum, "reward": zero})
        return new, zero

    def activity_step(self, s: RICEState, a: Array) -> tuple[RICEState, Array]:
        """Spec section 5, steps 0-8, for every env and region at once."""
        xp, p, b = self.xp, self.params, self.backend
        N, L = self.N, float(p.action_levels)
        rates = xp.astype(a[..., :3], b.dtype) / L
        savings, mitigation, export_limit = rates[..., 0], rates[..., 1], rates[..., 2]
        new_tariffs = xp.astype(a[..., 3 : 3 + N], b.dtype) / L  # contiguous: read again at the next step
        bids = xp.astype(a[..., 3 + N : 3 + 2 * N], b.dtype) * self.bid_scale  # [importer, exporter]
        ta = s.activity + 1.0  # the climate-economy step being computed, 1-based
        tm1 = ta - 1.0
        # 0. exogenous terms
        ramp = p.f_1 - p.f_0
        f_ex = p.f_0 + xp.minimum(xp.full_like(tm1, ramp), ramp / p.t_f * tm1)
        e_land = p.e_l0 * (1.0 - p.delta_el) ** tm1 / N
        # 1. production side
        t_at = s.temperature[:, 0]
        theta1 = (p.p_b / (1000.0 * p.theta_2) * (1.0 - p.delta_pb) ** tm1)[:, None] * s.intensity
        damages = 1.0 / (1.0 + p.a_1 * t_at + p.a_2 * t_at**p.a_3)
        damages = xp.broadcast_to(damages[:, None], s.capital.shape)
        abatement = theta1 * mitigation**p.theta_2
        workers = s.labor / 1000.0
        production = s.tfp * s.capital**p.gamma * workers ** (1.0 - p.gamma)
        gross = damages * (1.0 - abatement) * production
        balance = (1.0 + p.balance_interest) * s.balance
        investment = savings * gross
        # Import requests X = bids * Q_i, rescaled per importer (to its output, then by its debt) and per
        # exporter (to its cap): X_ij = bids_ij u_i c_j, so the (E, N, N) matrix is formed once.
        share = bids @ self.ones_n  # requests / Q_i: rescaled to the output when above 1
        if p.debt_ratio_formula == "10B/K0":
            debt = p.debt_multiplier * balance / self.k0
        else:
            debt = balance / (p.debt_multiplier * self.k0)
        debt = xp.clip(debt, -1.0, 0.0)
        u = gross * xp.where(share > 1.0, 1.0 / xp.where(share > 1.0, share, 1.0), 1.0) * (1.0 + debt)
        # 2. exporters' caps: column sums over importers
        exportable = export_limit * gross
        room = gross - investment
        cap = xp.where(exportable <= room, exportable, room)
        demanded = xp.matmul(u[:, None, :], bids)[:, 0, :]  # (E, N) by exporter
        scale = xp.where(demanded > cap, cap / xp.where(demanded > 0.0, demanded, 1.0), 1.0)
        imports = bids * (u[:, :, None] * scale[:, None, :])
        # 3. consumption and utility, with the tariffs chosen at the previous climate-economy step
        levied = imports * s.tariffs
        tariffed = imports - levied
        revenue = levied @ self.ones_n
        exports = xp.where(
            demanded > cap, cap, demanded
        )  # the column sums, exact where the cap binds (docs/models/rice.md §9.1)
        bought = imports @ self.ones_n
        # Where the cap binds, Q - I - exports = Q max(1 - s - x, 0) exactly: from the integer indices, so the
        # degenerate x >= 1 - s case gives 0 and not the cancellation noise upstream's float32 leaves (docs/models/rice.md §9.1)
        spare = xp.astype(p.action_levels - a[..., 0] - a[..., 2], b.dtype) / L
        domestic = xp.where(
            demanded > cap, gross * xp.maximum(spare, 0.0), xp.maximum(gross - investment - exports, 0.0)
        )
        if p.tariff_revenue == "rebated":
            domestic = domestic + revenue
        lam = p.armington_lambda
        if lam == 0.5:  # upstream's value: square roots are several times cheaper than powers
            consumption = (p.dom_pref * xp.sqrt(domestic) + self.for_pref * xp.sqrt(tariffed) @ self.ones_n) ** 2
        else:
            consumption = (p.dom_pref * domestic**lam + self.for_pref * (tariffed**lam) @ self.ones_n) ** (1.0 / lam)
        shift = p.utility_shift
        utility = workers * ((consumption / workers + shift) ** (1.0 - p.alpha) - 1.0) / (1.0 - p.alpha)
        welfare = utility / ((1.0 + p.rho) ** (p.step_years * ta))[:, None]
        # 4. trade balance
        balance = balance + p.step_years * (exports - bought)
        # 5. temperature (carbon of the previous step, forcing of this one)
        forcing = p.f_2x * xp.log(s.carbon[:, 0] / p.m_at_1750) / math.log(2.0) + f_ex
        temperature = s.temperature @ self.phi_t + forcing[:, None] * self.b_t
        # 6. carbon
        emissions = s.intensity * (1.0 - mitigation) * production + e_land[:, None]
        carbon = s.carbon @ self.phi_m + (emissions @ self.ones_n)[:, None] * self.b_m
        # 7. regional stocks
        capital = self.depreciation * s.capital + p.step_years * investment
        labor = s.labor * ((1.0 + self.l_a) / (1.0 + s.labor)) ** self.l_g
        tfp = s.tfp * (math.exp(p.tfp_drift) + self.g_a * xp.exp(-self.delta_a * p.step_years * tm1[:, None]))
        intensity = (
            s.intensity * xp.exp(-p.g_sigma * ((1.0 - p.delta_sigma) ** (p.step_years * tm1)) * p.step_years)[:, None]
        )
        new = RICEState(
            timestep=s.timestep,
            stage=s.stage,
            activity=ta,
            temperature=temperature,
            carbon=carbon,
            exogenous_forcing=f_ex,
            land_emissions=e_land,
            capital=capital,
            labor=labor,
            tfp=tfp,
            intensity=intensity,
            depreciation=xp.full_like(capital, self.depreciation),
            savings=savings,
            mitigation=mitigation,
            export_limit=export_limit,
            mitigation_cost=theta1,
            damages=damages,
            abatement_cost=abatement,
            production=production,
            gross_output=gross,
            investment=investment,
            consumption=consumption,
            utility=utility,
            welfare=welfare,
            reward=utility,
            balance=balance,
            tariff_revenue=revenue,
            domestic_consumption=domestic,
            debt_ratio=debt,
            tariffs=new_tariffs,
            imports=imports,
            tariffed_imports=tariffed,
            agreements=s.agreements,
            min_mitigation=s.min_mitigation,
        )
        return new, utility

    def _round32(self, s: RICEState) -> RICEState:
        """Every stored quantity through float32, as rice.py's state arrays hold them."""
        xp = self.xp
        out = {}
        for f in fields(s):
            v = getattr(s, f.name)
            out[f.name] = xp.astype(xp.astype(v, xp.float32), v.dtype)
        return RICEState(**out)

    # ------------------------------------------------------------------ actions and masks
    # Agreements constrain two kinds of heads only: mitigation (a lowest level) and, in a club, tariffs
    # (a band per partner). Everything below touches those heads and leaves the rest of the mask all true.
    def mitigation_floor(self, state: RICEState) -> Array:
        """Lowest allowed mitigation index ``(E, N)``: the first round(min * levels) are masked (rice.py)."""
        return self.xp.round(state.min_mitigation * self.params.action_levels)

    def check_masks(
        self,
        state: RICEState,
        actions: Mapping[str, Array],
        t: Array,
        groups: Sequence[GroupSpec],
        where: Array | None = None,
    ) -> None:
        """Mask violations: only climate-economy steps read the masked heads (negotiation stages leave them unread,
        as upstream does), and only the mitigation floor and a club's tariff band can bind."""
        xp, b = self.xp, self.backend
        if not self.protocol.n_stages or not groups:
            return
        a, N = actions["regions"], self.N
        active = xp.broadcast_to(((t + 1) % self.stages == 0)[:, None], a.shape[:2])
        if where is not None:
            active = active & where
        if not bool(xp.any(active)):
            return
        floor = self.mitigation_floor(state)
        bad = (xp.astype(a[..., 1], floor.dtype) < floor) & active
        head, lo, hi = 1, floor, None
        tb = self.protocol.tariff_bounds(state.agreements)
        if not bool(xp.any(bad)) and tb is not None:
            tariff = xp.astype(a[..., 3 : 3 + N], floor.dtype)
            bad = ((tariff < tb[0]) | (tariff > tb[1])) & active[..., None]
            head, lo, hi = 3, tb[0], tb[1]
        if not bool(xp.any(bad)):
            return
        where = tuple(int(v[0]) for v in np.nonzero(b.to_numpy(bad)))
        env, region = where[0], where[1]
        h = head + (where[2] if len(where) > 2 else 0)
        low = int(b.to_numpy(lo)[where])
        high = int(b.to_numpy(hi)[where]) if hi is not None else int(self._nvec_host[h] - 1)
        allowed = (np.arange(self._nvec_host[h]) >= low) & (np.arange(self._nvec_host[h]) <= high)
        raise mask_error("regions", region, env, h, int(b.to_numpy(a)[env, region, h]), allowed)

    def action_masks(self, state: RICEState) -> dict[str, Array]:
        xp, b, N = self.xp, self.backend, self.N
        E = state.capital.shape[0]
        full = self._full_masks.get(E)
        if full is None:
            full = self._full_masks[E] = b.full((E, N, int(self._nvec_host.sum())), True, xp.bool)
        if not self.protocol.n_stages:  # nothing ever constrains the actions
            return {"regions": full}
        W = self.params.rate_nvec  # every base head has W levels
        levels = self.levels[:W]
        out = xp.asarray(full, copy=True)
        out[..., W : 2 * W] = levels >= self.mitigation_floor(state)[..., None]
        tb = self.protocol.tariff_bounds(state.agreements)
        if tb is not None:
            band = (levels >= tb[0][..., None]) & (levels <= tb[1][..., None])  # (E, N, N, W)
            out[..., 3 * W : (3 + N) * W] = xp.reshape(band, (E, N, N * W))
        return {"regions": out}

    # ------------------------------------------------------------------ observations
    def observe_blocks(self, state: RICEState) -> dict[str, ObsBlocks]:
        """rice.py generate_observation: each region's one-hot id, the public block (the same for every region,
        stored once per economy), then the region's own row (docs/models/rice.md §6)."""
        xp = self.xp
        s, N, dt = state, self.N, self.obs_dtype
        E = s.capital.shape[0]
        col = lambda v: v[:, None]  # noqa: E731
        public = [
            s.temperature / 10.0,
            s.carbon / 1e4,
            col(s.exogenous_forcing),
            col(s.land_emissions),
            col(s.timestep / 100.0),
        ]
        if self.protocol.n_stages:
            public.append(col(s.stage))
        public += [getattr(s, f) / n for f, n in zip(ECONOMY_FIELDS, ECONOMY_NORMS)]
        public.append(xp.reshape(s.tariffs, (E, N * N)) / 100.0)
        pub = xp.astype(xp.concat(public, axis=1), dt)[:, None, :]  # (E, 1, P)
        private = [xp.stack([getattr(s, f) / n for f, n in zip(PRIVATE_FIELDS, PRIVATE_NORMS)], axis=-1)]
        if self.protocol.n_stages:
            private.append(s.min_mitigation[..., None])
            private += self.protocol.features(s.agreements)
        eye = xp.broadcast_to(self.obs_eye[None, ...], (E, N, N))
        parts = (eye, pub, *(xp.astype(x, dt) for x in private))
        return {"regions": ObsBlocks(parts, N)}
