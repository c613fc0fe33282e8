"""Shared-parameter PPO for econbench's multi-agent tasks: one actor-critic per agent group, from the command line.

The trainer is ``econbench.learn.shared_ppo`` (networks, rollout, update,
curriculum, checkpoints and policy export live in ``econbench.learn``); this
file reads the command line and starts it.

    python baselines/shared_ppo.py --task econbench/InvestmentOligopoly-v0 --seed 0

Writes ``<out>/<Task>/<run>/`` (``runs/`` of the current directory by default; the
shipped ``baselines/checkpoints/`` only with ``--ship``): ``policy.json`` and ``policy.safetensors``
(the deterministic profile as an econbench policy folder: what econbench
evaluates and verifies), ``checkpoint.pt`` (networks, optimisers,
normalisers, step; ``--resume`` and ``--init`` read it back with torch's
weights-only loader, which refuses pickled objects), ``curve.csv`` and
``eval.json`` (score and the task's equilibrium gap of the learned profile).

Per-task settings live in ``econbench/learn/hyperparams/shared_ppo.toml`` (the
defaults shown by ``--help`` are the task's); flags given on the command line
win. A task whose card declares a curriculum (RBC) trains on it: the card's
stages say which groups are updated when (the others still act), its annealed
parameters (action masks, labour disutility) are applied to the running
economies, and its entropy schedule replaces ``--ent-coef``. The whole schedule
is spread over ``--total-timesteps`` (``--curriculum-pace run``) or kept at the
source's pace (``source``). ``--track`` logs to Weights & Biases, offline when
no credentials are configured (``wandb sync`` uploads later).
"""

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import tyro

HERE = Path(__file__).resolve().parent
try:
    import econbench  # noqa: F401
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent))
from econbench.learn import shared_ppo
from econbench.learn.config import KEYED, SHARED_PPO_HYPERPARAMS, SharedPPOConfig, task_settings
from econbench.learn.outputs import DEFAULT_OUT

Pairs = tyro.conf.UseAppendAction[list[str]]  # repeatable: --param a=1 --param b=2


@dataclass
class Args:
    task: str = "econbench/InvestmentOligopoly-v0"
    seed: int = 0
    total_timesteps: int = 2_000_000  # env-steps (each moves every agent of every group)
    n_envs: int = 64  # parallel economies
    num_steps: int = 128  # rollout length per update
    learning_rate: float = 3e-4
    anneal_lr: bool = True  # decay the learning rate linearly to 0 over the run
    gae_lambda: float = 0.95
    update_epochs: int = 4
    num_minibatches: int = 8
    update_rows: int = 0  # > 0: each update uses a random subset of this many (step, env, agent) rows per group
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64  # width of the two hidden layers
    activation: str = "tanh"  # or "relu" (upstream RBC networks: 2 x 128 ReLU)
    log_std_init: float = -1.0  # initial log std of Gaussian (Box) actions
    lr_scale: Pairs = field(default_factory=list)  # GROUP=X: a group's learning-rate multiple
    log_std: Pairs = field(default_factory=list)  # GROUP=X: a group's initial log std, over --log-std-init
    init_bias: Pairs = field(
        default_factory=list
    )  # GROUP=[...]: a group's initial action-head bias (logits, or means in [-1, 1])
    param: Pairs = field(default_factory=list)  # KEY=VALUE (JSON): a task parameter override
    curriculum: str = "auto"  # the card's default curriculum when every group learns from scratch; a name; or "none"
    curriculum_pace: str = (
        "run"  # "run": the whole schedule over total_timesteps; "source": the card's env-steps per iteration
    )
    track: bool = False  # log to Weights & Biases (offline without credentials)
    wandb_project: str = "econbench"
    wandb_entity: str = ""
    hyperparams: str = str(SHARED_PPO_HYPERPARAMS)  # TOML file: [default] and one table per task
    learn: list[str] = field(default_factory=list)  # groups that learn; empty = all (others keep --fixed policies)
    fixed: str = "exact"  # the non-learning groups' policy: a named policy, or a run folder of this script
    fixed_sampled: bool = False  # a run folder's fixed groups sample their actions (as they trained) instead of argmax
    init: str = ""  # a run folder whose networks start the learning groups (a best response starts from them)
    out: str = str(DEFAULT_OUT)  # root folder; the run goes to OUT/<TaskName>/<run-name>/
    ship: bool = False  # allow --out inside baselines/checkpoints/: replace the shipped runs
    run_name: str = ""  # default shared_ppo_seed<seed>
    resume: bool = False  # continue the run in OUT/<TaskName>/<run-name>/ from its checkpoint
    eval_episodes: int | None = None  # default: the card's protocol
    skip_eval: bool = False  # no final evaluation (a best-response run is scored by its caller)
    deviate: int = -1  # >= 0: only this agent of the (single) learning group learns; its peers keep --fixed's policy
    threads: int = 1  # torch CPU threads
    device: str = "cpu"  # the networks' device ("cuda" on a GPU)
    backend: str = "numpy"  # the economies' array backend: "torch" keeps them on --device too
    decision_credit: bool = False  # credit an action only with the rewards until the agent's next decision
    critic_warmup: int = 0  # env-steps during which only the critics learn
    shared_draws: int = 1  # groups of this many economies share their shocks; advantages relative to the group's


PAIRS = {"lr_scale": "lr_scale", "log_std": "log_std", "init_bias": "init_bias", "param": "params"}  # CLI -> config


def parse_args(argv: Sequence[str] | None = None) -> SharedPPOConfig:
    """Dataclass defaults, then the task's table in ``--hyperparams``, then the flags actually given.

    The command line is read twice: once for the task and the file, then with the
    task's settings as the defaults, so any flag given (``--anneal-lr`` too) wins.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    first = tyro.cli(Args, args=[a for a in argv if a not in ("-h", "--help")])
    table = task_settings(Path(first.hyperparams), first.task)
    names = {f.name for f in fields(Args)} - set(PAIRS)
    defaults = replace(
        Args(),
        task=first.task,
        hyperparams=first.hyperparams,
        **{k: v for k, v in table.items() if k in names and k not in KEYED},
    )
    args = tyro.cli(Args, args=argv, default=defaults, description=__doc__)

    given = {k: getattr(args, k) for k in names if k not in ("task", "hyperparams")}
    for name, key in PAIRS.items():
        given[key] = {}
        for pair in getattr(args, name):
            k, sep, v = pair.partition("=")
            if not sep:
                raise SystemExit(f"--{name.replace('_', '-')} expects KEY=VALUE, got {pair!r}")
            given[key][k] = json.loads(v)
    return SharedPPOConfig.for_task(args.task, args.hyperparams, **given)


def main(argv: Sequence[str] | None = None) -> Path:
    return shared_ppo.train(parse_args(argv))


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
