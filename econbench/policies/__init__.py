"""Trained policies as data: ``policy.json`` plus tensors (safetensors) or ONNX graphs, never pickles.

``load`` reads and validates a folder, ``group_policies`` turns it into the
task's group policies, ``write_policy``/``mlp_group`` write one, and
:mod:`econbench.policies.sb3` exports a Stable-Baselines3 model from memory.
"""

from econbench.policies.export import mlp_group, onnx_policy, write_policy
from econbench.policies.files import PolicyFileError, PolicyFolder, load
from econbench.policies.runtime import group_policies, named_groups
from econbench.policies.spec import BoxAction, DiscreteAction, ObsNorm

__all__ = [
    "BoxAction",
    "DiscreteAction",
    "ObsNorm",
    "PolicyFileError",
    "PolicyFolder",
    "group_policies",
    "load",
    "mlp_group",
    "named_groups",
    "onnx_policy",
    "write_policy",
]
