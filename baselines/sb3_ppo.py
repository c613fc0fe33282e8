"""PPO reference baseline for econbench's single-agent tasks (Stable-Baselines3), from the command line.

Arguments -> hyperparameters -> environment -> training -> policy folder ->
evaluation under the card's protocol; the steps live in ``econbench.learn.sb3``
(what ``econbench bench`` full mode trains with) and the scores in
``econbench.learn.sb3_score``. The point is a reproducible reference number
that a new method has to beat (lightly tuned, see baselines/README.md), so
everything a reader needs to judge it is written next to the checkpoint
(``meta.json``, ``eval.json``).

    python baselines/sb3_ppo.py --task econbench/InvestmentLQ-Planner-v0 --seed 0   # -> runs/<Task>/ppo_seed0/

Hyperparameters: ``econbench/learn/hyperparams/ppo.toml`` (a ``[default]``
table and one per task ID), then ``--hp KEY=VALUE``; ``--total-timesteps``
and ``--n-envs`` win over both. The run folder is an econbench policy folder
(``policy.json`` and ``policy.safetensors``; no pickle is written or read)
with ``meta.json``, ``curve.csv`` (the undiscounted and the discounted, scored,
episode return as training went) and ``eval.json`` beside it; it goes to
``runs/`` of the current directory unless ``--out`` says otherwise, and into the
shipped ``baselines/checkpoints/`` only with ``--ship``. A view without
an ``exact`` policy has no optimality gap: its ``eval.json`` compares the
score with the card's named policies on common random numbers.
"""

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

import tyro

HERE = Path(__file__).resolve().parent
try:
    import econbench  # noqa: F401
except ModuleNotFoundError:  # a source checkout without `pip install -e .`: use the package next to us
    sys.path.insert(0, str(HERE.parent))
from econbench.learn import sb3
from econbench.learn.config import SB3_PPO_HYPERPARAMS, SB3PPOConfig
from econbench.learn.outputs import DEFAULT_OUT
from econbench.learn.sb3_score import rescore


@dataclass
class Args:
    task: str = "econbench/InvestmentLQ-Planner-v0"  # task ID (a -Planner- or role ID)
    seed: int = 0
    total_timesteps: int | None = None  # default: the hyperparameter file's
    n_envs: int | None = None  # parallel economies; default: the hyperparameter file's
    hyperparams: Path = SB3_PPO_HYPERPARAMS  # TOML file with a [default] table and one table per task ID
    hp: tyro.conf.UseAppendAction[list[str]] = field(default_factory=list)
    """KEY=VALUE: override one hyperparameter, VALUE in TOML syntax, e.g. --hp learning_rate=1e-3"""
    out: Path = DEFAULT_OUT  # root folder; the run goes to OUT/<TaskName>/<run-name>/
    ship: bool = False  # allow --out inside baselines/checkpoints/: replace the shipped runs
    run_name: str | None = None  # default: ppo_seed<seed>
    eval_freq: int = 0  # every this many timesteps, print the normalized regret on the card's protocol (0: off)
    no_eval: bool = False  # skip the final evaluation (no eval.json)
    threads: int = 1  # torch CPU threads; small MLPs run fastest on one
    verbose: Literal[0, 1, 2] = 0  # 0: tqdm bar, 1: SB3's own tables as well
    track: bool = False  # log to Weights & Biases (offline without credentials; no-op if wandb is missing)
    wandb_project: str = "econbench"
    rescore: Path | None = None  # only evaluate this checkpoint folder again and rewrite its eval.json


def main(argv: Sequence[str] | None = None) -> Path:
    args = tyro.cli(Args, args=argv, description=__doc__)
    if args.rescore is not None:
        rescore(args.rescore)
        return Path(args.rescore)
    return sb3.train(SB3PPOConfig(**{f.name: getattr(args, f.name) for f in fields(SB3PPOConfig)}))


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
