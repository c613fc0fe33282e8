"""``python -m econbench.learn.rl_zoo``: where RL Zoo's hyperparameter file is, or a fresh copy of it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from econbench.learn.rl_zoo.hyperparams import PPO_FILE, ppo_yaml


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m econbench.learn.rl_zoo",
        description="Print the path of the shipped RL Zoo PPO hyperparameter file (for rl_zoo3.train --conf-file), "
        "or write the file generated from the task cards and hyperparams/ppo.toml.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, help="write the generated file here (a .yml path: RL Zoo reads .yml)")
    where.add_argument("--update", action="store_true", help="regenerate the shipped file (after editing a card)")
    args = parser.parse_args(argv)
    if args.out is not None and args.out.suffix not in (".yml", ".yaml"):
        parser.error(f"--out {args.out}: RL Zoo reads hyperparameter files ending in .yml or .yaml")
    if args.out is None and not args.update:
        print(PPO_FILE)
        return
    target = PPO_FILE if args.update else args.out
    target.write_text(ppo_yaml())
    print(target)


if __name__ == "__main__":
    main()
