"""Parameters of RICE-N: 27 regions, the DICE climate module, trade and tariffs.

Values live in ``tasks/RICECooperation*.toml``. Upstream:
mila-iqia/climate-cooperation-competition at commit 148ed85 (the version the
competition evaluated with): ``rice.py`` (the env and its hard-coded
constants), ``rice_helpers.py`` (one function per equation) and
``region_yamls/`` (``default.yml`` and one file per region). Specification:
``docs/models/rice.md``. White paper: Zhang et al., arXiv 2208.07004.

Upstream defects (docs/models/rice.md §9) are reproduced by default; the ones that
change the model have a named option here (``debt_ratio_formula``,
``tariff_revenue``, ``full_rate_level``, ``out_of_range``), each tested
both ways; upstream's advisory masks are the env option
``mask_violation="execute"`` (:data:`econbench.core.MASK_VIOLATIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from econbench.validate import check_params, domain

DEBT_RATIO_FORMULAS = ("10B/K0", "B/(10K0)")
TARIFF_REVENUE = ("discarded", "rebated")
OUT_OF_RANGE = ("error", "execute")


@dataclass(frozen=True)
class RICEParams:
    """Every constant of the model; per-region tuples are in the reference's region order."""

    # --- time (default.yml _DICE_CONSTANT)
    n_regions: int = domain("[2, inf)", count=True)  # one per file in region_yamls/ other than default.yml
    n_activity_steps: int = domain("[1, inf)")  # xN = 20 climate-economy steps
    start_year: int  # xt_0 = 2015
    step_years: float = domain("(0, inf)")  # xDelta = 5
    discount: float = domain("(0, 1]")  # econbench: the competition's training configs use gamma = 0.92 per env step

    # --- climate (default.yml _DICE_CONSTANT)
    phi_t: tuple[float, ...]  # xPhi_T, row-major 2x2
    b_t: tuple[float, ...]  # xB_T
    phi_m: tuple[float, ...]  # xPhi_M, row-major 3x3
    b_m: tuple[float, ...]  # xB_M
    m_at_1750: float = domain("(0, inf)")  # xM_AT_1750
    f_0: float  # xf_0
    f_1: float  # xf_1
    t_f: float  # xt_f
    e_l0: float  # xE_L0
    delta_el: float  # xdelta_EL
    initial_carbon: tuple[float, ...] = domain("[0, inf)")  # xM_AT_0, xM_UP_0, xM_LO_0
    f_2x: float = domain("(0, inf)")  # xF_2x
    initial_temperature: tuple[float, ...]  # xT_AT_0, xT_LO_0 (default.yml _RICE_CONSTANT)

    # --- economy, common to all regions (default.yml _RICE_CONSTANT; region files repeat a1, a2, a3, gamma)
    gamma: float = domain("(0, 1)")  # xgamma: capital elasticity
    theta_2: float = domain("(0, inf)")  # xtheta_2: abatement cost exponent
    a_1: float  # xa_1
    a_2: float  # xa_2
    a_3: float  # xa_3
    delta_k: float = domain("(0, 1]")  # xdelta_K: capital depreciation per year
    alpha: float = domain("(0, inf)")  # xalpha: elasticity of marginal utility
    rho: float = domain("(-1, inf)")  # xrho: pure time preference (welfare observation only)
    g_sigma: float  # xg_sigma
    delta_sigma: float  # xdelta_sigma
    p_b: float = domain("(0, inf)")  # xp_b: backstop price
    delta_pb: float  # xdelta_pb

    # --- hard-coded in rice.py
    balance_interest: float = domain("(-1, inf)")  # 0.1 per step on positive and negative balances
    armington_lambda: float = domain("(0, 1]")  # sub_rate = 0.5
    dom_pref: float = domain("[0, 1]")  # dom_pref = 0.5
    for_pref_total: float = domain("[0, 1]")  # for_pref = [0.5 / (N - 1)] * N: each partner's weight is this / (N - 1)
    debt_multiplier: float = domain("(0, inf)")  # 10 in the debt ratio
    tfp_drift: float  # exp(0.0033) per step in the TFP update: this is the exponent
    utility_shift: float = domain("[0, inf)")  # _SMALL_NUM = 1.0 (not small, docs/models/rice.md §9.9)

    # --- regions (region_yamls/<file>, order of a lexicographic sort of the file names)
    region_files: tuple[str, ...]
    initial_tfp: tuple[float, ...] = domain("(0, inf)")  # xA_0
    initial_capital: tuple[float, ...] = domain("(0, inf)")  # xK_0
    initial_population: tuple[float, ...] = domain("(0, inf)")  # xL_0 (millions)
    asymptotic_population: tuple[float, ...] = domain("(0, inf)")  # xL_a
    tfp_decline: tuple[float, ...]  # xdelta_A
    tfp_growth: tuple[float, ...]  # xg_A
    population_growth: tuple[float, ...]  # xl_g
    initial_intensity: tuple[float, ...] = domain("[0, inf)")  # xsigma_0

    # --- actions
    action_levels: int = domain("[1, inf)", count=True)  # num_discrete_action_levels = 10: a rate is index / levels
    full_rate_level: bool  # econbench: False = upstream's nvec (rates 0-0.9); True adds index `levels` (rate 1.0)

    # --- negotiation (econbench.envs.rice.protocols)
    protocol: str  # "none", "bilateral" (RICE-N's proposal/evaluation) or "club"
    club_min_mitigation: float  # club: members' minimum mitigation rate
    club_tariff: float  # club: members' common tariff on non-members
    club_free_trade: bool  # club: members impose no tariffs on each other
    club_min_members: int = domain("[0, inf)")  # club: it forms only with at least this many members

    # --- upstream defects behind options (docs/models/rice.md §9)
    debt_ratio_formula: str  # "10B/K0" (CPU env since e7c118e) or "B/(10K0)" (before; the CUDA port still)
    tariff_revenue: str  # "discarded" (upstream: computed, never used) or "rebated" to the importer's consumption
    out_of_range: str  # "error" (econbench) or "execute" (upstream divides any index by levels)
    reference_rounding: bool  # round every stored quantity to float32 after each step, as upstream's arrays do

    # --- observations
    obs_dtype: str  # "float32" (upstream's state is float32; half the memory per step) or "float64"

    def __post_init__(self) -> None:
        for f in fields(self):  # TOML arrays arrive as lists; keep the dataclass hashable
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))
        check_params(self)
        if self.alpha == 1.0:
            raise ValueError(
                "alpha = 1 (log utility) is not supported by the reference's utility (C^(1-alpha) - 1)/(1-alpha)"
            )
        n = self.n_regions
        per_region = (
            "region_files",
            "initial_tfp",
            "initial_capital",
            "initial_population",
            "asymptotic_population",
            "tfp_decline",
            "tfp_growth",
            "population_growth",
            "initial_intensity",
        )
        for name in per_region:
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs one value per region ({n}), got {len(getattr(self, name))}")
        if n < 2:
            raise ValueError(f"n_regions must be at least 2 (trade needs partners), got {n}")
        for name, choices in (
            ("debt_ratio_formula", DEBT_RATIO_FORMULAS),
            ("tariff_revenue", TARIFF_REVENUE),
            ("out_of_range", OUT_OF_RANGE),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {getattr(self, name)!r}")
        if self.obs_dtype not in ("float32", "float64"):
            raise ValueError(f"obs_dtype must be 'float32' or 'float64', got {self.obs_dtype!r}")
        for name in ("club_min_mitigation", "club_tariff"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a rate in [0, 1], got {v}")

    def memory_bytes(self) -> tuple[float, float]:
        """Per economy: each region's observation (about N^2 features, float32, this step's and the last), its
        action heads and mask, and the (N, N) tariff, trade and agreement arrays with their temporaries (float64)."""
        n = self.n_regions
        heads = 3 + 4 * n  # base heads and, with negotiation, about as many again
        observations = 4.0 * 2 * n * (n * n + 20 * n + 20)
        return 0.0, observations + 8.0 * (12 * n * n + 40 * n) + n * heads * (self.action_levels + 9)

    @property
    def rate_nvec(self) -> int:
        """Choices of one rate head: levels 0 .. levels-1 upstream, plus `levels` (rate 1) with full_rate_level."""
        return self.action_levels + (1 if self.full_rate_level else 0)

    @property
    def base_heads(self) -> int:
        """Savings, mitigation, export limit, N tariffs, N import bids."""
        return 3 + 2 * self.n_regions

    @property
    def end_year(self) -> float:
        return self.start_year + self.step_years * self.n_activity_steps
