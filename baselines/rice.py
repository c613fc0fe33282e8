"""Learned baselines for RICE-N climate cooperation, and the competition's question answered with them.

The AI for Global Climate Cooperation competition (RICE-N; docs/models/rice.md) asked whether a negotiation
protocol raises the climate index (the temperature rise by 2115) and at what cost to the economic index (the
world's gross output). This script trains every region with shared-parameter PPO (``econbench.learn.shared_ppo``:
one network for the 27 regions; agreements reach it as action masks) on each protocol, scores the learned
profiles with the competition's metrics and both gap methods, and sets them beside the card's fixed rules.

    python baselines/rice.py                          # the 9 runs (3 protocols x seeds 0, 1, 2; finished ones
                                                      # are skipped), then the report
    python baselines/rice.py --protocols bilateral    # one protocol
    python baselines/rice.py --stage report           # results/rice/<protocol>.json and summary.md from the runs
    python baselines/rice.py --stage ship             # the runs as named policies of the RICE tasks, and their
                                                      # checkpoints in baselines/checkpoints/<Task>/
    python baselines/rice.py --quick --out OUT --runs OUT/runs  # the CI check: 3 regions, 2 updates per run

Per run (``<protocol>.json``): the card's score of the argmax profile (evaluated in float64 as the shipped policy
is; the dynamics are deterministic, so one episode), the competition's metrics, the same metrics with the policy
sampling as it trained (8 episodes), the mean mitigation and savings rates and the agreed minimum mitigation,
the deviation-search gap (``econbench gap``: a lower bound) and, for the runs of ``--br-seeds``, a trained
unilateral best response of region ``--br-agent`` (``econbench gap --method trained --agent A --budget N``,
retrained from the run's networks). Over seeds: the IQM with the leaderboard's stratified-bootstrap 95 %
interval (``econbench.leaderboard.aggregates``; with 3 runs the IQM is the mean). Each fixed rule gets the
same metrics and deviation gap on each protocol.
"""

import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tyro

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
try:
    import econbench  # noqa: F401
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
from econbench.cards import load_card
from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.rice import trained
from econbench.envs.rice.metrics import competition_metrics
from econbench.leaderboard.aggregates import iqm_interval, stratified_bootstrap
from econbench.learn import SharedPPOConfig, shared_ppo
from econbench.metrics import equilibrium_gap, evaluate
from econbench.metrics.evaluate import PolicySpec
from econbench.registry import make_task

TASKS = {
    "none": "econbench/RICECooperation-v0",
    "bilateral": "econbench/RICECooperation-Bilateral-v0",
    "club": "econbench/RICECooperation-Club-v0",
}
RULES = ("zeros", "bau", "ramp", "temperature", "mitigation_3", "mitigation_5", "mitigation_7", "mitigation_9")
NAME = "shared_ppo_cpu_seed{seed}"  # the run folder, the shipped named policy and the checkpoint folder
OUT = HERE / "results" / "rice"
RUNS = HERE / "runs" / "rice"
METRICS = ("climate_index", "economic_index", "temperature_rise", "gross_output_sum_activity_steps")
HYPERPARAMETERS = (  # the run's settings the report records
    *("total_timesteps", "n_envs", "num_steps", "learning_rate", "anneal_lr", "gae_lambda", "update_epochs"),
    *("num_minibatches", "update_rows", "clip_coef", "ent_coef", "hidden", "activation"),
)
SAMPLED_EPISODES = 8
SAMPLED_SEED = 12345
QUICK_REGIONS = 3  # --quick: the first regions of the card only, so the deviation search is 60 episodes, not 540
QUICK_UPDATES = 2


def quick_params(task_id: str, n: int = QUICK_REGIONS) -> dict[str, Any]:
    """The card's economy cut to its first ``n`` regions (every per-region list of the card, in order)."""
    p = load_card(task_id)["params"]
    return {"n_regions": n} | {k: v[:n] for k, v in p.items() if isinstance(v, list) and len(v) == p["n_regions"]}


def run_folder(runs: Path, protocol: str, seed: int) -> Path:
    return runs / TASKS[protocol].split("/")[1] / NAME.format(seed=seed)


# ---------------------------------------------------------------------------- training
def train(protocol: str, seed: int, runs: Path, quick: bool, timesteps: int) -> Path:
    """One run, in this process (one core); skipped when finished, continued from its checkpoint when cut short."""
    run = run_folder(runs, protocol, seed)
    if (run / "train.json").is_file():
        return run
    task_id = TASKS[protocol]
    given: dict[str, Any] = {
        "seed": seed,
        "out": str(runs),
        "run_name": run.name,
        "skip_eval": True,  # scored below, as the shipped (float64) profile
        "resume": True,
    }
    if quick:
        horizon = make_task(task_id).horizon
        given.update(params=quick_params(task_id), n_envs=2, num_steps=horizon, update_rows=0)
        given["total_timesteps"] = QUICK_UPDATES * 2 * horizon
    elif timesteps:
        given["total_timesteps"] = timesteps
    config = SharedPPOConfig.for_task(task_id, **given)
    t0 = time.perf_counter()
    shared_ppo.train(config)
    info = {"train_time_s": round(time.perf_counter() - t0, 1), "timesteps": config.total_timesteps, "quick": quick}
    (run / "train.json").write_text(json.dumps(info, indent=2) + "\n")
    return run


# ---------------------------------------------------------------------------- measuring
def behaviour(task: Task, profile: dict[str, Any], n_envs: int = 1) -> dict[str, float]:
    """What the profile does on climate-economy steps, averaged over regions, the century and ``n_envs`` episodes:
    mitigation and savings rates, the agreed minimum mitigation, and the protocol's agreements (the share of regions
    in the club, or of proposals accepted)."""
    env = BatchedEnv(task, n_envs, "numpy", seed=int(task.card["protocol"]["eval_seeds"][0]))
    obs = env.reset()
    rows: dict[str, list[float]] = {"mitigation": [], "savings": [], "min_mitigation": [], "agreement": []}
    N, protocol = task.params.n_regions, task.params.protocol
    off = ~np.eye(N, dtype=bool)
    for _ in range(env.horizon):
        obs, _, term, trunc = env.step(profile_actions(profile, obs, env.action_masks))
        s = env.state
        if float(s.stage[0]) != 0.0:  # every economy is at the same stage
            continue
        rows["mitigation"].append(float(s.mitigation.mean()))
        rows["savings"].append(float(s.savings.mean()))
        rows["min_mitigation"].append(float(s.min_mitigation.mean()))
        if protocol == "club":
            rows["agreement"].append(float(s.agreements[..., 0].mean()))
        elif protocol == "bilateral":
            rows["agreement"].append(float(s.agreements[:, :, 2 * N : 3 * N][:, off].mean()))
        if bool(np.all(term | trunc)):
            break
    out = {f"mean_{k}": float(np.mean(v)) for k, v in rows.items() if v}
    if protocol == "none":
        out.pop("mean_min_mitigation", None)
    return out


class UniformPolicy:
    """Each head's choice drawn uniformly among the levels its mask allows: where training starts (the networks'
    last layer is initialised near 0, so their first policy is uniform)."""

    uses_mask = True

    def __init__(self, task: Task, seed: int) -> None:
        self.rng, self.bounds = np.random.default_rng(seed), np.cumsum([0, *task.groups[0].action.nvec])  # type: ignore[union-attr]

    def __call__(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        score = np.where(mask, self.rng.random(mask.shape), -1.0)
        return np.stack([score[..., lo:hi].argmax(-1) for lo, hi in zip(self.bounds[:-1], self.bounds[1:])], -1)


def play(task: Task, profile: dict[str, Any]) -> dict[str, float]:
    """Mean competition metrics and behaviour over ``SAMPLED_EPISODES`` episodes of a profile that draws actions."""
    seed = int(task.card["protocol"]["eval_seeds"][0])
    m = competition_metrics(task, profile, n_envs=SAMPLED_EPISODES, seed=seed)
    return {
        "score": float(m["episode_reward_sum"].mean()),
        **{k: float(m[k].mean()) for k in METRICS},
        **behaviour(task, profile, SAMPLED_EPISODES),
    }


def untrained(task: Task) -> dict[str, float]:
    """Uniform play under the masks: the starting point of every run, for the direction training took."""
    return play(task, {"regions": UniformPolicy(task, SAMPLED_SEED)})


def gap_record(task: Task, profile: dict[str, Any]) -> dict[str, Any]:
    (g,) = equilibrium_gap(task, profile)
    gains = g.gains.mean(axis=0)
    return {"epsilon": g.epsilon, "relative": g.relative, "region": int(np.argmax(gains)), "method": g.method}


def measure(task: Task, policy: PolicySpec) -> dict[str, Any]:
    """The card's score, the competition's metrics, behaviour and the deviation-search gap of one profile."""
    from econbench.metrics.evaluate import resolve_policy

    _, profile = resolve_policy(task, policy)
    res = evaluate(task, profile)
    m = competition_metrics(task, profile)
    return {
        "score": res.mean,
        "score_ci95": list(res.ci),
        **{k: float(m[k][0]) for k in METRICS},
        **behaviour(task, profile),
        "gap": gap_record(task, profile),
    }


def sampled(run: Path) -> dict[str, float]:
    """The competition's metrics and behaviour with the run's policy sampling its actions, as it did in training
    (torch seeded; the competition's metrics and the behaviour are two sets of episodes)."""
    import torch

    from econbench.learn.runs import load_profile

    task, profile = load_profile(run, deterministic=False)
    torch.manual_seed(SAMPLED_SEED)
    return play(task, profile)


def run_task(run: Path) -> Task:
    from econbench.learn.runs import read_checkpoint, run_params

    return make_task(read_checkpoint(run)["task_id"], **run_params(run))


def evaluate_run(run: Path, protocol: str, seed: int) -> dict[str, Any]:
    """A run's record (cached in ``<run>/rice_eval.json``): the float64 profile the ship stage exports, measured."""
    from econbench.learn.runs import read_checkpoint

    cache = run / "rice_eval.json"
    if cache.is_file():
        return json.loads(cache.read_text()) | {"sampled": sampled(run)}
    ck = read_checkpoint(run)
    task = run_task(run)
    profile = trained.export(run / "profile", run, provenance(run, protocol, seed, ck["step"]))
    info = json.loads((run / "train.json").read_text())
    rec = {
        "seed": seed,
        "run": _rel(run),
        "timesteps": ck["step"],
        "episodes": ck["step"] // task.horizon,
        "train_time_s": info["train_time_s"],
        **measure(task, profile),
    }
    cache.write_text(json.dumps(rec, indent=2) + "\n")
    return rec | {"sampled": sampled(run)}


def trained_gap(run: Path, agent: int, timesteps: int, quick: bool) -> dict[str, Any]:
    """Region ``agent`` retrained alone from the run's networks against the others' argmax play (cached)."""
    from econbench.learn.trained_gap import trained_best_response_gap

    cache = run / f"br_agent{agent}_{timesteps}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    task = run_task(run)
    extra: dict[str, Any] = {"n_envs": 2, "num_steps": task.horizon, "update_rows": 0} if quick else {}
    t0 = time.perf_counter()
    g = trained_best_response_gap(
        task.id,
        str(run),
        "regions",
        timesteps,
        seeds=(0,),
        agent=agent,
        workdir=run / "br",
        critic_warmup=0,
        **extra,
    )
    rec = {
        "agent": agent,
        "timesteps": timesteps,
        "epsilon": g.epsilon,
        "relative": g.relative,
        "value": float(g.values.mean(axis=0)[agent]),
        "method": g.method,
        "time_s": round(time.perf_counter() - t0, 1),
    }
    cache.write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def rules(task: Task) -> dict[str, dict[str, Any]]:
    return {name: measure(task, name) for name in RULES}


# ---------------------------------------------------------------------------- aggregates
def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    from scipy.stats import trim_mean

    return np.asarray(trim_mean(samples.reshape(samples.shape[0], -1), 0.25, axis=1))


def aggregate(values: Sequence[float]) -> dict[str, Any]:
    """IQM over runs with the leaderboard's stratified-bootstrap 95 % interval."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return {"iqm": float(x.mean()), "ci95": [float("nan")] * 2, "per_seed": x.tolist()}
    iv = iqm_interval(x[:, None])
    return {"iqm": iv.value, "ci95": [iv.low, iv.high], "per_seed": x.tolist()}


def difference(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """IQM(x) - IQM(y) over two sets of runs, with a bootstrap interval that redraws each set's runs."""
    a, b = np.asarray(x, dtype=float)[:, None], np.asarray(y, dtype=float)[:, None]
    value = float(_iqm_rows(a[None])[0] - _iqm_rows(b[None])[0])
    lo, hi = stratified_bootstrap(lambda s, t: _iqm_rows(s) - _iqm_rows(t), [a, b])
    return {"value": value, "ci95": [lo, hi]}


AGGREGATED: dict[str, Callable[[dict[str, Any]], float]] = {
    "score": lambda r: r["score"],
    **{k: (lambda r, k=k: r[k]) for k in METRICS},
    "gap_relative": lambda r: r["gap"]["relative"],
    "mean_mitigation": lambda r: r["mean_mitigation"],
    "sampled_score": lambda r: r["sampled"]["score"],
    "sampled_climate_index": lambda r: r["sampled"]["climate_index"],
    "sampled_economic_index": lambda r: r["sampled"]["economic_index"],
}


# ---------------------------------------------------------------------------- report
def report_protocol(
    protocol: str, seeds: Sequence[int], runs: Path, out: Path, br: tuple[Sequence[int], int, int], quick: bool
) -> dict[str, Any] | None:
    done = [
        (s, run_folder(runs, protocol, s)) for s in seeds if (run_folder(runs, protocol, s) / "train.json").is_file()
    ]
    if not done:
        return None
    from econbench.learn.runs import read_checkpoint

    br_seeds, br_agent, br_steps = br
    records = []
    for s, run in done:
        rec = evaluate_run(run, protocol, s)
        if s in br_seeds and br_steps > 0:
            rec["trained_gap"] = trained_gap(run, br_agent, br_steps, quick)
        records.append(rec)
    task = run_task(done[0][1])
    result: dict[str, Any] = {
        "task_id": task.id,
        "protocol": protocol,
        "quick": quick,
        "params": json.loads((done[0][1] / "policy.json").read_text())["params"],
        "hyperparameters": {k: v for k, v in read_checkpoint(done[0][1])["args"].items() if k in HYPERPARAMETERS},
        "runs": records,
        "aggregate": {k: aggregate([f(r) for r in records]) for k, f in AGGREGATED.items()},
        "rules": rules(task),
        "untrained": untrained(task),
    }
    gaps = [r["trained_gap"]["relative"] for r in records if "trained_gap" in r]
    if gaps:
        result["aggregate"]["trained_gap_relative"] = aggregate(gaps)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{protocol}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def answer(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The competition's question in numbers: each protocol's learned indices against no negotiation's and
    against the fixed rules' (the rules' indices are the same on every protocol: they agree to what they do)."""
    out: dict[str, Any] = {}
    base = results.get("none")
    for proto, r in results.items():
        cmp: dict[str, Any] = {}
        if base is not None and proto != "none":
            for k in ("climate_index", "economic_index", "score", "temperature_rise"):
                cmp[f"{k}_vs_none"] = difference(r["aggregate"][k]["per_seed"], base["aggregate"][k]["per_seed"])
        ci, ei = r["aggregate"]["climate_index"]["iqm"], r["aggregate"]["economic_index"]["iqm"]
        cmp["rules_cooler"] = sorted(k for k, v in r["rules"].items() if v["climate_index"] > ci)
        cmp["rules_dominating"] = sorted(
            k for k, v in r["rules"].items() if v["climate_index"] > ci and v["economic_index"] > ei
        )
        cmp["rules_higher_score"] = sorted(
            k for k, v in r["rules"].items() if v["score"] > r["aggregate"]["score"]["iqm"]
        )
        out[proto] = cmp
    return out


def _ci(d: dict[str, Any], fmt: str = "{:.3f}") -> str:
    lo, hi = d["ci95"]
    if not np.isfinite(lo):
        return fmt.format(d["iqm"])
    return f"{fmt.format(d['iqm'])} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _diff(d: dict[str, Any], fmt: str = "{:+.3f}") -> str:
    return f"{fmt.format(d['value'])} [{fmt.format(d['ci95'][0])}, {fmt.format(d['ci95'][1])}]"


def markdown(results: dict[str, dict[str, Any]], ans: dict[str, Any]) -> str:
    any_r = next(iter(results.values()))
    lines = [
        "# RICE-N: learned baselines (shared-parameter PPO) and the competition's question",
        "",
        "Made by `python baselines/rice.py` (hyperparameters: `econbench/learn/hyperparams/shared_ppo.toml`). "
        "Score: the card's welfare (sum of the regions' utilities over the century) of the argmax profile, "
        "one deterministic episode; climate index, economic index and temperature rise (C, 2015-2115) are the "
        "competition's (`econbench/envs/rice/metrics.py`). Over the 3 seeds: IQM [95 % stratified-bootstrap "
        "interval] (`econbench/leaderboard/aggregates.py`; with 3 runs the IQM is the mean, and the interval "
        "spans the resampled means). Gap: the deviation search's relative lower bound (each region's best "
        "constant savings or mitigation against the profile); trained: region "
        f"{_br_agent(results)} retrained alone from the run's networks (relative gain)."
        + (" **Quick mode: 3 regions, 2 updates per run; the numbers mean nothing.**" if any_r["quick"] else ""),
        "",
        "| protocol | runs | env-steps (episodes) | score | climate index | economic index | temperature rise | "
        "mean mitigation | gap (deviation) | gap (trained) | sampled play: score / climate / economic |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for proto, r in results.items():
        a = r["aggregate"]
        trained_gap_text = _ci(a["trained_gap_relative"], "{:.2%}") if "trained_gap_relative" in a else "-"
        lines.append(
            f"| {proto} | {len(r['runs'])} | {r['runs'][0]['timesteps']:,} ({r['runs'][0]['episodes']:,}) | "
            f"{_ci(a['score'], '{:.2f}')} | {_ci(a['climate_index'])} | {_ci(a['economic_index'])} | "
            f"{_ci(a['temperature_rise'], '{:.2f}')} | {_ci(a['mean_mitigation'], '{:.2f}')} | "
            f"{_ci(a['gap_relative'], '{:.2%}')} | {trained_gap_text} | "
            f"{a['sampled_score']['iqm']:.2f} / {a['sampled_climate_index']['iqm']:.3f} / "
            f"{a['sampled_economic_index']['iqm']:.3f} |"
        )
    lines += [
        "",
        "Per run (wall time: training on one core of a shared 2-core machine):",
        "",
        "| protocol | seed | score | climate index | economic index | temperature rise | mean mitigation | "
        "agreed minimum | club members / accepted proposals | gap (deviation) | gap (trained, budget) | train time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for proto, r in results.items():
        for x in r["runs"]:
            tg = x.get("trained_gap")
            agreed = f"{x['mean_min_mitigation']:.2f}" if "mean_min_mitigation" in x else "-"
            agreements = f"{x['mean_agreement']:.2f}" if "mean_agreement" in x else "-"
            trained_text = f"{tg['relative']:.2%} ({tg['timesteps']:,} steps, {tg['time_s']:.0f} s)" if tg else "-"
            lines.append(
                f"| {proto} | {x['seed']} | {x['score']:.2f} | {x['climate_index']:.3f} | {x['economic_index']:.3f} | "
                f"{x['temperature_rise']:.2f} | {x['mean_mitigation']:.2f} | {agreed} | {agreements} | "
                f"{x['gap']['relative']:.2%} (region {x['gap']['region']}) | {trained_text} | "
                f"{x['train_time_s'] / 60:.1f} min |"
            )
    lines += [
        "",
        "Fixed rules (every region follows the rule; their indices and scores are the same on every protocol, "
        "since they agree to what they plan anyway; the deviation gap differs: agreements bind the deviator):",
        "",
        "| rule | score | climate index | economic index | temperature rise | "
        + " | ".join(f"gap ({p})" for p in results)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(results),
    ]
    for name in RULES:
        v = any_r["rules"][name]
        lines.append(
            f"| {name} | {v['score']:.2f} | {v['climate_index']:.3f} | {v['economic_index']:.3f} | "
            f"{v['temperature_rise']:.2f} | "
            + " | ".join(f"{r['rules'][name]['gap']['relative']:.2%}" for r in results.values())
            + " |"
        )
    lines += [
        "",
        f"Where training went: the runs' policies sampling as they trained ({SAMPLED_EPISODES} episodes each, mean "
        "over runs) against uniform play under the masks (the networks' first policy); agreed minimum and "
        "agreements on climate-economy steps:",
        "",
        "| protocol | play | score | climate index | economic index | mean mitigation | mean savings | "
        "agreed minimum | club members / accepted proposals |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for proto, r in results.items():
        rows = {"uniform (untrained)": r["untrained"]}
        rows["learned, sampled"] = {k: float(np.mean([x["sampled"][k] for x in r["runs"]])) for k in r["untrained"]}
        for label, v in rows.items():
            lines.append(
                f"| {proto} | {label} | {v['score']:.2f} | {v['climate_index']:.3f} | {v['economic_index']:.3f} | "
                f"{v['mean_mitigation']:.2f} | {v['mean_savings']:.2f} | "
                + (f"{v['mean_min_mitigation']:.2f}" if "mean_min_mitigation" in v else "-")
                + " | "
                + (f"{v['mean_agreement']:.2f}" if "mean_agreement" in v else "-")
                + " |"
            )
    lines += ["", "## Does a negotiation protocol raise the climate index, and at what cost?", ""]
    lines += answer_text(results, ans)
    return "\n".join(lines) + "\n"


def _br_agent(results: dict[str, dict[str, Any]]) -> str:
    agents = {x["trained_gap"]["agent"] for r in results.values() for x in r["runs"] if "trained_gap" in x}
    return ", ".join(str(a) for a in sorted(agents)) or "-"


def _verdict(d: dict[str, Any], up: str, down: str) -> str:
    """'raises' / 'lowers' where the interval excludes 0, else 'leaves ... unchanged (the interval spans 0)'."""
    lo, hi = d["ci95"]
    word = up if lo > 0 else down if hi < 0 else "does not change"
    return f"{word} ({_diff(d)})"


def answer_text(results: dict[str, dict[str, Any]], ans: dict[str, Any]) -> list[str]:
    out = []
    for proto, r in results.items():
        a, cmp = r["aggregate"], ans[proto]
        head = (
            f"- **{proto}**: climate index {_ci(a['climate_index'])}, economic index {_ci(a['economic_index'])}, "
            f"score {_ci(a['score'], '{:.2f}')}."
        )
        if "climate_index_vs_none" in cmp:
            head += (
                f" Against no negotiation it {_verdict(cmp['climate_index_vs_none'], 'raises', 'lowers')} the "
                f"climate index and {_verdict(cmp['economic_index_vs_none'], 'raises', 'lowers')} the economic "
                f"index; the score changes by {_diff(cmp['score_vs_none'], '{:+.2f}')}."
            )
        head += (
            f" Fixed rules with a higher climate index: {', '.join(cmp['rules_cooler']) or 'none'}; of these, "
            f"with a higher economic index too: {', '.join(cmp['rules_dominating']) or 'none'}; rules with a "
            f"higher score: {', '.join(cmp['rules_higher_score']) or 'none'}."
        )
        out.append(head)
    return out


def figure(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """The competition's plane: every learned run and every fixed rule at (economic index, climate index)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5.5))
    any_r = next(iter(results.values()))
    for name, v in any_r["rules"].items():
        ax.scatter(v["economic_index"], v["climate_index"], marker="s", color="grey", s=30)
        ax.annotate(
            name, (v["economic_index"], v["climate_index"]), fontsize=7, xytext=(4, 2), textcoords="offset points"
        )
    for (proto, r), c in zip(results.items(), ("tab:blue", "tab:orange", "tab:green")):
        x = [q["economic_index"] for q in r["runs"]]
        y = [q["climate_index"] for q in r["runs"]]
        ax.scatter(x, y, color=c, s=45, label=f"learned, {proto} (seeds)", zorder=3)
        xs = [q["sampled"]["economic_index"] for q in r["runs"]]
        ys = [q["sampled"]["climate_index"] for q in r["runs"]]
        ax.scatter(xs, ys, color=c, s=45, marker="x", label=f"learned, {proto}, sampled play", zorder=3)
    ax.set(xlabel="economic index", ylabel="climate index", title="RICE-N: learned profiles and fixed rules")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def report(
    protocols: Sequence[str],
    seeds: Sequence[int],
    runs: Path,
    out: Path,
    br: tuple[Sequence[int], int, int],
    quick: bool,
) -> dict[str, dict[str, Any]]:
    """Each protocol's report; the summary covers every protocol reported in ``out`` (the others as written
    before, so that one protocol can be redone alone)."""
    fresh = {p: report_protocol(p, seeds, runs, out, br, quick) for p in protocols}
    if not any(fresh.values()):
        raise SystemExit(f"no finished runs under {runs}")
    results = {}
    for p in TASKS:
        r = fresh.get(p)
        if r is None and p not in fresh and (out / f"{p}.json").is_file():
            r = json.loads((out / f"{p}.json").read_text())
        if r is not None and r["quick"] == quick:
            results[p] = r
    ans = answer(results)
    (out / "answer.json").write_text(json.dumps(ans, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(results, ans))
    figure(results, out / "rice_indices.png")
    print((out / "summary.md").read_text())
    return results


# ---------------------------------------------------------------------------- shipping
def provenance(run: Path, protocol: str, seed: int, step: int) -> dict[str, Any]:
    return {
        "source": f"baselines/rice.py --protocols {protocol} --seeds {seed}",
        "trainer": "econbench.learn.shared_ppo",
        "run": run.name,
        "seed": seed,
        "timesteps": step,
    }


def ship(protocols: Sequence[str], seeds: Sequence[int], runs: Path) -> list[Path]:
    """Each finished full-budget run as a named policy of its protocol's tasks (``econbench/envs/rice/trained/``)
    and its checkpoint, without optimiser state, with its curve and record in ``baselines/checkpoints/<Task>/``."""
    import torch

    from econbench.learn.runs import read_checkpoint

    written = []
    for protocol in protocols:
        for s in seeds:
            run = run_folder(runs, protocol, s)
            if not (run / "rice_eval.json").is_file():
                print(f"skip {run}: not trained and reported")
                continue
            ck = read_checkpoint(run)
            if ck["args"].get("params") or json.loads((run / "train.json").read_text()).get("quick"):
                raise SystemExit(f"{run}: a --quick or re-parametrised run; only full-budget runs are shipped")
            name = NAME.format(seed=s)
            written.append(
                trained.export(trained.TRAINED_DIR / protocol / name, run, provenance(run, protocol, s, ck["step"]))
            )
            dest = HERE / "checkpoints" / TASKS[protocol].split("/")[1] / name
            dest.mkdir(parents=True, exist_ok=True)
            torch.save({k: ck[k] for k in ("agents", "step", "curve", "args", "task_id")}, dest / "checkpoint.pt")
            for f in ("curve.csv", "policy.json", "policy.safetensors"):
                shutil.copyfile(run / f, dest / f)
            (dest / "eval.json").write_text(
                json.dumps(reported(protocol, s) or evaluate_run(run, protocol, s), indent=2) + "\n"
            )
            written.append(dest)
            print(written[-2], written[-1])
    return written


def reported(protocol: str, seed: int, out: Path = OUT) -> dict[str, Any] | None:
    """A run's record as the report wrote it (with its sampled play and trained gap), if there is one."""
    path = out / f"{protocol}.json"
    runs = json.loads(path.read_text())["runs"] if path.is_file() else []
    return next((r for r in runs if r["seed"] == seed), None)


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return p.name


@dataclass
class Args:
    protocols: list[Literal["none", "bilateral", "club"]] = field(default_factory=lambda: ["none", "bilateral", "club"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    stage: Literal["all", "train", "report", "ship"] = "all"  # all = train, then report (ship is separate)
    out: Path = OUT  # <protocol>.json, answer.json, summary.md, rice_indices.png
    runs: Path = RUNS  # the training runs: <runs>/<Task>/shared_ppo_cpu_seed<s>/
    timesteps: int = 0  # training budget per run (0: econbench/learn/hyperparams/shared_ppo.toml's)
    br_seeds: list[int] = field(default_factory=lambda: [0, 1, 2])  # runs that get a trained best response
    br_agent: int = 0  # the region retrained alone (0: region_yamls/11.yml, the region views' learner)
    br_timesteps: int = 19_200  # its budget in env-steps (20 updates with bilateral negotiation, 60 without)
    quick: bool = False  # the CI check: 3 regions, 2 updates per run and per best response


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, Any]] | list[Path]:
    a = tyro.cli(Args, args=argv, description=__doc__)
    if a.stage == "ship":
        if a.quick:
            raise SystemExit("--quick runs are never shipped")
        return ship(a.protocols, a.seeds, a.runs)
    if a.stage in ("all", "train"):
        for p in a.protocols:
            for s in a.seeds:
                print(f"== {TASKS[p]} seed {s} -> {train(p, s, a.runs, a.quick, a.timesteps)}", flush=True)
    if a.stage in ("all", "report"):
        br_steps = (
            QUICK_UPDATES * 2 * max(make_task(TASKS[p]).horizon for p in a.protocols) if a.quick else a.br_timesteps
        )
        return report(a.protocols, a.seeds, a.runs, a.out, (a.br_seeds, a.br_agent, br_steps), a.quick)
    return {}


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
