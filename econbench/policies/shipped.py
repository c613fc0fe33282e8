"""Learned profiles shipped inside a task family's package, listed as that family's named policies.

A family's baseline script exports each finished run's networks into a folder
of its package (evaluated in float64, so a score does not hinge on float32
rounding across machines), and the family's task factory lists the folders that
fit the task. A folder is found again by package and relative path when the
policy is built, so a pickled task finds it wherever the package is installed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
from collections.abc import Collection, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from econbench.backend import Backend
from econbench.core import GroupPolicy, PolicyFactory, Task
from econbench.policies.export import write_policy
from econbench.policies.files import PolicyFileError, load
from econbench.policies.runtime import group_policies
from econbench.policies.spec import NetworkGroup


def params_record(params: Any) -> dict[str, Any]:
    """Every field of a task's parameters as JSON values: what a shipped folder records, so it matches one economy."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(params).items()}


def export(
    folder: str | Path, run: str | Path, meta: Mapping[str, Any], params: Mapping[str, Any] | None = None
) -> Path:
    """Write a trained run's policy folder into ``folder`` with every network in float64.

    ``meta`` (run, seed, budget) becomes its provenance; ``params`` (default: the
    run's own overrides) is what :func:`shipped` matches tasks against.
    """
    pf = load(run)
    bad = sorted(g for g, net in pf.spec.groups.items() if not isinstance(net, NetworkGroup))
    if bad:
        raise PolicyFileError(f"{run}: groups {bad} follow named policies; only networks are shipped")
    groups = {
        g: net.model_copy(
            update={
                "network": net.network.model_copy(update={"dtype": "float64"}),
                "obs_norm": net.obs_norm.model_copy(update={"dtype": "float64"}) if net.obs_norm else None,
            }
        )
        for g, net in pf.spec.groups.items()
        if isinstance(net, NetworkGroup)
    }
    return write_policy(
        folder,
        pf.spec.task_id,
        groups,
        pf.arrays,
        params=pf.spec.params if params is None else params,
        provenance=dict(meta),
    )


def _root(package: str, under: str) -> Path:
    return Path(importlib.import_module(package).__file__ or "").parent / under


@functools.cache
def _header(path: Path) -> tuple[dict[str, Any], frozenset[str]]:
    spec = json.loads(path.read_text())
    return spec.get("params", {}), frozenset(spec.get("groups", {}))


def _build(package: str, relative: str, task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return group_policies(load(_root(package, relative)), task, backend, any_task=True)


def shipped(
    package: str, under: str, params: Any | None = None, groups: Collection[str] | None = None
) -> dict[str, PolicyFactory]:
    """The folders under ``<package>/<under>/`` (any depth), by folder name, as policy factories.

    With ``params`` (a task's parameters) only the folders that recorded exactly
    those parameters, and with ``groups`` only those covering exactly those
    groups: one family's package can then ship profiles of several economies.
    """
    root = _root(package, under)
    want = params_record(params) if params is not None else None
    out: dict[str, PolicyFactory] = {}
    for path in sorted(root.rglob("policy.json")):
        recorded, covered = _header(path)
        if want is not None and recorded != want:
            continue
        if groups is not None and covered != frozenset(groups):
            continue
        name = path.parent.name
        if name in out:
            raise ValueError(f"{root}: two shipped profiles named {name!r} fit the same task")
        out[name] = partial(_build, package, path.parent.relative_to(_root(package, "")).as_posix())
    return out
