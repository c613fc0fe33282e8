"""How much room a learned planner leaves where no V* exists: a five-number saving rule, tuned, against constant saving.

The capital-goods planner with several households (``CapitalGoods-Planner-4-v0``)
has no exact solution, so its learned baselines are measured against constant
saving alone. This script finds how much a simple state-dependent rule gains
there, and what the shipped learned planners' shares depend on:

* the rule (``econbench.envs.capital_goods.rule``): household i's spending share is
  ``s_ss * exp(b0 + b1 log(K_i/K_ss) + b2 1{z_i high} + b3 1{z_agg high} + b4 log(mean K/K_ss))``
  (clipped to the action's bounds; one capital good per household);
* the coefficients are tuned by Nelder-Mead from ``b = 0`` (constant saving) on the
  card's evaluation episodes, then scored again on held-out seeds (``--held-out``)
  with common random numbers, so the gain is not the search fitting its episodes;
* each shipped learned run of the exercise is regressed on the same five features
  over states of its own trajectories: the sign and size of its coefficients say
  whether learning found the rule's structure.

    python baselines/planner_rule.py                       # planner_4hh: ~1 minute
    python baselines/planner_rule.py --evaluations 40      # a shorter search
    python baselines/planner_rule.py --ship                # and make it the task's named policy tuned_rule

Writes ``results/capital_goods/rules/<exercise>.json``.
"""

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tyro
from scipy.optimize import minimize

HERE = Path(__file__).resolve().parent
try:
    import econbench  # noqa: F401
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent))
from econbench.backend import get_backend
from econbench.core import BatchedEnv, Task, profile_actions
from econbench.envs.capital_goods import rule
from econbench.envs.capital_goods.rule import FEATURES, ShareRule
from econbench.learn.runs import load_profile
from econbench.metrics import evaluate
from econbench.registry import make_task

OUT = HERE / "results" / "capital_goods" / "rules"  # beside, not among, the exercise reports
SHIPPED = HERE / "checkpoints"
EXERCISES = {"planner_4hh": {"n_households": 4}}  # baselines/capital_goods.py's planners with no V*


def share_rule(task: Task, b: Sequence[float]) -> dict[str, Any]:
    return {"planner": ShareRule(task.params, b, get_backend("numpy"))}


_CONSTANT: dict[tuple[str, tuple[int, ...] | None], np.ndarray] = {}  # constant saving's scores, once per seeds


def ce_gain(task: Task, policy: Any, seeds: list[int] | None = None) -> tuple[float, float]:
    """Consumption-equivalent gain over constant saving, and the paired standard error of the score difference."""
    key = (task.id + repr(task.params), None if seeds is None else tuple(seeds))
    if key not in _CONSTANT:  # the search scores 150 rules against the same constant-saving episodes
        _CONSTANT[key] = evaluate(task, "constant_saving", seeds=seeds).scores
    diff = (evaluate(task, policy, seeds=seeds).scores - _CONSTANT[key]).ravel()
    return math.expm1((1 - task.params.beta) * diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))


def policy_coefficients(task: Task, profile: Any, envs: int = 256, steps: int = 300, burn: int = 50) -> dict:
    """Least squares of a profile's log(share / s_ss) on :data:`FEATURES` over its own trajectories."""
    env = BatchedEnv(task, envs, "numpy", seed=1)
    obs = env.reset()
    xs, ys = [], []
    for t in range(steps):
        actions = profile_actions(profile, obs, dict)
        if t >= burn:
            xs.append(rule.features(np, task.params, obs["planner"]).reshape(-1, len(FEATURES)))
            ys.append(np.log(np.asarray(actions["planner"])[:, 0].reshape(-1) / task.params.saving_ss))
        obs, *_ = env.step(actions)
    x, y = np.concatenate(xs), np.concatenate(ys)
    b, *_ = np.linalg.lstsq(x, y, rcond=None)
    explained = 1.0 - float(((y - x @ b) ** 2).mean() / y.var()) if y.var() > 0 else float("nan")
    return {"coefficients": b.tolist(), "r2": explained, "sd_log_share": float(y.std())}


@dataclass
class Args:
    exercise: str = "planner_4hh"
    evaluations: int = 150  # Nelder-Mead's budget of card evaluations
    held_out: list[int] = field(default_factory=lambda: list(range(100, 110)))  # evaluation seeds the search never saw
    runs: Path = SHIPPED  # where the exercise's learned runs are (<Task>/<exercise>_seed<s>/)
    out: Path = OUT
    ship: bool = False  # also write econbench/envs/capital_goods/rules/<exercise>.json: the named policy tuned_rule


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv, description=__doc__)
    if args.exercise not in EXERCISES:
        raise SystemExit(f"unknown exercise {args.exercise!r}; known: {sorted(EXERCISES)}")
    task = make_task("econbench/CapitalGoods-Planner-v0", **EXERCISES[args.exercise])
    if task.params.n_capital != 1:
        raise SystemExit("the rule has one share per household: n_capital must be 1")
    trace: list[float] = []

    def loss(b: np.ndarray) -> float:
        trace.append(ce_gain(task, share_rule(task, b))[0])
        print(f"{len(trace):4d}  b = {np.round(b, 4).tolist()}  CE gain {100 * trace[-1]:+.4f} %", flush=True)
        return -trace[-1]

    simplex = np.vstack([np.zeros(len(FEATURES)), 0.05 * np.eye(len(FEATURES))])
    found = minimize(
        loss,
        np.zeros(len(FEATURES)),
        method="Nelder-Mead",
        options={"maxfev": args.evaluations, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1e-6},
    )
    tuned = share_rule(task, found.x)
    gain, se = ce_gain(task, tuned)
    held, held_se = ce_gain(task, tuned, args.held_out)
    learned = {}
    for run in sorted((args.runs / task.name).glob(f"{args.exercise}_seed*")):
        profile = load_profile(run)[1]
        learned[run.name] = policy_coefficients(task, profile) | {"ce_gain_over_constant": ce_gain(task, profile)[0]}
    out = {
        "exercise": args.exercise,
        "task_id": task.id,
        "params": EXERCISES[args.exercise],
        "features": list(FEATURES),
        "rule": {
            "coefficients": found.x.tolist(),
            "evaluations": len(trace),
            "ce_gain_over_constant": gain,
            "score_difference_se": se,
            "held_out_seeds": args.held_out,
            "held_out_ce_gain_over_constant": held,
            "held_out_score_difference_se": held_se,
            "regression": policy_coefficients(task, tuned),  # the diagnostic on the rule itself: R2 = 1
        },
        "learned": learned,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.exercise}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"rule: CE gain {100 * gain:+.3f} % (held out {100 * held:+.3f} %), b = {np.round(found.x, 3).tolist()}")
    for name, r in learned.items():
        b = np.round(r["coefficients"], 3).tolist()
        print(f"{name}: CE gain {100 * r['ce_gain_over_constant']:+.4f} %, b = {b}, R2 {r['r2']:.2f}")
    if args.ship:  # the named policy tuned_rule of this economy's tasks
        print(
            rule.write(
                args.exercise,
                task.params,
                found.x.tolist(),
                {
                    "source": f"baselines/planner_rule.py --exercise {args.exercise}",
                    "held_out_ce_gain_over_constant": held,
                },
            )
        )
    print(path)
    return out


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
