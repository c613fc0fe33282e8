"""Training runs' settings: the typed configurations and the packaged hyperparameter files they are read from.

Shared PPO (:class:`SharedPPOConfig`) reads ``hyperparams/shared_ppo.toml`` in three
layers, later ones win: the dataclass defaults, the task's table in the
hyperparameter file (``[default]``, then the task's own table, which may start
from another with ``like = "<table>"``), then what the caller gives (the
command line's flags, or keyword arguments). Per-group and per-parameter
settings (``lr_scale``, ``log_std``, ``init_bias``, ``params``) merge key by key.
SB3 PPO (:class:`SB3PPOConfig`) reads ``hyperparams/ppo.toml`` (:func:`sb3_hyperparams`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from econbench.learn.outputs import DEFAULT_OUT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HYPERPARAMS = Path(__file__).resolve().parent / "hyperparams"  # the packaged hyperparameter files
SHARED_PPO_HYPERPARAMS = HYPERPARAMS / "shared_ppo.toml"
KEYED = ("lr_scale", "log_std", "init_bias", "params")  # settings that are dicts, merged key by key


@dataclass
class SharedPPOConfig:
    """Everything a shared-parameter PPO run depends on (also what its ``checkpoint.pt`` records as ``args``)."""

    task: str = "econbench/InvestmentOligopoly-v0"
    seed: int = 0
    total_timesteps: int = 2_000_000  # env-steps (each moves every agent of every group)
    n_envs: int = 64
    num_steps: int = 128  # rollout length per update
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gae_lambda: float = 0.95
    update_epochs: int = 4
    num_minibatches: int = 8
    update_rows: int = 0  # > 0: each update uses a random subset of this many (step, env, agent) rows per group
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    activation: str = "tanh"  # or "relu" (upstream RBC networks: 2 x 128 ReLU)
    log_std_init: float = -1.0
    lr_scale: dict[str, float] = field(default_factory=dict)  # per-group learning-rate multiple
    log_std: dict[str, float] = field(default_factory=dict)  # per-group initial log std, over log_std_init
    curriculum: str = "auto"  # the card's default curriculum when every group learns from scratch; a name; or "none"
    curriculum_pace: str = (
        "run"  # "run": the whole schedule over total_timesteps; "source": the card's env-steps per iteration
    )
    track: bool = False  # log to Weights & Biases (offline without credentials)
    wandb_project: str = "econbench"
    wandb_entity: str = ""
    hyperparams: str = str(SHARED_PPO_HYPERPARAMS)
    learn: list[str] = field(default_factory=list)  # groups that learn; empty = all (others keep the fixed policies)
    fixed: str = "exact"  # the non-learning groups' policy: a named policy, or a run folder of shared PPO
    fixed_sampled: bool = False  # a run folder's fixed groups sample their actions (as they trained) instead of argmax
    init: str = ""  # a run folder whose networks start the learning groups (a best response starts from them)
    out: str = str(DEFAULT_OUT)  # the run goes to OUT/<TaskName>/<run_name>/
    ship: bool = False  # allow OUT inside baselines/checkpoints/ (the shipped runs; see econbench.learn.outputs)
    run_name: str = ""
    resume: bool = False
    checkpoint_every_s: float = 30.0  # write checkpoint.pt and the policy folder at most this often (and at the end)
    eval_episodes: int | None = None  # default: the card's protocol
    skip_eval: bool = False  # no final evaluation (a best-response run is scored by its caller)
    deviate: int = -1  # >= 0: only this agent of the (single) learning group learns; its peers keep the fixed policy
    threads: int = 1
    device: str = "cpu"  # the networks' device ("cuda" on a GPU)
    backend: str = "numpy"  # the economies' array backend: "torch" keeps them on the device too
    params: dict[str, Any] = field(default_factory=dict)  # task parameter overrides
    # Credit an action only with the rewards until the agent's next decision (a step where its mask allows more
    # than one action). For agents that are slots hosting a sequence of one-decision requests (EVCharging-Steady-v0,
    # -Batch-v0): each request then learns from its own costs. Off: credit runs over the agent's whole episode.
    decision_credit: bool = False
    # A group's initial action-head bias: logits over sum(nvec) for discrete groups, the mean in [-1, 1] units for
    # continuous ones (the head's weights start near 0, so the bias is the initial policy).
    init_bias: dict[str, list[float]] = field(default_factory=dict)
    # Env-steps during which only the critics learn (the actors' losses are dropped). A policy that starts near a
    # good rule (init_bias) is otherwise moved by advantages from an untrained critic: in CapitalGoods, saving
    # costs consumption now and its worth is in V(K'), which a fresh critic does not see yet.
    critic_warmup: int = 0
    # Common random numbers: economies in consecutive groups of this many share their initial states and shocks
    # (BatchedEnv's shared_draws), and each agent's advantage is taken relative to the mean of the same agent's
    # advantages in the group's other economies at the same step. What the shocks did to a return is then common to
    # the group and cancels, leaving what the agents' own draws did; the baseline never depends on the agent's own
    # action, so the gradient stays unbiased. For a learning signal far below the shocks' noise. 1: off.
    shared_draws: int = 1

    @classmethod
    def for_task(cls, task: str | None = None, hyperparams: str | Path | None = None, **given: Any) -> SharedPPOConfig:
        """Defaults, then the task's table in ``hyperparams`` (default: the packaged file), then ``given``."""
        task = task or cls.task
        path = Path(hyperparams) if hyperparams is not None else SHARED_PPO_HYPERPARAMS
        settings = task_settings(path, task)
        for key, value in given.items():
            if key in KEYED:
                settings[key] = {**settings.get(key, {}), **value}
            else:
                settings[key] = value
        settings["task"], settings["hyperparams"] = task, str(path)
        unknown = set(settings) - {f.name for f in fields(cls)}
        if unknown:
            raise SystemExit(f"unknown setting(s) {sorted(unknown)} (from the command line or the hyperparameter file)")
        return cls(**settings)


def task_settings(path: Path, task_id: str) -> dict[str, Any]:
    """``[default]`` then the task's table (full or short ID) of a shared-PPO hyperparameter file; {} if missing."""
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        tables = tomllib.load(f)
    short = task_id.split(":")[-1].split("/")[-1]
    out: dict[str, Any] = dict(tables.get("default", {}))

    def merge(key: str, seen: tuple[str, ...] = ()) -> None:
        table = tables.get(key, {})
        if "like" in table and table["like"] not in seen:
            merge(table["like"], (*seen, key))
        for k, v in table.items():
            if k != "like":
                out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) else v

    for key in (short, f"econbench/{short}"):
        merge(key)
    return out


SB3_PPO_HYPERPARAMS = HYPERPARAMS / "ppo.toml"


@dataclass
class SB3PPOConfig:
    """An SB3 PPO run on a single-agent view; ``None`` means "take it from the hyperparameter file"."""

    task: str = "econbench/InvestmentLQ-Planner-v0"
    seed: int = 0
    total_timesteps: int | None = None
    n_envs: int | None = None
    hyperparams: Path = SB3_PPO_HYPERPARAMS
    hp: list[str] = field(default_factory=list)  # extra overrides, KEY=TOML_VALUE, e.g. n_steps=64
    out: Path = DEFAULT_OUT  # the run goes to OUT/<TaskName>/<run_name>/
    ship: bool = False  # allow OUT inside baselines/checkpoints/ (the shipped runs; see econbench.learn.outputs)
    run_name: str | None = None  # default ppo_seed<seed>
    eval_freq: int = 0  # timesteps between intermediate gap evaluations (0: only at the end)
    no_eval: bool = False
    threads: int = 1  # torch CPU threads; small MLPs run fastest on one
    verbose: int = 0  # 0: tqdm bar, 1: SB3's own tables as well
    track: bool = False  # log to Weights & Biases (offline without credentials)
    wandb_project: str = "econbench"


def sb3_hyperparams(path: str | Path, task_id: str, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """``[default]`` updated by the task's table (full or short ID) of an SB3 hyperparameter file, then by the
    ``KEY=VALUE`` overrides (VALUE in TOML syntax, or a bare word).

    ``policy_kwargs`` and ``normalize`` merge key by key so a task table only
    names what differs. ``gamma`` is refused: it is the task's discount.
    """
    with Path(path).open("rb") as f:
        tables = tomllib.load(f)
    short = task_id.split("/")[-1]
    task_tables = [t for key, t in tables.items() if key in (task_id, short)]
    if not task_tables:
        print(f"note: {path} has no table for {task_id}; using [default] only", file=sys.stderr)
    layers = [tables.get("default", {}), *task_tables]
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--hp expects KEY=VALUE, got {item!r}")
        try:
            layers.append(tomllib.loads(f"{key.strip()} = {value.strip()}"))
        except tomllib.TOMLDecodeError:  # a bare word: --hp lr_schedule=linear
            layers.append(tomllib.loads(f"{key.strip()} = {json.dumps(value.strip())}"))
    hp: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(hp.get(key), dict):
                hp[key] = {**hp[key], **value}
            else:
                hp[key] = value
    if "gamma" in hp:
        raise ValueError("gamma is the task's discount and may not be set in the hyperparameter file")
    return hp
