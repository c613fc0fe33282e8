"""The reference entries: what the main job (``econbench bench``) measures for each task, in either mode.

The leaderboard reserves these (method, policy) names and the reference author for the main job, and
re-measures them when rebuilding; the main job plans its run from the same list.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from econbench.leaderboard.results import task_ref
from econbench.leaderboard.schema import entry_key
from econbench.registry import make_task, task_ids

REPO = Path(__file__).resolve().parent.parent.parent
AUTHORS = ["econbench reference baselines"]
FULL_MODE_EXPECTED = "about 35 minutes on 2 CPU cores in-process (SB3 PPO trains 3 seeds on every card that declares a budget: the planner views took 13 min 20 s, the operator view about 17 more); --executor ray spreads the jobs over a cluster"


@dataclass(frozen=True)
class Job:
    """One entry to produce: evaluate a named policy or checkpoint, or train PPO first."""

    task_id: str
    method: str
    policy: str  # a named policy, or the checkpoint folder to evaluate (and to train into, for kind "train")
    label: str  # the policy as the entry names it
    kind: str = "evaluate"  # or "train"
    seed: int | None = None
    total_timesteps: int | None = None

    def key(self, backend: str) -> str:
        task = make_task(self.task_id)
        ref, proto = task_ref(task), task.card["protocol"]
        return entry_key(
            task.id,
            ref.fingerprint,
            self.method,
            self.label,
            list(proto["eval_seeds"]),
            int(proto["episodes_per_seed"]),
            backend,
        )


def checkpoint_dirs(task_name: str) -> list[Path]:
    """SB3 baselines shipped in ``baselines/checkpoints/<Task>/<run>/`` of a source checkout (policy folders
    with the training script's ``meta.json``)."""
    root = REPO / "baselines" / "checkpoints" / task_name
    return sorted(p for p in root.glob("*") if is_sb3_run(p)) if root.is_dir() else []


def is_sb3_run(folder: Path) -> bool:
    return (folder / "policy.json").is_file() and (folder / "meta.json").is_file()


SHIPPED_PREFIX = "shared_ppo"  # named policies that are learned profiles a task package ships as data


def plan(tasks: Sequence[str] | None = None, quick: bool = True, runs_dir: Path | None = None) -> list[Job]:
    """The jobs of a run, in a stable order; full mode trains into ``runs_dir/<Task>/ppo_seed<k>``."""
    if runs_dir is None:  # the default store's output folder: never the checkout
        from econbench.leaderboard.publish import default_output, runs_folder
        from econbench.leaderboard.store import default_store_path

        runs_dir = runs_folder(default_output(default_store_path()))
    jobs: list[Job] = []
    for task_id in tasks or task_ids():
        task = make_task(task_id)
        reference = task.card["protocol"]["reference_policy"]
        if "exact" in task.policies:
            jobs.append(Job(task.id, "exact solution", "exact", "exact"))
        for name in sorted(p for p in task.policies if p != "exact"):
            kind = "reference policy" if name == reference else "fixed policy"
            if name.startswith(SHIPPED_PREFIX):
                kind = "shared-parameter PPO (shipped profile)"
            jobs.append(Job(task.id, f"{kind}: {name}", name, name))
        budget = task.card.get("baselines", {}).get("sb3_ppo")
        if budget is None:
            continue
        if quick:
            jobs += [Job(task.id, "SB3 PPO (shipped checkpoint)", str(p), p.name) for p in checkpoint_dirs(task.name)]
        else:
            for seed in budget["seeds"]:
                folder = runs_dir / task.name / f"ppo_seed{seed}"
                jobs.append(
                    Job(
                        task.id,
                        "SB3 PPO",
                        str(folder),
                        f"ppo_seed{seed}",
                        "train",
                        seed,
                        int(budget["total_timesteps"]),
                    )
                )
    return jobs


@functools.cache
def reference_names(task_id: str) -> frozenset[tuple[str, str]]:
    """(method, policy) of every entry the main job measures for a task, in either mode: names nobody else may use."""
    return frozenset((j.method, j.label) for quick in (True, False) for j in plan([task_id], quick))
