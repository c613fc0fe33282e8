"""Run folders of shared-parameter PPO: the checkpoint read back as data, the policy folder written beside it, and
the profiles (learned and fixed groups) that econbench's metrics play.

A run folder holds ``checkpoint.pt`` (networks, optimisers, normalisers, step and the run's settings; read with
torch's weights-only loader, which refuses pickled objects), ``policy.json`` and ``policy.safetensors`` (the
deterministic profile as an econbench policy folder), ``curve.csv`` and, when scored, ``eval.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from econbench.backend import get_backend
from econbench.core import Task
from econbench.learn.config import SharedPPOConfig
from econbench.learn.networks import GroupAgent, as_tensor, to_env_action
from econbench.registry import make_task

ROOT = Path(__file__).resolve().parents[2]  # the source checkout (paths recorded in checkpoints are relative to it)
TRAINER = "econbench.learn.shared_ppo"


def read_checkpoint(run: str | Path) -> dict[str, Any]:
    """A run's ``checkpoint.pt`` read as data: torch's weights-only loader admits tensors and plain containers,
    so a file that carries pickled objects is refused instead of run."""
    path = Path(run) / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{run}: no checkpoint.pt (not a run folder of shared PPO)")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        from econbench.policies import PolicyFileError

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise PolicyFileError(f"{path}: refused, not a checkpoint of tensors and settings only ({first})") from None


def export_policy(
    run: Path,
    task: Task,
    agents: dict[str, GroupAgent],
    args: SharedPPOConfig,
    step: int,
    fixed: tuple[dict[str, Any], dict[str, np.ndarray]],
) -> Path:
    """The run's deterministic profile as an econbench policy folder (``policy.json``, ``policy.safetensors``):
    the file econbench evaluates, verifies and shares; ``checkpoint.pt`` stays the trainer's own (resume, --init).
    ``fixed`` holds the groups that did not learn (:func:`fixed_groups`).
    """
    from econbench import policies

    groups, arrays = dict(fixed[0]), dict(fixed[1])
    for k, agent in agents.items():
        sd = agent.state_dict()
        action = policies.DiscreteAction(output="logits", masked=True) if agent.discrete else policies.BoxAction()
        norm = policies.ObsNorm(eps=1e-8, clip=10.0, dtype="float32", op="multiply")  # RunningNorm.normalize
        groups[k], a = policies.mlp_group(
            k,
            [(sd[f"actor.{i}.weight"], sd[f"actor.{i}.bias"]) for i in (0, 2, 4)],
            args.activation,
            action,
            sd["obs_norm.mean"],
            sd["obs_norm.var"],
            norm,
            "float32",
            sd.get("log_std"),
        )
        arrays.update(a)
    provenance = {
        "trainer": TRAINER,
        "run": run.name,
        "seed": args.seed,
        "timesteps": step,
        "learn": sorted(agents),
        "fixed": portable(args)["fixed"] if fixed[0] else None,
        "deviate": args.deviate if args.deviate >= 0 else None,
    }
    return policies.write_policy(run, task.id, groups, arrays, params=args.params, provenance=provenance)


def fixed_groups(
    task: Task, args: SharedPPOConfig, learn: Sequence[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The policy-file groups (and tensors) of the groups that do not learn: the run's ``--fixed`` named policy,
    or the networks of the run folder it names, copied in so the profile is whole."""
    rest = [g.name for g in task.groups if g.name not in learn]
    source = run_folder(args.fixed)
    if not rest or source is None:
        return {k: args.fixed for k in rest}, {}
    from econbench import policies

    fixed = policies.load(source)
    return (
        {k: fixed.spec.groups[k] for k in rest},
        {n: v for n, v in fixed.arrays.items() if n.split("/", 1)[0] in rest},
    )


def run_folder(spec: str) -> Path | None:
    """A folder named by ``--fixed``/``--init``-style settings, as given or relative to the repository (how
    checkpoints record it); None for a named policy."""
    return next((d for d in (Path(spec), ROOT / spec) if spec and d.is_dir()), None)


def run_params(run: str | Path) -> dict[str, Any]:
    """The task-parameter overrides a run trained with (``--param``), so that work on the run uses its task."""
    return dict(read_checkpoint(run)["args"].get("params", {}))


def load_profile(run: str | Path, deterministic: bool = True) -> tuple[Task, dict[str, Any]]:
    """A trained run's profile, for ``econbench`` metrics (fixed groups as trained; see :func:`learned_profile`)."""
    ck = read_checkpoint(run)
    args = SharedPPOConfig(**ck["args"])
    task = make_task(ck["task_id"], **args.params)
    agents = {}
    for k, state in ck["agents"].items():
        agents[k] = GroupAgent(task.group(k), args.hidden, args.log_std_init, args.activation)
        agents[k].load_state_dict(state)
    return task, {
        **fixed_policies(task, args.fixed, list(agents), deterministic),
        **learned_profile(task, agents, deterministic),
    }


def fixed_policies(task: Task, spec: str, learn: Sequence[str], deterministic: bool = True) -> dict[str, Any]:
    """Policies of the groups that do not learn (see :func:`profile_of`)."""
    if len(learn) == len(task.groups):
        return {}
    profile = profile_of(task, spec, deterministic)
    missing = [g.name for g in task.groups if g.name not in learn and g.name not in profile]
    if missing:
        raise SystemExit(f"{spec} has no policy for the fixed group(s) {missing}")
    return {g: f for g, f in profile.items() if g not in learn}


def profile_of(task: Task, spec: str, deterministic: bool = True) -> dict[str, Any]:
    """A named policy, or a run folder of this script (acting by argmax, or sampling with ``deterministic=False``,
    from its ``checkpoint.pt``), or any econbench policy folder (argmax). A folder may be given as is or
    relative to the repository (how checkpoints record it)."""
    run = run_folder(spec)
    if run is None:
        return task.policy(spec)
    if (run / "checkpoint.pt").is_file():
        return load_profile(run, deterministic)[1]
    if not deterministic:
        raise SystemExit(f"{spec}: sampled play needs the run's checkpoint.pt (a policy folder acts by argmax)")
    from econbench.metrics.evaluate import load_policy_folder

    try:
        return load_policy_folder(run, task, get_backend("numpy"))[1]
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def learned_profile(task: Task, agents: dict[str, GroupAgent], deterministic: bool = True) -> dict[str, Any]:
    """Group policies on NumPy observations, for econbench's metrics.

    Deterministic (mean / argmax of each head) is how econbench scores a
    trained policy; ``deterministic=False`` samples as the policy did in
    training (torch's global generator: seed it for repeatable scores), which
    is what upstream's RBC analysis reports: with several heads the product of
    each head's most likely choice can behave unlike the policy itself.
    """

    def make(name: str) -> Any:
        g, agent = task.group(name), agents[name]

        def policy(obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
            with torch.no_grad():
                device = agent.obs_norm.mean.device
                x = agent.obs_norm.normalize(as_tensor(obs, device).reshape(*obs.shape[:2], -1))
                m = None if mask is None else as_tensor(mask, device)
                a, _, _ = agent.act(x, m, deterministic=deterministic)
            return to_env_action(g, a)

        policy.uses_mask = g.masked  # type: ignore[attr-defined]
        return policy

    return {name: make(name) for name in agents}


def portable(args: SharedPPOConfig) -> dict[str, Any]:
    """The run's settings for its checkpoint, with paths inside the repository made relative to it.

    Checkpoints shipped in the repository must not carry the training
    machine's absolute paths; a path elsewhere stays as given (that run is
    local and may point at it).
    """
    root = ROOT.resolve()
    out = asdict(args)
    for key in ("out", "hyperparams", "init", "fixed"):
        value = out[key]
        if value and Path(value).is_absolute() and Path(value).resolve().is_relative_to(root):
            out[key] = str(Path(value).resolve().relative_to(root))
    return out


def evaluate_run(
    task: Task, agents: dict[str, GroupAgent], fixed: dict[str, Any], train_time: float, args: SharedPPOConfig
) -> dict[str, Any]:
    """Score and equilibrium gap of the learned profile (deterministic) under the card's protocol."""
    from econbench.metrics import equilibrium_gap, evaluate

    profile = {**fixed, **learned_profile(task, agents)}
    res = evaluate(task, profile, episodes=args.eval_episodes)
    out: dict[str, Any] = {
        "task_id": task.id,
        "score": res.mean,
        "score_ci95": list(res.ci),
        "train_time_s": round(train_time, 2),
        "timesteps": args.total_timesteps,
    }
    if task.equilibrium_gap is not None:
        gaps = equilibrium_gap(task, profile, episodes=args.eval_episodes)
        out["equilibrium_gap"] = [
            {
                "group": g.group,
                "method": g.method,
                "epsilon": g.epsilon,
                "relative": g.relative if np.isfinite(g.relative) else None,  # strict JSON
                "epsilon_ci95": list(g.epsilon_ci),
            }
            for g in gaps
        ]
    if "exact" in task.policies:
        ref = evaluate(task, "exact", episodes=args.eval_episodes)
        out["exact_score"] = ref.mean
        # where play settles: each group's mean own state (output, capacity) at the horizon, learned vs exact
        from econbench.metrics.evaluate import rollout

        seed = int(task.card["protocol"]["eval_seeds"][0])
        n = args.eval_episodes or int(task.card["protocol"]["episodes_per_seed"])
        learned, exact = (rollout(task, prof, n, seed, record=True) for prof in (profile, task.policy("exact")))
        out["final_state"] = {
            g.name: {
                "learned": float(learned.obs[g.name][-1, ..., 0].mean()),
                "exact": float(exact.obs[g.name][-1, ..., 0].mean()),
            }
            for g in task.groups
        }
    return out
