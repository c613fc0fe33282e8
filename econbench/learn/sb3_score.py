"""Scores of an SB3 PPO policy folder under the card's protocol (``eval.json``), and its sampled play.

A view with an ``exact`` policy reports the optimality gap and normalized
regret; one without compares the score with the card's named policies on
common random numbers. Deterministic play is the folder itself (econbench
reads the policy folder, Box or discrete); :func:`checkpoint_profile` adds
sampled play for discrete views.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from econbench.backend import get_backend
from econbench.core import DiscreteSpec, Task
from econbench.metrics import evaluate, optimality_gap
from econbench.metrics.stats import bootstrap_ci
from econbench.registry import make_task

ACTIVATIONS: dict[str, type[torch.nn.Module]] = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


def learner_group(task: Task) -> Any:
    return task.group(task.role.group) if task.role else task.groups[0]


def is_discrete(task: Task) -> bool:
    return isinstance(learner_group(task).action, DiscreteSpec)


def checkpoint_profile(task: Task, folder: str | Path, deterministic: bool = True) -> str | dict[str, Any]:
    """A checkpoint as a policy spec for ``econbench.metrics``.

    Deterministic play: the folder itself (econbench reads the policy folder,
    Box or discrete). ``deterministic=False`` (discrete views) samples the
    actions as SB3 does in training, which econbench does not offer: the actor
    rebuilt in torch from the folder's tensors, one categorical draw per head,
    the learner's row from it and everyone else from the role's fixed policy
    (torch's global generator: seed it for repeatable scores).
    """
    if deterministic:
        return str(folder)
    if not is_discrete(task):
        raise ValueError("sampled actions: discrete views only")
    from econbench import policies

    pf = policies.load(folder)
    g = learner_group(task)
    spec = pf.spec.groups.get(g.name)
    if not isinstance(spec, policies.spec.NetworkGroup) or spec.network.type != "mlp":
        raise ValueError(f"{folder}: sampled play needs an MLP for group {g.name!r}")
    b = get_backend("numpy")
    modules: list[torch.nn.Module] = []
    for w, bias in policies.runtime.layers(pf, g.name):  # SB3's actor: Linear, activation, ..., Linear
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(w))
            linear.bias.copy_(torch.as_tensor(bias))
        modules += [linear, ACTIVATIONS[spec.network.activation]()]
    net = torch.nn.Sequential(*modules[:-1])
    normalize = policies.runtime.observation_normalizer(pf, g.name, spec.obs_norm, int(np.prod(g.observation.shape)), b)
    nvec = list(g.action.nvec)
    role = task.role
    if role is None:  # a one-agent task with discrete actions
        others: dict[str, Any] = {}
        agent = 0
    else:
        others = task.policy(role.others, b)
        agent = role.agent

    def learner(obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        x = normalize(np.asarray(obs[:, agent], dtype=np.float64))  # VecNormalize.normalize_obs, as exported
        with torch.no_grad():
            logits = net(torch.as_tensor(x.astype(np.float32)))
            if mask is not None:  # the task's masks bind whatever the trainer saw (as the policy runtime applies them)
                logits = logits.masked_fill(~torch.as_tensor(np.asarray(mask[:, agent], dtype=bool)), -torch.inf)
            heads = [torch.distributions.Categorical(logits=part).sample() for part in torch.split(logits, nvec, dim=1)]
        return torch.stack(heads, dim=1).numpy().astype(np.int64)

    def group_policy(obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        fixed = others.get(g.name)
        if fixed is None:
            base = np.zeros((*obs.shape[:2], *g.action.shape), np.int64)
        else:
            base = fixed(obs, mask) if mask is not None and getattr(fixed, "uses_mask", False) else fixed(obs)
        acts = np.array(base, dtype=np.int64, copy=True)
        acts[:, agent] = learner(obs, mask)
        return acts

    group_policy.uses_mask = g.masked  # type: ignore[attr-defined]
    return {**others, g.name: group_policy}


def score(task: Task, folder: Path, train_time: float) -> dict[str, Any]:
    """Score, optimality gap and normalized regret of the saved checkpoint on the card's protocol.

    A view without an ``exact`` policy has no optimality gap: the score is
    compared with each named policy's instead (``vs_named``: the mean paired
    difference, learned minus named, episode by episode on common random
    numbers, with a stratified bootstrap interval).
    """
    if "exact" not in task.policies:
        return score_without_optimum(task, folder, train_time)
    res = evaluate(task, str(folder))
    gap = optimality_gap(task, str(folder))
    proto = task.card["protocol"]
    return {
        "task_id": task.id,
        "policy": str(folder.name),
        "eval_seeds": list(proto["eval_seeds"]),
        "episodes_per_seed": int(proto["episodes_per_seed"]),
        "score": res.mean,
        "score_ci95": list(res.ci),
        "v_star": gap.v_star,
        "v_reference": gap.v_reference,
        "reference": gap.reference,
        "gap": gap.raw,
        "gap_ci95": list(gap.raw_ci),
        "normalized_regret": gap.normalized,
        "normalized_regret_ci95": list(gap.normalized_ci),
        "train_time_s": round(train_time, 2),
    }


def score_without_optimum(task: Task, folder: Path, train_time: float) -> dict[str, Any]:
    proto = task.card["protocol"]
    res = evaluate(task, checkpoint_profile(task, folder))
    learned = res.scores.ravel()
    strata = np.repeat(np.arange(res.scores.shape[0]), res.scores.shape[1])
    named = {name: evaluate(task, name) for name in sorted(task.policies)}
    vs: dict[str, Any] = {}
    for name, other in named.items():
        diff = learned - other.scores.ravel()
        vs[name] = {
            "score": other.mean,
            "score_ci95": list(other.ci),
            "difference": float(diff.mean()),
            "difference_ci95": list(bootstrap_ci(diff, strata)),
        }
    out = {
        "task_id": task.id,
        "policy": str(folder.name),
        "eval_seeds": list(proto["eval_seeds"]),
        "episodes_per_seed": int(proto["episodes_per_seed"]),
        "score": res.mean,
        "score_ci95": list(res.ci),
        "reference": proto["reference_policy"],
        "vs_named": vs,
        "train_time_s": round(train_time, 2),
    }
    if is_discrete(task):  # the policy as it acted in training: sampled, torch seeded for repeatability
        rng = torch.get_rng_state()
        torch.manual_seed(0)
        try:
            sampled = evaluate(task, checkpoint_profile(task, folder, deterministic=False))
        finally:
            torch.set_rng_state(rng)
        out["sampled"] = {"score": sampled.mean, "score_ci95": list(sampled.ci), "torch_seed": 0, "vs_named": {}}
        for name, other in named.items():
            diff = sampled.scores.ravel() - other.scores.ravel()
            out["sampled"]["vs_named"][name] = {
                "difference": float(diff.mean()),
                "difference_ci95": list(bootstrap_ci(diff, strata)),
            }
    return out


def print_result(r: dict[str, Any]) -> None:
    if "vs_named" in r:
        lo, hi = r["score_ci95"]
        print(f"score {r['score']:.6g} [{lo:.6g}, {hi:.6g}] (no exact optimum: paired differences, learned - named)")
        for name, v in r["vs_named"].items():
            print(
                f"  {name:>14}: {v['score']:.6g}; difference {v['difference']:+.4g} "
                f"[{v['difference_ci95'][0]:+.4g}, {v['difference_ci95'][1]:+.4g}]"
            )
        if "sampled" in r:
            sp = r["sampled"]
            print(
                f"sampled actions (torch seed 0): score {sp['score']:.6g} [{sp['score_ci95'][0]:.6g}, {sp['score_ci95'][1]:.6g}]"
            )
            for name, v in sp["vs_named"].items():
                print(
                    f"  {name:>14}: difference {v['difference']:+.4g} "
                    f"[{v['difference_ci95'][0]:+.4g}, {v['difference_ci95'][1]:+.4g}]"
                )
        print(f"training time {r['train_time_s']:.1f} s")
        return
    lo, hi = r["score_ci95"]
    print(
        f"score {r['score']:.6g} [{lo:.6g}, {hi:.6g}]  (V* {r['v_star']:.6g}, {r['reference']} {r['v_reference']:.6g})"
    )
    print(f"optimality gap {r['gap']:.4e} [{r['gap_ci95'][0]:.4e}, {r['gap_ci95'][1]:.4e}]")
    print(
        f"normalized regret {r['normalized_regret']:.4f} "
        f"[{r['normalized_regret_ci95'][0]:.4f}, {r['normalized_regret_ci95'][1]:.4f}]"
    )
    print(f"training time {r['train_time_s']:.1f} s")


def rescore(folder: str | Path) -> dict[str, Any]:
    """Evaluate a checkpoint folder again and rewrite its ``eval.json`` (training time kept from ``meta.json``)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    result = score(make_task(meta["task_id"]), folder, float(meta["train_time_s"]))
    (folder / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    print_result(result)
    return result
