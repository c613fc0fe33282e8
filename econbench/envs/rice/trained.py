"""Learned RICE-N profiles shipped with econbench: policy folders (:mod:`econbench.policies`), no torch needed.

``baselines/rice.py`` trains every region with shared-parameter PPO on each
protocol and exports the run's actor here (``trained/<protocol>/<name>/``):
observation normaliser, three linear layers and the masked action heads,
evaluated in float64 as RBC's shipped profiles are. Each folder becomes a named
policy of the RICE tasks of that protocol (the whole game and its region view,
where the other regions can follow it), acting deterministically (the most
likely allowed choice of every head), as econbench scores every trained policy.
A network only fits the protocol it trained on: the heads and observations differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from econbench import policies
from econbench.backend import Backend
from econbench.core import GroupPolicy, PolicyFactory, Task
from econbench.policies.spec import NetworkGroup

TRAINED_DIR = Path(__file__).parent / "trained"
GROUP = "regions"


def export(folder: str | Path, run: str | Path, meta: Mapping[str, Any]) -> Path:
    """Write the regions' network of a trained run's policy folder (``policy.json``, ``policy.safetensors``) into
    ``folder``, evaluated in float64; ``meta`` (where the weights come from: run, seed, budget) is its provenance."""
    pf = policies.load(run)
    net = pf.spec.groups.get(GROUP)
    if set(pf.spec.groups) != {GROUP} or not isinstance(net, NetworkGroup):
        raise ValueError(f"{run}: expected one network for {GROUP!r}, got groups {sorted(pf.spec.groups)}")
    group = net.model_copy(
        update={
            "network": net.network.model_copy(update={"dtype": "float64"}),
            "obs_norm": net.obs_norm.model_copy(update={"dtype": "float64"}) if net.obs_norm else None,
        }
    )
    return policies.write_policy(
        folder, pf.spec.task_id, {GROUP: group}, pf.arrays, params=pf.spec.params, provenance=dict(meta)
    )


def _profile(folder: Path, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return policies.group_policies(policies.load(folder), task, backend, any_task=True)


def profile_factory(folder: str | Path) -> PolicyFactory:
    """A profile folder as a named policy of every RICE task with its protocol (the whole game and its region view)."""
    return partial(_profile, Path(folder))


def _shipped(protocol: str, name: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return _profile(TRAINED_DIR / protocol / name, task, backend)


def shipped(protocol: str) -> dict[str, PolicyFactory]:
    """The profiles shipped for a protocol, by folder name (kept as the name: a pickled task finds the folder where
    it is loaded)."""
    return {
        p.parent.name: partial(_shipped, protocol, p.parent.name)
        for p in sorted((TRAINED_DIR / protocol).glob("*/policy.json"))
    }
