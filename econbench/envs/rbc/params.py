"""Parameters of the RBC tax-design economy (consumers, firms, a government).

Values live in ``tasks/RBCTax*.toml``. Upstream: salesforce/ai-economist at
commit a84d5f3, ``ai_economist/real_business_cycle/``:
``rbc/cuda/firm_rbc.cu`` (the kernel, the only implementation of the dynamics),
``rbc/cuda_manager.py`` (initial state, masks, curriculum, government reward),
``rbc/constants.py`` (``all_agents_short_export_experiment_template``) and
``train_multi_exps.py`` (the paper's sweep values). Paper: arXiv 2201.01163
("Analyzing Micro-Founded General Equilibrium Models with Many Agents using
Deep RL"). Description: ``docs/models/rbc.md``.

Where paper and code differ (docs/models/rbc.md §9) the code's choice is the default
and the paper's is a named option: ``export_price_strict``,
``halve_labour_disutility``, ``investment_base``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from econbench.validate import check_params, domain

OBS_ENCODINGS = ("digits", "raw")
INVESTMENT_BASES = ("gross_income", "budget")


@dataclass(frozen=True)
class RBCParams:
    """Every constant of the economy; tuples are action tables or per-firm values."""

    # --- sizes and time
    # constants.py template arg NUMCONSUMERS; train_multi_exps.py --num-consumers 100
    n_consumers: int = domain("[1, inf)", count=True)
    # constants.py NUMFIRMS; train_multi_exps.py --num-firms 10 (one good per firm)
    n_firms: int = domain("[1, inf)", count=True)
    horizon: int = domain("[1, inf)")  # constants.py world.maxtime = 10 (quarters per episode)
    # econbench choice 1.0: cuda_manager.discounted_returns adds gamma=0.9999 once, i.e. ~undiscounted
    discount: float = domain("(0, 1]")

    # --- initial state (cuda_manager.py __init_cuda_data_structs; constants.py world)
    initial_prices: float = domain("[0, inf)")  # world.initial_prices = 1000
    initial_wages: float = domain("[0, inf)")  # world.initial_wages: template 22, train_multi_exps.py world sweep 0.0
    initial_stocks: float = domain("[0, inf)")  # world.initial_stocks = 0
    initial_consumer_endowment: float = domain("[0, inf)")  # world.initial_consumer_endowment = 2000
    # world.initial_firm_endowment = 22 * 1000 * NUMCONSUMERS = 2.2e6
    initial_firm_endowment: float = domain("[0, inf)")
    consumer_theta: float = domain("[0, inf)")  # world.consumer_theta = 0.01 (labour disutility scale)
    pareto_scale_theta: float = domain("(0, inf)")  # world.paretoscaletheta = 4.0: theta_j = theta / pareto.ppf(j/N, 4)
    # world.production_alpha = "fixed_array" (cuda_manager alpha_arr)
    production_alpha: tuple[float, ...] = domain("(0, 1]")
    # world.initial_capital = "twolevel": 5000 for firms < N/2, else 10000
    initial_capital: tuple[float, ...] = domain("[0, inf)")

    # --- technology and markets (firm_rbc.cu macros / literals)
    technology: float = domain("(0, inf)")  # firm_rbc.cu CudaStep: GetFirmProduction(0.01, ...), hard-coded A
    crra_param: float = domain("(0, inf)")  # world.crra_param = 0.1 -> kCrraParam (eta of the shifted CRRA utility)
    # world.interest_rate: template 0.1, train_multi_exps.py sweep 0.0 -> kInterestRate
    interest_rate: float = domain("(-1, inf)")
    use_importer: bool  # world.use_importer = 1 -> kUseImporter (open economy); False = closed economy
    # world.importer_price = 500 -> kImporterPrice (export iff price >= this)
    importer_price: float = domain("[0, inf)")
    # world.importer_quantity = 100 -> kImporterQuantity (units per firm per step)
    importer_quantity: float = domain("[0, inf)")
    labor_floor: float = domain("[0, inf)")  # world.labor_floor absent -> cuda_manager default 0.0 -> kLaborFloor
    # firm_rbc.cu CudaStep: cs_budget_delta = 0.01 ("negligible positive money")
    consumer_budget_topup: float = domain("[0, inf)")

    # --- action tables (constants.py all_agents_short_export_experiment_template)
    consumption_levels: tuple[float, ...] = domain("[0, inf)")  # consumption_choices = 0, 1, ..., 10 units per good
    hours_levels: tuple[float, ...] = domain("[0, inf)")  # work_choices = 20 * 13 * h, h = 0..4 (hours per quarter)
    price_levels: tuple[float, ...] = domain("[0, inf)")  # price_choices = 500 c, c = 0..5
    wage_levels: tuple[float, ...] = domain("[0, inf)")  # wage_choices = 0, 11, 22, 33, 44
    investment_fraction: float = domain("[0, 1]")  # capital_choices = [0.1]: the firm table's third column
    tax_levels: tuple[float, ...] = domain("[0, 1]")  # income_ and corporate_taxation_choices = 0.2 c, c = 0..5

    # --- welfare (cuda_manager.py update_government_rewards)
    government_counts_firm_reward: bool  # agents.government_counts_firm_reward: template 0, sweep 1
    firm_reward_for_government_factor: float = domain("[0, inf)")  # agents.firm_reward_for_government_factor = 0.0025

    # --- curriculum (cuda_manager.py compute_theta_coef, firm_action_mask, government_action_mask)
    # CudaResetEnv multiplies theta by this: 1 - exp(-n/10000) at iteration n (compute_theta_coef); 1 = end of training
    theta_anneal_factor: float = domain("[0, 1]")
    # s/N of firm_action_mask; 0 allows only (price_start, wage_start), >= 1 the full grid
    firm_mask_progress: float = domain("[0, inf)")
    firm_mask_price_start: float = domain("[0, inf)")  # constants.py firm_anneal_prices.start = 1000
    firm_mask_wage_start: float = domain("[0, inf)")  # constants.py firm_anneal_wages.start = 22
    # s/N of government_action_mask: rates allowed iff <= start + progress
    government_mask_progress: float = domain("[0, inf)")
    government_mask_tax_start: float = domain("[0, 1]")  # constants.py government_anneal_taxes.start = 0

    # --- observation (constants.py *_state_scaling_factors, util.py expand_to_digit_form)
    # "digits": upstream's network input (digit-expanded, scaled); "raw": the state vectors of docs/models/rbc.md §2
    obs_encoding: str
    obs_digits: int = domain("[1, inf)")  # train.digit_representation_size = 10
    capital_obs_scale: float = domain("(0, inf)")  # firm_state_scaling_factors: capital / 10000

    # --- paper-vs-code options (docs/models/rbc.md §9); defaults are the code's
    export_price_strict: bool  # paper: export iff price > importer_price; code (default False): price >= importer_price
    halve_labour_disutility: bool  # code (default True): theta/2 * hours; paper: theta * hours
    # code "gross_income": 0.1 max(revenue - wages, 0), before tax; paper "budget": 0.1 max(budget, 0)
    investment_base: str

    def __post_init__(self) -> None:
        for f in fields(self):  # TOML arrays arrive as lists; keep the dataclass hashable
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(float(x) for x in v))
        check_params(self)
        if len(self.production_alpha) != self.n_firms or len(self.initial_capital) != self.n_firms:
            raise ValueError(
                f"production_alpha and initial_capital need one value per firm ({self.n_firms}); "
                f"got {len(self.production_alpha)} and {len(self.initial_capital)}"
            )
        if self.obs_encoding not in OBS_ENCODINGS:
            raise ValueError(f"obs_encoding must be one of {OBS_ENCODINGS}, got {self.obs_encoding!r}")
        if self.investment_base not in INVESTMENT_BASES:
            raise ValueError(f"investment_base must be one of {INVESTMENT_BASES}, got {self.investment_base!r}")
        if self.crra_param == 1.0:
            raise ValueError("crra_param = 1 (log utility) is not supported by the upstream formula")

    def memory_bytes(self) -> tuple[float, float]:
        """Per economy: each consumer's observation, action heads and its row of the step's (consumer, good) arrays
        (demand, consumption, employer, utility and their temporaries), each firm's observation and state (float64)."""
        c, f = self.n_consumers, self.n_firms
        per_consumer = self.consumer_obs_dim + 15 * f + 16
        return 0.0, 8.0 * (c * per_consumer + f * (self.firm_obs_dim + 16) + self.government_obs_dim)

    # --- derived sizes
    @property
    def consumer_nvec(self) -> tuple[int, ...]:
        """Consumer heads: units of each good, hours, employer (docs/models/rbc.md §3)."""
        return (len(self.consumption_levels),) * self.n_firms + (len(self.hours_levels), self.n_firms)

    @property
    def n_firm_actions(self) -> int:
        return len(self.price_levels) * len(self.wage_levels)

    @property
    def n_government_actions(self) -> int:
        return len(self.tax_levels) ** 2

    @property
    def global_dim(self) -> int:
        """Prices, wages, stocks, over-demand flags (n_firms each), two taxes, time."""
        stock = self.obs_digits if self.obs_encoding == "digits" else 1
        return self.n_firms * (3 + stock) + 3

    @property
    def budget_dim(self) -> int:
        return self.obs_digits if self.obs_encoding == "digits" else 1

    @property
    def consumer_obs_dim(self) -> int:
        return self.global_dim + self.budget_dim + 1  # + theta

    @property
    def firm_obs_dim(self) -> int:
        return self.global_dim + self.budget_dim + 2 + self.n_firms  # + capital, alpha, one-hot id

    @property
    def government_obs_dim(self) -> int:
        return self.global_dim


def curriculum_overrides(task: Any, iteration: float, schedule: str = "short") -> dict[str, Any]:
    """Parameter overrides of upstream's structured curriculum at a training iteration.

    ``task`` is an RBC task (``econbench.make_task("RBCTax-v0")``: its card holds
    the curricula); ``schedule`` names a ``[curriculum.<name>]`` table of it:
    ``"short"`` is ``all_agents_short_export_experiment_template`` (the paper's
    sweep), ``"full"`` ``all_agents_export_experiment_template``. Pass the result
    to ``make_task("RBCTax-v0", **overrides)``; a trainer uses
    :mod:`econbench.curriculum` directly.
    """
    from econbench import curriculum

    cur = curriculum.from_task(task, schedule)
    if cur is None:
        raise ValueError(f"{task.name} has no curriculum")
    return cur.at(max(float(iteration), 0.0)).params
