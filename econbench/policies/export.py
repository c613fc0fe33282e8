"""Writing policy folders from trained networks (their weights as arrays, never the trainer's objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from econbench.policies.files import save
from econbench.policies.spec import MLP, BoxAction, DiscreteAction, NamedGroup, NetworkGroup, ObsNorm


def host(x: Any) -> np.ndarray:
    """A tensor of any framework (torch, JAX, NumPy) as a NumPy array, without keeping a reference to it."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.array(x, copy=True)


def mlp_group(
    name: str,
    linear: Sequence[tuple[Any, Any]],
    activation: str,
    action: BoxAction | DiscreteAction,
    obs_mean: Any = None,
    obs_var: Any = None,
    obs_norm: ObsNorm | None = None,
    dtype: str = "float32",
    log_std: Any = None,
) -> tuple[NetworkGroup, dict[str, np.ndarray]]:
    """One group's MLP: ``linear`` is ``[(weight (out, in), bias (out,)), ...]`` in order, as ``nn.Linear`` holds them."""
    arrays: dict[str, np.ndarray] = {}
    for i, (w, b) in enumerate(linear):
        arrays[f"{name}/w{i}"], arrays[f"{name}/b{i}"] = host(w), host(b)
    if obs_norm is not None:
        arrays[f"{name}/obs_mean"], arrays[f"{name}/obs_var"] = host(obs_mean), host(obs_var)
    if log_std is not None:  # kept for the record (sampled play); scoring acts on the mean
        arrays[f"{name}/log_std"] = host(log_std)
    group = NetworkGroup(network=MLP(activation=activation, dtype=dtype), obs_norm=obs_norm, action=action)
    return group, arrays


def write_policy(
    folder: str | Path,
    task_id: str,
    groups: Mapping[str, NetworkGroup | NamedGroup | str],
    arrays: Mapping[str, np.ndarray],
    params: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    graphs: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``policy.json`` and ``policy.safetensors``; a group given as a string follows that named policy."""
    spec = {
        "task_id": task_id,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in (params or {}).items()},
        "groups": {k: NamedGroup(named=g) if isinstance(g, str) else g for k, g in groups.items()},
        "provenance": dict(provenance or {}),
    }
    return save(folder, spec, dict(arrays), dict(graphs or {}))


def onnx_policy(
    folder: str | Path,
    task_id: str,
    graphs: Mapping[str, str],
    action: BoxAction | DiscreteAction,
    provenance: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Path:
    """The ``policy.json`` sidecar for ONNX graphs already in ``folder`` (``graphs``: group -> file name), one
    graph per group mapping its observations to ``action`` outputs (actions, or discrete logits)."""
    from econbench.policies.spec import ONNX

    groups = {g: NetworkGroup(network=ONNX(type="onnx", file=f), action=action) for g, f in graphs.items()}
    return write_policy(folder, task_id, groups, {}, params=params, provenance=provenance)
