"""The draft paper's exercises on the capital-goods economy, as runnable configurations.

Each exercise trains shared-parameter PPO (``econbench.learn.shared_ppo``) on one configuration of
``econbench/CapitalGoods*-v0`` and answers the draft's question: how close is the
learned play to the rational-expectations solution (the planner's optimum, which
the rebated market shares), and to the competitive equilibrium?

    python baselines/capital_goods.py --list
    python baselines/capital_goods.py                       # every exercise, full budget
    python baselines/capital_goods.py planner_1hh --quick   # one exercise, CI budget
    python baselines/capital_goods.py --summary             # collect results into summary.md
    python baselines/capital_goods.py --card                # and the full-budget ones into the cards
    python baselines/capital_goods.py --export              # shipped planner runs -> the tasks' named policies
    python baselines/capital_goods.py firms_2v2 --trained-gap 300000 --runs baselines/checkpoints
                                                            # add trained best-response gaps to a report

Reported per exercise (``results/capital_goods/<exercise>.json``):

* score: mean discounted welfare (mean log consumption) under the card's protocol;
* ``constant_saving``'s score on the same episodes, and the consumption-equivalent
  gain over it, ``exp((1 - beta)(V - V_const)) - 1`` (positive: better than
  saving the steady-state share);
* where V* exists (one household, one good): the normalized regret
  ``(V* - V)/(V* - V_const)`` and the consumption-equivalent loss to V*;
* Euler-equation errors (log10, mean and max) of the learned profile at states
  of its own trajectories (``econbench.envs.capital_goods.metrics``): distance to
  the rational-expectations solution where no V* exists;
* mean capital per household and good over the second half of episodes started
  at the steady state, over the deterministic steady state ``K_ss`` (the planner's,
  which the competitive market with price-taking households shares): the
  author's own PPO table reports 0.96-1.06 for 1 to 5 households; with own
  rewards, also the households' Nash steady state over ``K_ss`` (1.413 for 5
  households under proportional sharing, 1 in the rebated market).

For the firm exercises (``CapitalGoodsGame*-v0``: households and price-setting
capital-good firms learn together) the question is the draft's "does it
converge to competitive equilibrium?": the score against the competitive
play's, the mean markup against the one-period Nash markup, capital and the
output gap against the competitive and the static-Nash outcomes
(``econbench.envs.capital_game.metrics``), and both sides' equilibrium gaps:
the deviation-search lower bounds and, with ``--trained-gap``, a budgeted
trained unilateral best response.
"""

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import tyro

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
try:
    import econbench  # noqa: F401
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.capital_game.metrics import outcome
from econbench.envs.capital_goods import solution
from econbench.envs.capital_goods.dynamics import CapitalState
from econbench.envs.capital_goods.metrics import euler_errors
from econbench.learn import SharedPPOConfig, shared_ppo
from econbench.learn.networks import GroupAgent
from econbench.learn.outputs import run_dir
from econbench.learn.runs import load_profile
from econbench.metrics import equilibrium_gap, evaluate
from econbench.registry import make_task

OUT = HERE / "results" / "capital_goods"
SHIPPED = HERE / "checkpoints"
RUNS = HERE / "runs"
HOUSEHOLDS, MARKET, PLANNER = (
    "econbench/CapitalGoods-v0",
    "econbench/CapitalGoods-Market-v0",
    "econbench/CapitalGoods-Planner-v0",
)
GAME, GAME_1V1, GAME_10V10 = (
    "econbench/CapitalGoodsGame-v0",
    "econbench/CapitalGoodsGame-1v1-v0",
    "econbench/CapitalGoodsGame-10v10-v0",
)


@dataclass(frozen=True)
class Exercise:
    task: str
    params: dict[str, Any] = field(default_factory=dict)
    question: str = ""
    steps: int | None = None  # full budget; None: hyperparams/shared_ppo.toml's (1M env-steps)
    firm_start: float = 1.0  # firms' initial mean markup (marginal-cost pricing)
    # Exploration std of each spending share over the per-good steady-state share (households, planner). None: the
    # table's log_std_init (e^-3 in [-1, 1] units, 0.025 in share: a quarter of one good's share with one good, 2.5
    # times it with 10 goods, where the clipping at 0 then biases what the mean learns).
    relative_noise: float | None = None
    # The policy starts exactly at the steady-state share, whatever the state (flat_start()); the default head
    # starts state-dependent by about +-0.005 in share, which alone costs 0.46 % of consumption at 10 x 10.
    flat: bool = False
    ppo: dict[str, Any] = field(default_factory=dict)  # further shared-PPO settings of the full-budget run


GAME_STEPS = 3_000_000  # the budget of econbench/learn/hyperparams/shared_ppo.toml's [CapitalGoodsGame-v0]
EXERCISES: dict[str, Exercise] = {
    "planner_1hh": Exercise(
        PLANNER,
        {},
        "a planner, 1 household: the exact case",
        5_000_000,
        relative_noise=0.05,
        flat=True,
        ppo={"n_envs": 128, "shared_draws": 16, "gae_lambda": 1.0, "num_steps": 684},  # as planner_4hh's, below
    ),
    # Common random numbers (groups of 16 economies, advantages relative to the group) and whole-episode returns:
    # without them the shocks' noise hides the signal, and a critic's bootstrap steers toward the wrong sign
    # (baselines/README.md, "planner_4hh"); with one household they cut the regret from 0.58-0.78 to 0.1-0.2.
    "planner_4hh": Exercise(
        PLANNER,
        {"n_households": 4},
        "a planner, 4 households",
        10_000_000,
        relative_noise=0.05,
        flat=True,
        ppo={"lr_scale": {"planner": 0.3}, "n_envs": 128, "shared_draws": 16, "gae_lambda": 1.0, "num_steps": 684},
    ),
    "planner_100hh": Exercise(PLANNER, {"n_households": 100}, "a planner, 100 households (100 actions)", 300_000),
    "planner_2x2": Exercise(PLANNER, {"n_households": 2, "n_capital": 2}, "a planner, 2 households x 2 capital goods"),
    "planner_10x10": Exercise(
        PLANNER,
        {"n_households": 10, "n_capital": 10},
        "a planner, 10 households x 10 goods",
        relative_noise=0.1,
        flat=True,
        ppo={"lr_scale": {"planner": 0.1}, "n_envs": 128},
    ),
    "households_shared_5": Exercise(HOUSEHOLDS, {"n_households": 5}, "5 learning households, shared reward"),
    "households_own_5": Exercise(
        HOUSEHOLDS,
        {"n_households": 5, "reward": "own"},
        "5 learning households, own rewards (proportional sharing: an externality)",
    ),
    "households_shared_100": Exercise(
        HOUSEHOLDS, {"n_households": 100}, "100 learning households, shared reward", 300_000
    ),
    "market_own_5": Exercise(MARKET, {"n_households": 5}, "5 households in the market, own rewards (competitive)"),
    "half_informed_4": Exercise(
        HOUSEHOLDS, {"informed_share": 0.5}, "4 households, 2 observe only own and mean stocks"
    ),
    "firms_1v1": Exercise(GAME_1V1, {}, "1 household vs 1 price-setting capital-good firm", GAME_STEPS),
    "firms_2v2": Exercise(GAME, {}, "2 households vs 2 price-setting firms", GAME_STEPS),
    "firms_10v10": Exercise(GAME_10V10, {}, "10 households vs 10 price-setting firms", GAME_STEPS),
    "firms_2v2_opaque_stocks": Exercise(
        GAME, {"opaque_stocks": True}, "2 vs 2, nobody sees the others' stocks", GAME_STEPS
    ),
    "firms_2v2_opaque_prices": Exercise(
        GAME, {"opaque_prices": True}, "2 vs 2, nobody sees last period's prices or markups", GAME_STEPS
    ),
    "firms_2v2_high_start": Exercise(
        GAME, {}, "2 vs 2, firms start at markup 2 (above the static Nash 1.5)", GAME_STEPS, 2.0
    ),
}
FULL_STEPS = 1_000_000  # the budget of econbench/learn/hyperparams/shared_ppo.toml's [CapitalGoods-v0]
QUICK_STEPS = 2_048


def train(name: str, quick: bool, seed: int, runs: Path, ship: bool = False) -> Path:
    ex = EXERCISES[name]
    task = make_task(ex.task, **ex.params)
    given: dict[str, Any] = {
        "seed": seed,
        "out": str(runs),
        "ship": ship,
        "run_name": f"{name}_seed{seed}",
        "skip_eval": True,
        "params": dict(ex.params),
        **start_settings(task, ex),
    }
    if quick:
        given.update(total_timesteps=QUICK_STEPS, n_envs=8, num_steps=32, critic_warmup=0)
    else:
        given.update(ex.ppo)
        if ex.steps is not None:
            given["total_timesteps"] = ex.steps
    config = SharedPPOConfig.for_task(ex.task, **given)
    if ex.flat:
        config.init = str(flat_start(task, config, run_dir(runs, task.name, config.run_name, ship) / "start"))
    return shared_ppo.train(config)


def start_settings(task: Task, ex: Exercise) -> dict[str, dict[str, Any]]:
    """Where each group's policy starts (``init_bias``, ``log_std``): households and planners at the steady-state
    share of each good, with ``ex.relative_noise`` times it as the share's std; firms at ``ex.firm_start``."""
    init_bias, log_std = {}, {}
    for g in task.groups:
        lo, hi = float(g.action.low), float(g.action.high)  # type: ignore[union-attr]
        saves = g.name in ("households", "planner")
        start = task.params.saving_ss / task.params.n_capital if saves else ex.firm_start
        init_bias[g.name] = [2.0 * (start - lo) / (hi - lo) - 1.0] * g.action.shape[0]
        if saves and ex.relative_noise is not None:  # the share's std, in the network's [-1, 1] units
            log_std[g.name] = math.log(2.0 * ex.relative_noise * start / (hi - lo))
    return {"init_bias": init_bias, "log_std": log_std}


def flat_start(task: Task, config: SharedPPOConfig, folder: Path) -> Path:
    """A start checkpoint (``--init``) whose actors' output layers have zero weights: the policy's mean is its
    ``init_bias`` in every state, so training starts exactly at constant saving.

    The networks' default head (orthogonal, gain 0.01) adds about +-0.01 in [-1, 1] units that varies with the
    state: +-0.005 in share, half of one good's steady-state share with 10 goods, where that start costs 0.46 % of
    consumption (planner_10x10; 0.009 % with 4 households, 0.001 % with one). The hidden layers are the ones a run
    of this seed draws without it.
    """
    torch.manual_seed(config.seed)
    agents = {}
    for g in task.groups:
        agent = GroupAgent(g, config.hidden, float(config.log_std.get(g.name, config.log_std_init)), config.activation)
        with torch.no_grad():
            agent.actor[-1].weight.zero_()
            agent.actor[-1].bias.copy_(torch.as_tensor(config.init_bias[g.name]))
        agents[g.name] = agent.state_dict()
    folder.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(config, k) for k in ("hidden", "activation", "log_std_init", "params")}
    torch.save({"agents": agents, "args": settings}, folder / "checkpoint.pt")
    return folder


def capital_ratio(task: Task, profile: dict[str, Any], episodes: int = 16, steps: int = 400, seed: int = 0) -> float:
    """Mean K per household and good over the second half of ``steps`` from K_ss, over K_ss."""
    p = task.params
    env = BatchedEnv(task, episodes, "numpy", seed=seed)
    env.reset()
    s = env.state
    env.state = CapitalState(np.full_like(s.k, p.k_ss), s.agg, s.idio)
    obs, total = env.observe(), 0.0
    for t in range(steps):
        obs, *_ = env.step(profile_actions(profile, obs, env.action_masks), past_end=True)  # long run, no horizon
        if t >= steps // 2:
            total += float(env.state.k.mean())
    return total / (steps - steps // 2) / p.k_ss


def report(name: str, run: Path, episodes: int | None = None) -> dict[str, Any]:
    task, profile = load_profile(run)
    if is_game(task.id):
        return game_report(name, run, task, profile, episodes)
    p = task.params
    res, const = evaluate(task, profile, episodes=episodes), evaluate(task, "constant_saving", episodes=episodes)
    out: dict[str, Any] = {
        "exercise": name,
        "task_id": task.id,
        "params": EXERCISES[name].params,
        "run": _rel(run),
        "question": EXERCISES[name].question,
        "score": res.mean,
        "score_ci95": list(res.ci),
        "constant_saving": const.mean,
        "ce_gain_over_constant": float(math.expm1((1 - p.beta) * (res.mean - const.mean))),
    }
    if "exact" in task.policies:
        star = evaluate(task, "exact", episodes=episodes)
        out["exact"] = star.mean
        out["normalized_regret"] = float((star.mean - res.mean) / (star.mean - const.mean))
        out["ce_loss_to_optimum"] = float(solution.consumption_equivalent_loss(res.mean, star.mean, p.beta))
        out |= percent_of_optimum(out)
    err = euler_errors(task, profile, episodes=8)
    out["euler_error_mean"], out["euler_error_max"] = err.mean, err.max
    out["capital_over_k_ss"] = capital_ratio(task, profile)
    out["capital_over_k_ss_constant_saving"] = capital_ratio(task, task.policy("constant_saving"))
    if task.groups[0].name == "households" and p.reward == "own":  # independent learners: their Nash steady state
        out["nash_capital_over_k_ss"] = solution.own_reward_capital(p) / p.k_ss
    return out


def percent_of_optimum(r: dict[str, Any]) -> dict[str, float]:
    """The draft's measure (its RL planner: 99.991 % of the optimum), from a report with V*: ``100 V / V*``.

    Discounted log utility has no natural zero (rescaling consumption shifts V), so the ratio only means something
    with V* > 0 and depends on the units; ``100 (1 - CE loss)`` is the unit-free version: the percent of the
    optimum's consumption, every period and state, that the policy's welfare is worth.
    """
    if "exact" not in r:
        return {}
    utility = 100.0 * r["score"] / r["exact"] if r["exact"] > 0 else float("nan")
    return {"percent_of_optimum": utility, "ce_percent_of_optimum": 100.0 * (1.0 - r["ce_loss_to_optimum"])}


SEED_KEYS = (
    "seed",
    "score",
    "ce_gain_over_constant",
    "normalized_regret",
    "percent_of_optimum",
    "ce_percent_of_optimum",
    "euler_error_mean",
    "capital_over_k_ss",
    "train_and_report_s",
)


def across_seeds(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each seed's headline numbers, and the IQM of the CE gain over constant saving across seeds with its
    bootstrap interval (the leaderboard's aggregate; with 3 seeds the IQM is their mean and the interval coarse)."""
    from econbench.leaderboard.aggregates import iqm_interval

    gains = np.array([[r["ce_gain_over_constant"]] for r in reports])
    iqm = iqm_interval(gains)
    return {
        "per_seed": [{k: r[k] for k in SEED_KEYS if k in r} for r in reports],
        "ce_gain_over_constant_iqm": [iqm.value, iqm.low, iqm.high],
    }


def is_game(task_id: str) -> bool:
    return task_id.startswith("econbench/CapitalGoodsGame")


def game_report(name: str, run: Path, task: Task, profile: dict[str, Any], episodes: int | None) -> dict[str, Any]:
    """The draft's question for firms as learners: how far from competitive equilibrium did play land?"""
    p = task.params
    res, comp = evaluate(task, profile, episodes=episodes), evaluate(task, "competitive", episodes=episodes)
    gaps = {g.group: g for g in equilibrium_gap(task, profile, episodes=episodes or 8)}
    out: dict[str, Any] = {
        "exercise": name,
        "task_id": task.id,
        "params": EXERCISES[name].params,
        "run": _rel(run),
        "question": EXERCISES[name].question,
        "firm_start": EXERCISES[name].firm_start,
        "score": res.mean,
        "score_ci95": list(res.ci),
        "competitive": comp.mean,
        "ce_gain_over_competitive": float(math.expm1((1 - p.beta) * (res.mean - comp.mean))),
        **outcome(task, profile).as_dict(),
        **{f"gap_{k}": g.epsilon for k, g in gaps.items()},
        **{f"gap_{k}_relative": g.relative for k, g in gaps.items()},
    }
    return out


def trained_gaps(name: str, run: Path, steps: int, seeds: Sequence[int] = (0,)) -> dict[str, Any]:
    """Each group's trained best-response gain: agent 0 alone keeps training from the run against the frozen
    others for ``steps`` env-steps (a budgeted unilateral deviation; the deviation search above only tries constants)."""
    from econbench.learn.trained_gap import trained_best_response_gap

    task = make_task(EXERCISES[name].task, **EXERCISES[name].params)
    out: dict[str, Any] = {"trained_gap_steps": steps, "trained_gap_seeds": list(seeds)}
    for g in task.groups:
        # from the run's networks: its critic is trained already, so no critic-only warm-up
        r = trained_best_response_gap(task.id, str(run), g.name, steps, seeds=seeds, agent=0, critic_warmup=0)
        out[f"trained_gap_{g.name}"], out[f"trained_gap_{g.name}_relative"] = r.epsilon, r.relative
    return out


def summary(out_dir: Path = OUT) -> Path:
    rows = [json.loads(f.read_text()) for f in sorted(out_dir.glob("*.json"))]
    md = [
        "# Capital-goods exercises (shared-parameter PPO)",
        "",
        "Score: mean discounted mean log consumption (card protocol). CE gain: consumption-equivalent gain over "
        "saving the steady-state share. Regret: (V* - V)/(V* - V_const), one household only. % of V*: the draft's "
        "measure, 100 V/V* (V* > 0), and in brackets 100 (1 - CE loss to V*), the unit-free one. Euler: log10 errors "
        "(mean / max) at the profile's own states. K/K_ss: mean capital from the steady state (second half of 400 "
        "steps); constant saving's in brackets; with own rewards, the households' Nash steady state after the slash "
        "(solution.own_reward_capital: proportional sharing makes independent learners over-invest).",
        "",
        "| exercise | question | timesteps | score [95 % CI] | CE gain vs constant | regret | % of V* (CE) "
        "| Euler mean / max | K/K_ss |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    games = [r for r in rows if is_game(r["task_id"])]
    seeds: list[dict[str, Any]] = []
    for r in (r for r in rows if not is_game(r["task_id"])):
        regret = f"{r['normalized_regret']:.3f}" if "normalized_regret" in r else "-"
        share = percent_of_optimum(r)
        optimum = f"{share['percent_of_optimum']:.3f} ({share['ce_percent_of_optimum']:.3f})" if share else "-"
        md.append(
            f"| {r['exercise']} | {r['question']} | {r['timesteps']} | {r['score']:.3f} "
            f"[{r['score_ci95'][0]:.3f}, {r['score_ci95'][1]:.3f}] | {100 * r['ce_gain_over_constant']:+.3f} % | "
            f"{regret} | {optimum} | {r['euler_error_mean']:.2f} / {r['euler_error_max']:.2f} | "
            f"{r['capital_over_k_ss']:.3f} ({r['capital_over_k_ss_constant_saving']:.3f})"
            + (f" / Nash {r['nash_capital_over_k_ss']:.3f}" if "nash_capital_over_k_ss" in r else "")
            + " |"
        )
        if "per_seed" in r:
            seeds.append(r)
    if seeds:
        md += [
            "",
            "Across training seeds (the row above is the first seed's): CE gain over constant saving per seed, and "
            "its IQM with a 95 % bootstrap interval over seeds.",
            "",
            "| exercise | seeds | CE gain per seed | IQM [95 % CI] |",
            "|---|---|---|---|",
        ]
        for r in seeds:
            iqm = [100 * v for v in r["ce_gain_over_constant_iqm"]]
            md.append(
                f"| {r['exercise']} | {', '.join(str(s['seed']) for s in r['per_seed'])} | "
                + ", ".join(f"{100 * s['ce_gain_over_constant']:+.3f} %" for s in r["per_seed"])
                + f" | {iqm[0]:+.3f} % [{iqm[1]:+.3f}, {iqm[2]:+.3f}] |"
            )
    if games:
        md += [
            "",
            "## Capital-good firms as learners (CapitalGoodsGame-v0)",
            "",
            "Households and price-setting firms learn together. CE gain: consumption-equivalent gain over the "
            "competitive equilibrium (marginal-cost pricing; the planner's allocation). Markup: mean price over "
            "marginal cost (static Nash in brackets). K/K_CE: mean capital over the competitive play's on the same "
            "shocks (static Nash's in brackets). Output gap: |Q - Q_ref| / Q_ref against the competitive and the "
            "static-Nash outcome (docs/models/capital_game.md §5). Gaps: deviation-search lower bounds, relative to the group's value.",
            "",
            "Trained: agent 0 of each group retrained alone from the run against the frozen others "
            "(`--trained-gap`), relative gain.",
            "",
            "| exercise | question | timesteps | score [95 % CI] | CE gain vs competitive | markup | K/K_CE | "
            "output gap CE / Nash | gap households / firms | trained households / firms |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in games:
            md.append(
                f"| {r['exercise']} | {r['question']} | {r['timesteps']} | {r['score']:.3f} "
                f"[{r['score_ci95'][0]:.3f}, {r['score_ci95'][1]:.3f}] | {100 * r['ce_gain_over_competitive']:+.3f} % | "
                f"{r['markup']:.3f} ({r['static_nash_markup']:.3f}) | {r['capital_over_competitive']:.3f} "
                f"({r['capital_over_competitive_static_nash']:.3f}) | {r['output_gap_competitive']:.3f} / "
                f"{r['output_gap_static_nash']:.3f} | {r['gap_households_relative']:.4f} / {r['gap_firms_relative']:.4f} | "
                + (
                    f"{r['trained_gap_households_relative']:.4f} / {r['trained_gap_firms_relative']:.4f} |"
                    if "trained_gap_firms_relative" in r
                    else "- |"
                )
            )
    path = out_dir / "summary.md"
    path.write_text("\n".join(md) + "\n")
    return path


CARD_MARK = "# Learned baselines: the draft's exercises, from baselines/results/capital_goods/ (`python baselines/capital_goods.py --card`)."
CARD_KEYS = (
    "score",
    "score_ci95",
    "constant_saving",
    "ce_gain_over_constant",
    "ce_gain_over_constant_iqm",
    "normalized_regret",
    "ce_loss_to_optimum",
    "percent_of_optimum",
    "ce_percent_of_optimum",
    "euler_error_mean",
    "euler_error_max",
    "capital_over_k_ss",
    "nash_capital_over_k_ss",
    "competitive",
    "ce_gain_over_competitive",
    "markup",
    "static_nash_markup",
    "capital_over_competitive",
    "output_gap_competitive",
    "output_gap_static_nash",
    "gap_households_relative",
    "gap_firms_relative",
    "trained_gap_households_relative",
    "trained_gap_firms_relative",
    "trained_gap_steps",
    "firm_start",
    "timesteps",
    "params",
)


def write_cards(out_dir: Path = OUT) -> list[Path]:
    """Each card's ``[learned_scores.<exercise>]`` tables from the exercises' reports (full-budget runs only)."""
    from econbench.cards import cards_dir, write_learned_block

    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for f in sorted(out_dir.glob("*.json")):
        r = json.loads(f.read_text())
        if r["timesteps"] <= QUICK_STEPS:
            continue
        entry = {k: r[k] for k in CARD_KEYS if k in r} | {"report": f"baselines/results/capital_goods/{f.name}"}
        tables.setdefault(r["task_id"].split("/")[1], {})[r["exercise"]] = entry
    written = []
    for short, t in tables.items():
        path = cards_dir() / f"{short}.toml"
        write_learned_block(
            path,
            CARD_MARK,
            t,
            "shared_ppo.py, seed 0; ce_gain_over_constant_iqm: [IQM, 95 % interval] over the training seeds where several"
            " were run; parameters overridden as in `params`; scores under this card's protocol.",
        )
        written.append(path)
    return written


EXPORTED = ("planner_1hh", "planner_4hh", "planner_10x10")  # the planners: named policies of their economy


def export_runs(names: Sequence[str], runs: Path = SHIPPED, dest: Path | None = None) -> list[Path]:
    """Each shipped run of the exercises (``<exercise>_seed<s>``) as the named policy ``shared_ppo_cpu_seed<s>`` of
    every task with that economy's parameters (``dest``: ``econbench/envs/capital_goods/trained/``)."""
    from econbench.envs.capital_goods import trained
    from econbench.learn.runs import read_checkpoint
    from econbench.policies.shipped import params_record

    dest = trained.TRAINED_DIR if dest is None else dest
    written = []
    for name in names:
        ex = EXERCISES[name]
        task = make_task(ex.task, **ex.params)
        found = sorted((runs / task.name).glob(f"{name}_seed*/policy.json"))
        if not found:
            raise SystemExit(f"{name}: no shipped runs in {runs / task.name} (train with --seeds ... --ship first)")
        for policy in found:
            run = policy.parent
            seed = int(run.name.rsplit("_seed", 1)[1])
            meta = {
                "source": f"baselines/capital_goods.py {name} --seeds ... --ship: {_rel(run)}",
                "exercise": name,
                "seed": seed,
                "timesteps": int(read_checkpoint(run)["step"]),
                "trainer": "econbench.learn.shared_ppo",
            }
            folder = dest / name / f"shared_ppo_cpu_seed{seed}"
            written.append(trained.export(folder, run, meta, params=params_record(task.params)))
            print(written[-1])
    return written


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


@dataclass
class Args:
    exercises: tyro.conf.Positional[list[str]] = field(default_factory=list)  # default: every exercise (see --list)
    quick: bool = False  # the CI budget (2,048 env-steps) instead of the full one (1M; firms 3M)
    seed: int = 0
    seeds: list[int] = field(default_factory=list)  # several training seeds: the first's report, the others' beside it
    episodes: int | None = None  # evaluation episodes per seed (default: the card's)
    out: Path = OUT  # folder of the reports and summary.md
    runs: Path = RUNS  # root folder of the training runs
    ship: bool = False  # allow training into --runs inside baselines/checkpoints/ (replaces the shipped runs)
    summary: bool = False  # only collect the reports into summary.md
    card: bool = False  # only write the full-budget reports into the cards' [learned_scores]
    export: bool = False  # only export the shipped runs of the exercises (default: the planners) as named policies
    trained_gap: int = 0  # STEPS > 0, no training: add each group's trained best-response gap (agent 0 retrained)
    rescore: bool = False  # no training: report the runs in --runs again (--runs baselines/checkpoints: the shipped)
    list: bool = False  # list the exercises and stop


def main(argv: Sequence[str] | None = None) -> list[Path]:
    args = tyro.cli(Args, args=argv, description=__doc__)
    if args.list:
        for name, ex in EXERCISES.items():
            print(f"{name:24s} {ex.task} {ex.params}  {ex.question}")
        return []
    unknown = sorted(set(args.exercises) - set(EXERCISES))
    if unknown:
        raise SystemExit(f"unknown exercise(s) {unknown}; known: {list(EXERCISES)}")
    if args.card:
        return write_cards(args.out)
    if args.export:
        return export_runs(args.exercises or EXPORTED)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in [] if args.summary else (args.exercises or list(EXERCISES)):
        start = time.time()
        path = args.out / f"{name}.json"
        if args.rescore or args.trained_gap:
            old = json.loads(path.read_text())
            folder = args.runs / EXERCISES[name].task.split("/")[1] / f"{name}_seed{old['seed']}"
            r = old | (
                trained_gaps(name, folder, args.trained_gap)
                if args.trained_gap
                else report(name, folder, args.episodes)
            )
        else:
            steps = QUICK_STEPS if args.quick else (EXERCISES[name].steps or FULL_STEPS)
            per_seed = []
            for seed in args.seeds or [args.seed]:
                run = train(name, args.quick, seed, args.runs, args.ship)
                per_seed.append(
                    report(name, run, args.episodes)
                    | {"timesteps": steps, "seed": seed, "train_and_report_s": round(time.time() - start, 1)}
                )
                start = time.time()
            r = per_seed[0] | (across_seeds(per_seed) if len(per_seed) > 1 else {})
        path.write_text(json.dumps(r, indent=2) + "\n")
        if "markup" in r:
            print(
                f"{name}: score {r['score']:.3f}, CE gain vs competitive {100 * r['ce_gain_over_competitive']:+.3f} %, "
                f"markup {r['markup']:.3f}, K/K_CE {r['capital_over_competitive']:.3f} -> {path}"
            )
        else:
            print(
                f"{name}: score {r['score']:.3f}, CE gain {100 * r['ce_gain_over_constant']:+.3f} %, "
                f"Euler {r['euler_error_mean']:.2f}, K/K_ss {r['capital_over_k_ss']:.3f} -> {path}"
            )
        written.append(path)
    written.append(summary(args.out))
    return written


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
