"""Stable-Baselines3 policies as policy folders, exported from the live objects of the training process.

An SB3 ``model.zip`` stores part of itself with cloudpickle and ``VecNormalize``
saves a pickle, so neither is ever read here; the trainer that holds the
model in memory calls :func:`export_sb3` instead (``baselines/sb3_ppo.py``
does when it saves). Supported: ``MlpPolicy`` actors (any ``net_arch``, tanh,
ReLU or ELU) on Box observations, Box, Discrete and MultiDiscrete actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from econbench.core import DiscreteSpec, Task
from econbench.policies.export import mlp_group, write_policy
from econbench.policies.spec import BoxAction, DiscreteAction, ObsNorm

_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "ELU": "elu"}


def learner_group(task: Task) -> Any:
    return task.group(task.role.group) if task.role else task.groups[0]


def export_sb3(
    folder: str | Path, model: Any, task: Task, vec_normalize: Any = None, provenance: Mapping[str, Any] | None = None
) -> Path:
    """Write an SB3 on-policy model's deterministic actor (and VecNormalize's observation statistics) as data."""
    from gymnasium import spaces
    from stable_baselines3.common.torch_layers import FlattenExtractor
    from torch import nn

    if not task.is_single_agent:
        raise ValueError(f"{task.id} is multi-agent; SB3 policies act for the learner of a single-agent view")
    policy = model.policy
    if getattr(policy, "squash_output", False) or getattr(policy, "use_sde", False):
        raise ValueError("gSDE / squashed-output SB3 policies are not supported; export an ONNX graph instead")
    extractor = getattr(policy, "pi_features_extractor", policy.features_extractor)
    if not isinstance(extractor, FlattenExtractor):
        raise ValueError(f"only MlpPolicy actors on Box observations are supported, not {type(extractor).__name__}")
    activation = _ACTIVATIONS.get(getattr(policy.activation_fn, "__name__", ""))
    if activation is None:
        raise ValueError(f"activation {policy.activation_fn} is not one of {sorted(_ACTIVATIONS)}")
    linear = [(m.weight, m.bias) for m in policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    linear.append((policy.action_net.weight, policy.action_net.bias))
    g = learner_group(task)
    space = model.action_space
    log_std = None
    if isinstance(space, (spaces.MultiDiscrete, spaces.Discrete)):
        nvec = [int(space.n)] if isinstance(space, spaces.Discrete) else [int(n) for n in space.nvec]
        if not isinstance(g.action, DiscreteSpec) or list(g.action.nvec) != nvec:
            raise ValueError(f"the model's action space {space} is not {task.name}'s {g.action}")
        action: BoxAction | DiscreteAction = DiscreteAction(output="logits", masked=False)  # SB3 ignores masks
    elif isinstance(space, spaces.Box):
        low, high = (np.asarray(v, np.float64) for v in g.action.bounds())  # type: ignore[union-attr]
        unit = np.allclose(space.low, -1.0) and np.allclose(space.high, 1.0)
        if not unit and not (np.allclose(space.low, low) and np.allclose(space.high, high)):
            raise ValueError(f"the model's action space {space} is neither [-1, 1] nor {task.name}'s bounds")
        action = BoxAction(scale="unit" if unit else "natural")
        log_std = getattr(policy, "log_std", None)
    else:
        raise ValueError(f"unsupported action space {space}")
    norm, mean, var = None, None, None
    if vec_normalize is not None and getattr(vec_normalize, "norm_obs", False):
        rms = vec_normalize.obs_rms
        if isinstance(rms, dict):
            raise ValueError("VecNormalize over Dict observations is not supported")
        norm = ObsNorm(
            eps=float(vec_normalize.epsilon), clip=float(vec_normalize.clip_obs), dtype="float64", op="divide"
        )
        mean, var = np.asarray(rms.mean, np.float64), np.asarray(rms.var, np.float64)
    group, arrays = mlp_group(g.name, linear, activation, action, mean, var, norm, "float32", log_std)
    import stable_baselines3

    prov = {
        "trainer": "stable-baselines3",
        "algo": type(model).__name__,
        "stable_baselines3_version": stable_baselines3.__version__,
        **dict(provenance or {}),
    }
    return write_policy(folder, task.id, {g.name: group}, arrays, provenance=prov)
