"""EV charging: the numbers of ``baselines/results/ev/summary.md``, computed from saved runs.

    python baselines/ev_report.py steady  --policy baselines/checkpoints/EVCharging-Steady-v0/shared_ppo_seed0
    python baselines/ev_report.py dynamic --policy baselines/checkpoints/EVCharging-v0/shared_ppo_seed0
    python baselines/ev_report.py summary          # collects every report into summary.{md,json}
    python baselines/ev_report.py card             # and writes the learned baselines' figures into the cards

``steady`` scores a policy of ``econbench/EVCharging-Steady-v0`` on the card's protocol
(``econbench.metrics.evaluate``), measures its equilibrium gap
(``econbench.metrics.equilibrium_gap``: each request's exact regret at the episode's
loads) and its **gap to the Wardrop equilibrium** (see
``docs/models/ev_charging.md`` §7) from the station choices it makes in the very
episodes it is scored on:

* station loads ``x`` (EV/h): each station's share of the requests' decisions times
  the nominal demand ``D`` (18 EV/h), so that the Poisson noise in how many requests
  arrive is not counted as misallocation; requests sent nowhere ("unserved", $100)
  are a share ``x_0`` of their own;
* allocation distance ``(||x - x_UE||_1 + x_0) / (2 D)``: the share of demand
  misallocated against the exact Wardrop loads ``x_UE = (8.1729, 9.8271, 0)``
  (``solution.wardrop(city.steady_instance(params))``), and the same against the system
  optimum;
* the Wardrop relative gap ``Instance.relative_gap`` at the learned loads (the served
  loads rescaled to ``D``; infinite when a station is loaded at or beyond its capacity,
  where the M/M/c wait is infinite), and the efficiency ratio ``TC(x) / TC(SO)``.

Pooled over the protocol's episodes; the 95 % intervals resample episodes within each
evaluation seed. ``dynamic`` does the same for ``econbench/EVCharging-v0`` without a
Wardrop reference (its gap is a deviation-search lower bound): the score, the gap, the
charging trips per driver and day by station, waits and strandings.

Every policy spec econbench takes works: a named policy (``exact``, ``nearest``, ...) or
a run folder of ``baselines/shared_ppo.py``. A run folder acts by the argmax of each head,
as econbench scores it; ``--sampled`` draws the actions from the learned distributions
instead, as in training (torch seeded with 0 before every measurement, so the numbers
repeat). In a Wardrop equilibrium identical requests are indifferent and split, and a
policy trained to that split may put its argmax anywhere: the sampled profile is the
learned equilibrium play.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
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
from econbench.core import Task
from econbench.envs.ev_charging import solution
from econbench.envs.ev_charging.city import build_city, steady_instance
from econbench.envs.ev_charging.dynamics import COUNTERS
from econbench.envs.ev_charging.metrics import rollout_choices, split_metrics
from econbench.metrics import equilibrium_gap, evaluate
from econbench.metrics.evaluate import resolve_policy
from econbench.metrics.stats import bootstrap_ci
from econbench.registry import make_task

STEADY = "econbench/EVCharging-Steady-v0"
DYNAMIC = "econbench/EVCharging-v0"
OUT = HERE / "results" / "ev"


# ---------------------------------------------------------------------------- rollouts
def station_choices(
    task: Task, policy: Any, seeds: Sequence[int] | None = None, episodes: int | None = None
) -> dict[str, np.ndarray]:
    """Per episode: decisions by station (column 0: no station), and the env's counters at the end of the day.

    The same rollouts as ``econbench.metrics.evaluate`` (same seeds, one batch of
    ``episodes`` per seed, the profile resolved once), so the loads belong to
    the episodes the score is computed on. ``choices[e, 1 + s]`` counts the
    decisions for station ``s``; in the dynamic mode ``choices[e, 0]`` counts the
    idle steps that followed the schedule.
    """
    proto = task.card["protocol"]
    seeds = list(proto["eval_seeds"] if seeds is None else seeds)
    episodes = int(proto["episodes_per_seed"] if episodes is None else episodes)
    _, profile = resolve_policy(task, policy)
    S = build_city(task.params).plugs.size
    rows, counters = [], []
    for seed in seeds:
        ends, stations, _, _ = rollout_choices(task, profile, seed, episodes)
        rows.append(np.stack([np.bincount(s + 1, minlength=S + 1) for s in stations]).astype(float))
        counters.append(ends)
    return {
        "choices": np.concatenate(rows),
        "counters": np.concatenate(counters),
        "strata": np.repeat(np.arange(len(seeds)), episodes),
        "seeds": np.asarray(seeds),
        "episodes": episodes,
    }


def policy_spec(policy: str, sampled: bool = False) -> Any:
    """A policy spec for econbench's metrics; ``sampled``: a shared_ppo run folder drawing its actions."""
    if not sampled:
        return policy
    from econbench.learn.runs import load_profile

    return load_profile(policy, deterministic=False)[1]


def _seeded(fn: Any, *args: Any, **kw: Any) -> Any:
    """``fn`` with torch's global generator seeded with 0 (what sampled profiles draw from), restored after."""
    try:
        import torch
    except ModuleNotFoundError:  # named policies need no torch
        return fn(*args, **kw)
    state = torch.get_rng_state()
    torch.manual_seed(0)
    try:
        return fn(*args, **kw)
    finally:
        torch.set_rng_state(state)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None  # strict JSON


def _boot(values: np.ndarray, strata: np.ndarray) -> list[float | None]:
    if not np.all(np.isfinite(values)):
        return [None, None]
    return [float(v) for v in bootstrap_ci(values, strata)]


def _pooled_stats(
    inst: solution.Instance, choices: np.ndarray, ue: solution.Assignment, so: solution.Assignment
) -> dict[str, float]:
    """Pooled decision counts (column 0: none) as loads at the nominal demand, scored by ``split_metrics``.

    Scaling the decision shares to ``D`` keeps the Poisson noise in how many requests arrive out of the
    distances; the unserved share ``x0`` is what ``split_metrics`` counts as misallocated.
    """
    D = float(inst.demand.sum())
    decided = choices.sum()
    shares = choices / decided if decided > 0 else np.zeros_like(choices)
    x, x0 = D * shares[1:], D * shares[0]
    m = split_metrics(inst, x.reshape(1, 1, -1), ue, so)  # one origin and class
    return {
        "loads": x,
        "unserved": x0,
        "alloc_ue": m["distance_to_wardrop"],
        "alloc_so": m["distance_to_optimum"],
        "rg": m["wardrop_relative_gap"],
        "eff": m["efficiency_ratio"],
    }


def _score_and_gap(
    task: Task, policy: str, sampled: bool, episodes: int | None, with_gap: bool
) -> tuple[dict[str, Any], Any]:
    spec = policy_spec(policy, sampled)
    res = _seeded(evaluate, task, spec, episodes=episodes)
    out: dict[str, Any] = {
        "task_id": task.id,
        "policy": str(policy),
        "actions": "sampled" if sampled else "deterministic",
        "score": res.mean,
        "score_ci95": list(res.ci),
        "eval_seeds": res.seeds,
        "episodes_per_seed": int(res.scores.shape[1]),
    }
    if with_gap:
        (gap,) = _seeded(equilibrium_gap, task, spec, episodes=episodes)
        out["equilibrium_gap"] = {
            "epsilon": gap.epsilon,
            "epsilon_ci95": list(gap.epsilon_ci),
            "relative": _finite(gap.relative),
            "method": gap.method,
        }
    return out, spec


def steady_report(
    policy: str, task_id: str = STEADY, episodes: int | None = None, with_gap: bool = True, sampled: bool = False
) -> dict[str, Any]:
    task = make_task(task_id)
    p = task.params
    inst = steady_instance(p)
    ue, so = solution.wardrop(inst), solution.system_optimum(inst)
    t0 = time.perf_counter()
    out, spec = _score_and_gap(task, policy, sampled, episodes, with_gap)
    roll = _seeded(station_choices, task, spec, episodes=episodes)
    choices, strata = roll["choices"], roll["strata"]
    pooled = _pooled_stats(inst, choices.sum(axis=0), ue, so)
    # bootstrap over episodes (within seeds) of the pooled statistics
    rng = np.random.default_rng(0)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    boot: dict[str, list[float]] = {k: [] for k in ("alloc_ue", "alloc_so", "rg", "eff")}
    for _ in range(1000):
        pick = np.concatenate([g[rng.integers(0, g.size, g.size)] for g in groups])
        st = _pooled_stats(inst, choices[pick].sum(axis=0), ue, so)
        for k in boot:
            boot[k].append(st[k])

    def ci(k: str) -> list[float | None]:
        v = np.asarray(boot[k])
        if not np.all(np.isfinite(v)):
            return [None, None]
        return [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))]

    hours = p.horizon * p.step_minutes / 60.0
    counters = roll["counters"]
    col = {c: j for j, c in enumerate(COUNTERS)}
    served = counters[:, col["served"]].sum()
    out["wardrop"] = {
        "demand": float(inst.demand.sum()),
        "ue_loads": [float(v) for v in ue.loads],
        "so_loads": [float(v) for v in so.loads],
        "loads": [float(v) for v in pooled["loads"]],
        "unserved_load": float(pooled["unserved"]),
        "decisions_per_hour": float(choices.sum() / (choices.shape[0] * hours)),
        "allocation_distance_ue": pooled["alloc_ue"],
        "allocation_distance_ue_ci95": ci("alloc_ue"),
        "allocation_distance_so": pooled["alloc_so"],
        "allocation_distance_so_ci95": ci("alloc_so"),
        "relative_gap": _finite(pooled["rg"]),
        "relative_gap_ci95": ci("rg"),
        "relative_gap_at_ue": float(inst.relative_gap(ue.flows)),
        "efficiency_ratio": _finite(pooled["eff"]),
        "efficiency_ratio_ci95": ci("eff"),
        "poa": float(ue.total_cost / so.total_cost),
        "mean_wait_min": float(60.0 * counters[:, col["wait_h"]].sum() / max(served, 1.0)),
        "lost_requests": float(counters[:, col["lost"]].sum()),
    }
    # econbench's own figures (econbench.envs.ev_charging.metrics, what `econbench evaluate` prints): means over the
    # first seed's episodes of per-episode loads and distances (Poisson noise included), for cross-reference
    from econbench.envs.ev_charging.metrics import ev_metrics

    resolved = resolve_policy(task, spec)[1]
    out["econbench_ev_metrics"] = _jsonable(
        _seeded(ev_metrics, task, resolved, seed=int(out["eval_seeds"][0]), episodes=out["episodes_per_seed"])
    )
    out["report_time_s"] = round(time.perf_counter() - t0, 1)
    return out


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_finite(v) if isinstance(v, float) else v) for k, v in d.items()}


def dynamic_report(
    policy: str, task_id: str = DYNAMIC, episodes: int | None = None, with_gap: bool = True, sampled: bool = False
) -> dict[str, Any]:
    task = make_task(task_id)
    t0 = time.perf_counter()
    out, spec = _score_and_gap(task, policy, sampled, episodes, with_gap)
    roll = _seeded(station_choices, task, spec, episodes=episodes)
    choices, counters = roll["choices"], roll["counters"]
    N = task.params.n_drivers
    col = {c: j for j, c in enumerate(COUNTERS)}
    served = counters[:, col["served"]].sum()
    out["service"] = {
        "charging_trips_per_driver_day": float(choices[:, 1:].sum() / (choices.shape[0] * N)),
        "station_share": [float(v) for v in choices[:, 1:].sum(axis=0) / max(choices[:, 1:].sum(), 1.0)],
        "mean_wait_min": float(60.0 * counters[:, col["wait_h"]].sum() / max(served, 1.0)),
        "kwh_per_driver_day": float(counters[:, col["energy_kwh"]].sum() / (choices.shape[0] * N)),
        "stranded_per_1000_driver_days": float(1000.0 * counters[:, col["stranded"]].sum() / (choices.shape[0] * N)),
    }
    out["report_time_s"] = round(time.perf_counter() - t0, 1)
    return out


# ---------------------------------------------------------------------------- summary
def _fmt(x: float | None, nd: int = 4) -> str:
    return "inf" if x is None else f"{x:.{nd}f}"


def _ci(c: Sequence[float | None], nd: int = 4) -> str:
    return "[-]" if c[0] is None else f"[{c[0]:.{nd}f}, {c[1]:.{nd}f}]"


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def summary(out_dir: Path = OUT) -> tuple[Path, Path]:
    """Collect the operator and driver ``eval.json`` files and the steady/dynamic reports into summary.{md,json}."""
    data: dict[str, Any] = {}
    md: list[str] = [
        "# EV charging: learned baselines",
        "",
        "Generated by `python baselines/ev_report.py summary` from the files it names; "
        "every number has its reproduce command below the table it is in. One CPU core "
        "(torch 1 thread), no GPU.",
        "",
    ]

    op_root = ROOT / "baselines" / "checkpoints" / "EVCharging-Operator-v0"
    ops = sorted(op_root.glob("ppo_seed*/eval.json"))
    if ops:
        md += [
            "## SB3 PPO on EVCharging-Operator-v0 (hourly tolls)",
            "",
            "Score = sum over the 24 hours of -PoA achieved (optimum -24, the Pigouvian tolls; no tolls "
            "-24.3031). Normalized regret (V*-V)/(V*-V_no_tolls): 0 at the optimum, 1 with no tolls. "
            "Deterministic task: one episode, so the intervals are points.",
            "",
            "| run | timesteps | training time | score | excess PoA per hour | normalized regret |",
            "|---|---|---|---|---|---|",
        ]
        data["operator"] = []
        for f in ops:
            r = json.loads(f.read_text())
            meta = json.loads((f.parent / "meta.json").read_text())
            data["operator"].append(
                {**r, "timesteps": meta["timesteps"], "folder": _rel(f.parent), "command": meta["command"]}
            )
            md.append(
                f"| {f.parent.name} | {meta['timesteps']:,} | {r['train_time_s']:.0f} s | {r['score']:.5f} | "
                f"{r['gap'] * 1:.2e} | {r['normalized_regret']:.4f} {_ci(r['normalized_regret_ci95'])} |"
            )
        md += (
            ["", "```bash"]
            + [f"{json.loads((f.parent / 'meta.json').read_text())['command']}" for f in ops]
            + [
                "econbench gap --task econbench/EVCharging-Operator-v0 --policy "
                f"{_rel(ops[0].parent)}   # re-evaluates a checkpoint",
                "```",
                "",
            ]
        )

    dr_root = out_dir / "EVCharging-Driver-v0"
    drs = sorted(dr_root.glob("ppo_seed*/eval.json"))
    if drs:
        first = json.loads(drs[0].read_text())
        names = list(first["vs_named"])
        md += [
            "## SB3 PPO on EVCharging-Driver-v0 (driver 0 learns, 299 follow shortest_wait)",
            "",
            f"Score = driver 0's return over the day ($, card protocol: seeds {first['eval_seeds']}, "
            f"{first['episodes_per_seed']} episodes). No exact policy exists for this view, so no optimality gap; "
            "the learned driver is compared with the card's rules for driver 0 on the same days "
            "(paired differences, learned minus rule, 95 % bootstrap intervals over episodes).",
            "",
            "| run | timesteps | training time | score [95 % CI] | " + " | ".join(f"vs {n}" for n in names) + " |",
            "|---|---|---|---|" + "---|" * len(names),
        ]
        data["driver"] = []
        for f in drs:
            r = json.loads(f.read_text())
            meta = json.loads((f.parent / "meta.json").read_text())
            data["driver"].append(
                {**r, "timesteps": meta["timesteps"], "folder": _rel(f.parent), "command": meta["command"]}
            )
            diffs = " | ".join(
                f"{r['vs_named'][n]['difference']:+.2f} {_ci(r['vs_named'][n]['difference_ci95'], 2)}" for n in names
            )
            md.append(
                f"| {f.parent.name} (argmax) | {meta['timesteps']:,} | {r['train_time_s']:.0f} s | "
                f"{r['score']:.2f} {_ci(r['score_ci95'], 2)} | {diffs} |"
            )
            if "sampled" in r:
                sp = r["sampled"]
                diffs = " | ".join(
                    f"{sp['vs_named'][n]['difference']:+.2f} {_ci(sp['vs_named'][n]['difference_ci95'], 2)}"
                    for n in names
                )
                md.append(
                    f"| {f.parent.name} (sampled, torch seed 0) | | | {sp['score']:.2f} {_ci(sp['score_ci95'], 2)} | {diffs} |"
                )
        md += (
            [
                "",
                "Rules (card): " + ", ".join(f"{n} {first['vs_named'][n]['score']:.2f}" for n in names) + ".",
                "",
                "```bash",
            ]
            + [json.loads((f.parent / "meta.json").read_text())["command"] + f" --out {_rel(out_dir)}" for f in drs]
            + ["```", ""]
        )

    for kind, title in (
        ("steady", "Shared-parameter PPO on EVCharging-Steady-v0 (Poisson requests, exact Wardrop reference)"),
        ("dynamic", "Shared-parameter PPO on EVCharging-v0 (the dynamic day)"),
    ):
        files = sorted(out_dir.glob(f"{kind}_*.json"))
        if not files:
            continue
        reports = [json.loads(f.read_text()) for f in files]
        data[kind] = reports
        md += [f"## {title}", ""]
        if kind == "steady":
            md += [
                "Score = minus dollars per request (card protocol). Equilibrium gap = a request's mean exact regret "
                "($) at the episode's loads. Loads pooled over the protocol's episodes, scaled to D = 18 EV/h; "
                "allocation distance (||x - x_UE||_1 + unserved)/(2D); RG = Wardrop relative gap at the loads; "
                "TC/TC(SO) = efficiency ratio (the instance's PoA is 1.00923).",
                "",
                "| policy | score [95 % CI] | eq. gap $ (relative) | loads (S1, S2, S3) EV/h | unserved | "
                "alloc. dist. to UE | to SO | RG | TC/TC(SO) | mean wait |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for r in reports:
                w, g = r["wardrop"], r.get("equilibrium_gap", {})
                md.append(
                    f"| {_name(r)} | {r['score']:.3f} {_ci(r['score_ci95'], 3)} | "
                    f"{g.get('epsilon', float('nan')):.3f} ({_fmt(g.get('relative'))}) | "
                    f"({', '.join(f'{v:.3f}' for v in w['loads'])}) | {w['unserved_load']:.3f} | "
                    f"{w['allocation_distance_ue']:.4f} {_ci(w['allocation_distance_ue_ci95'])} | "
                    f"{w['allocation_distance_so']:.4f} | {_fmt(w['relative_gap'], 5)} | "
                    f"{_fmt(w['efficiency_ratio'], 5)} | {w['mean_wait_min']:.2f} min |"
                )
            md += [
                "",
                f"Exact Wardrop loads (solution.wardrop): ({', '.join(f'{v:.4f}' for v in reports[0]['wardrop']['ue_loads'])}); "
                f"system optimum ({', '.join(f'{v:.4f}' for v in reports[0]['wardrop']['so_loads'])}).",
            ]
        else:
            md += [
                "Score = mean over drivers of minus dollars per day (card protocol). Equilibrium gap = a deviation "
                "search (16 drivers each try 4 rules for the whole day): a lower bound.",
                "",
                "| policy | score [95 % CI] | eq. gap $ (relative) | charging trips / driver-day | station shares | "
                "mean wait | stranded / 1000 driver-days |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in reports:
                s, g = r["service"], r.get("equilibrium_gap", {})
                md.append(
                    f"| {_name(r)} | {r['score']:.3f} {_ci(r['score_ci95'], 3)} | "
                    f"{g.get('epsilon', float('nan')):.3f} ({_fmt(g.get('relative'))}) | "
                    f"{s['charging_trips_per_driver_day']:.3f} | ({', '.join(f'{v:.2f}' for v in s['station_share'])}) | "
                    f"{s['mean_wait_min']:.1f} min | {s['stranded_per_1000_driver_days']:.1f} |"
                )
        task_name = "EVCharging-Steady-v0" if kind == "steady" else "EVCharging-v0"
        runs = sorted((ROOT / "baselines" / "checkpoints" / task_name).glob("shared_ppo_seed*/eval.json"))
        train = []
        for f in runs:
            e = json.loads(f.read_text())
            train.append(
                f"python baselines/shared_ppo.py --task econbench/{task_name} --seed {f.parent.name.removeprefix('shared_ppo_seed')}"
                f"   # {e['timesteps']:,} env-steps in {e['train_time_s']:.0f} s; then "
                f"cp -r runs/{task_name}/{f.parent.name} baselines/checkpoints/{task_name}/"
            )
        data[kind + "_training"] = [json.loads(f.read_text()) for f in runs]
        md += ["", "```bash"] + train + [r["command"] for r in reports] + ["```", ""]

    notes = out_dir / "notes.md"
    if notes.is_file():
        md += [notes.read_text().rstrip(), ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(data, indent=2) + "\n")
    (out_dir / "summary.md").write_text("\n".join(md) + "\n")
    return out_dir / "summary.md", out_dir / "summary.json"


# ---------------------------------------------------------------------------- cards
CARD_MARK = "# Learned baselines, from baselines/results/ev/summary.json: `python baselines/ev_report.py card` rewrites this block."


def learned_tables(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``[learned_scores.<run>]`` tables of the three EV cards from the summary: a run's argmax and its sampled play."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, task in (("steady", STEADY), ("dynamic", DYNAMIC)):
        for r in data.get(kind, []):
            if "/" not in str(r["policy"]):
                continue  # a named rule: the card's reference_scores already list it
            g = r.get("equilibrium_gap", {})
            e: dict[str, Any] = {
                "checkpoint": r["policy"],
                "actions": r["actions"],
                "score": r["score"],
                "ci95": r["score_ci95"],
            }
            if g:
                e |= {"equilibrium_gap": g["epsilon"], "equilibrium_gap_relative": g["relative"]}
            if kind == "steady":
                w = r["wardrop"]
                e |= {
                    k: w[k]
                    for k in ("loads", "allocation_distance_ue", "relative_gap", "efficiency_ratio")
                    if w[k] is not None
                }
            else:
                s = r["service"]
                e |= {k: s[k] for k in ("charging_trips_per_driver_day", "stranded_per_1000_driver_days")}
            name = Path(r["policy"]).name + ("_sampled" if r["actions"] == "sampled" else "")
            out.setdefault(task.split("/")[1], {})[name] = e | {"report": f"baselines/results/ev/{kind}_{name}.json"}
    for r in data.get("driver", []):
        for name, play, actions in (
            (Path(r["folder"]).name, r, "deterministic"),
            (Path(r["folder"]).name + "_sampled", r.get("sampled"), "sampled"),
        ):
            if play is None:
                continue
            ref = play["vs_named"][r["reference"]]
            out.setdefault("EVCharging-Driver-v0", {})[name] = {
                "checkpoint": r["folder"],
                "actions": actions,
                "score": play["score"],
                "ci95": play["score_ci95"],
                f"vs_{r['reference']}": ref["difference"],
                f"vs_{r['reference']}_ci95": ref["difference_ci95"],
                "timesteps": r["timesteps"],
                "report": r["folder"] + "/eval.json",
            }
    return out


def write_cards(data: dict[str, Any], folder: Path | None = None) -> list[Path]:
    """Replace each EV card's learned block (the card's last lines, after ``CARD_MARK``) with the summary's tables."""
    from econbench.cards import cards_dir, write_learned_block

    written = []
    for short, tables in learned_tables(data).items():
        path = (folder or cards_dir()) / f"{short}.toml"
        write_learned_block(
            path,
            CARD_MARK,
            tables,
            "Scores as econbench measures them (card protocol); 'sampled' draws each action (torch seed 0).",
        )
        written.append(path)
    return written


def _name(r: dict[str, Any]) -> str:
    p = str(r["policy"])
    name = f"`{p}`" if "/" not in p else f"learned: `{Path(p).name}`"
    return name + (" (sampled)" if r.get("actions") == "sampled" else " (argmax)" if "/" in p else "")


@dataclass
class Args:
    kind: tyro.conf.Positional[Literal["steady", "dynamic", "summary", "card"]]
    policy: tyro.conf.UseAppendAction[list[str]] = field(
        default_factory=list
    )  # a named policy or a shared_ppo run folder
    task: str | None = None  # default: EVCharging-Steady-v0 / EVCharging-v0
    episodes: int | None = None  # episodes per seed (default: the card's protocol)
    no_gap: bool = False  # skip the equilibrium gap
    sampled: bool = False  # run folders draw their actions (torch seed 0) instead of argmax
    out: Path = OUT  # folder of the reports and the summary


def main(argv: Sequence[str] | None = None) -> None:
    args = tyro.cli(Args, args=argv, description=__doc__)
    if args.kind == "summary":
        for path in summary(args.out):
            print(path)
        return
    if args.kind == "card":  # the learned baselines' figures into the cards' [learned_scores.*] tables
        for path in write_cards(json.loads((args.out / "summary.json").read_text())):
            print(path)
        return
    make = steady_report if args.kind == "steady" else dynamic_report
    task_id = args.task or (STEADY if args.kind == "steady" else DYNAMIC)
    args.out.mkdir(parents=True, exist_ok=True)
    for policy in args.policy:
        r = make(policy, task_id, args.episodes, not args.no_gap, args.sampled)
        if Path(policy).exists():
            r["policy"] = _rel(Path(policy))  # relative to the repository when inside it
        r["command"] = " ".join(
            [
                "python baselines/ev_report.py",
                args.kind,
                "--policy",
                _rel(Path(policy)) if Path(policy).exists() else policy,
            ]
            + (["--task", task_id] if args.task else [])
            + (["--episodes", str(args.episodes)] if args.episodes else [])
            + (["--no-gap"] if args.no_gap else [])
            + (["--sampled"] if args.sampled else [])
        )
        name = (Path(policy).name if Path(policy).exists() else policy) + ("_sampled" if args.sampled else "")
        path = args.out / f"{args.kind}_{name}.json"
        path.write_text(json.dumps(r, indent=2) + "\n")
        print(json.dumps(r, indent=2))
        print(f"-> {path}")


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
