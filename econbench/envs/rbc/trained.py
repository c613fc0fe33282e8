"""Learned RBC profiles shipped with econbench: policy folders (:mod:`econbench.policies`), no torch needed.

The government's view (RBCTax-Government-v0) is most interesting against
consumers and firms that behave like learned agents rather than fixed rules.
``baselines/rbc_reproduce.py`` trains the whole economy with shared PPO and
exports each group's actor here (``trained/<name>/``): observation
normaliser, three linear layers, activation and action heads, evaluated in
float64. Each folder becomes a named policy of the RBC tasks, acting
deterministically (the most likely allowed choice of every head), as
econbench scores every trained policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from econbench import policies
from econbench.backend import Backend
from econbench.core import GroupPolicy, PolicyFactory, Task

TRAINED_DIR = Path(__file__).parent / "trained"
GROUPS = ("consumers", "firms", "government")
N_LAYERS = 3


def export(
    folder: str | Path,
    actors: Mapping[str, Mapping[str, np.ndarray]],
    meta: Mapping[str, Any],
    task_id: str = "econbench/RBCTax-v0",
) -> Path:
    """Write a profile: per group ``obs_mean``, ``obs_var``, ``w0..w2``, ``b0..b2`` (stored as float32).

    ``meta`` must give ``activation``; it should say where the weights come
    from (run, seed, budget), and is kept as the folder's provenance.
    """
    missing = [g for g in GROUPS if g not in actors]
    if missing or meta.get("activation") not in ("relu", "tanh"):
        raise ValueError(f"export needs actors for {list(GROUPS)} and activation relu/tanh; missing {missing}")
    groups, arrays = {}, {}
    norm = policies.ObsNorm(eps=1e-8, clip=10.0, dtype="float64", op="multiply")
    for g in GROUPS:
        layers = actors[g]
        linear = [
            (np.asarray(layers[f"w{i}"], np.float32), np.asarray(layers[f"b{i}"], np.float32)) for i in range(N_LAYERS)
        ]
        groups[g], a = policies.mlp_group(
            g,
            linear,
            str(meta["activation"]),
            policies.DiscreteAction(),
            np.asarray(layers["obs_mean"], np.float32),
            np.asarray(layers["obs_var"], np.float32),
            norm,
            "float64",
        )
        arrays.update(a)
    provenance = {k: v for k, v in meta.items() if k != "nvec"}
    return policies.write_policy(folder, task_id, groups, arrays, provenance=provenance)


def _profile(folder: Path, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    from econbench.envs.rbc.dynamics import firm_action_mask, government_action_mask

    profile = policies.group_policies(policies.load(folder), task, backend, any_task=True)
    allowed = {"firms": firm_action_mask(task.params), "government": government_action_mask(task.params)}
    return {g: _masked(pol, allowed.get(g), backend) for g, pol in profile.items()}


def profile_factory(folder: Path) -> PolicyFactory:
    """A named policy of every RBC task (the family shares its groups and spaces, not only RBCTax-v0).

    Called without masks, a group keeps to the task's curriculum masks (the
    same in every economy), as the fixed rules do: a network trained on the
    full grid then picks its best choice inside them.
    """
    return partial(_profile, folder)


class FixedMask:
    """A group policy that, called without masks, acts within ``allowed`` (the same row for every agent)."""

    uses_mask = True

    def __init__(self, policy: GroupPolicy, allowed: np.ndarray, backend: Backend) -> None:
        self.policy, self.backend, self.fixed = policy, backend, backend.asarray(allowed)

    def __call__(self, obs: Any, mask: Any = None) -> Any:
        fixed = self.fixed
        return self.policy(
            obs, self.backend.xp.broadcast_to(fixed, (*obs.shape[:2], fixed.shape[0])) if mask is None else mask
        )


def _masked(policy: GroupPolicy, allowed: np.ndarray | None, backend: Backend) -> GroupPolicy:
    return policy if allowed is None else FixedMask(policy, allowed, backend)


def _shipped(name: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return _profile(TRAINED_DIR / name, task, backend)


def shipped() -> dict[str, PolicyFactory]:
    """Every shipped profile, by folder name (kept as the name: a pickled task finds the folder where it is loaded)."""
    return {p.parent.name: partial(_shipped, p.parent.name) for p in sorted(TRAINED_DIR.glob("*/policy.json"))}
