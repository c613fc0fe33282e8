"""``policy.json``: what a policy folder declares about its networks, as plain data.

A policy folder is data only: this JSON file, tensors in ``policy.safetensors``
and, for policies trained elsewhere, ONNX graphs. Nothing in it names a Python
object, so loading it cannot import or run anything; the fields below are the
whole vocabulary (unknown keys are refused, not ignored).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FORMAT = "econbench-policy"
VERSION = 1
SPEC_FILE = "policy.json"
WEIGHTS_FILE = "policy.safetensors"

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
Scalar = bool | int | float | str


class ObsNorm(BaseModel):
    """``clip((obs - mean) op sqrt(var + eps))`` with tensors ``<group>/obs_mean`` and ``<group>/obs_var``.

    ``dtype`` and ``op`` say how the trainer computed it, so the scores of a
    converted policy are the trainer's to the last digit: SB3's VecNormalize
    divides in float64, a float32 trainer multiplies by the reciprocal.
    """

    model_config = ConfigDict(extra="forbid")
    eps: Annotated[float, Field(ge=0.0, le=1.0)] = 1e-8
    clip: Annotated[float, Field(gt=0.0, le=1e6)] | None = 10.0
    dtype: Literal["float32", "float64"] = "float64"
    op: Literal["divide", "multiply"] = "divide"


class MLP(BaseModel):
    """Dense layers ``h = act(h @ w_i.T + b_i)`` (no activation after the last), tensors ``<group>/w0, b0, ...``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["mlp"] = "mlp"
    activation: Literal["tanh", "relu", "elu"]
    dtype: Literal["float32", "float64"] = "float32"


class ONNX(BaseModel):
    """A graph in the policy folder, run with onnxruntime on the CPU: one float32 input ``(rows, obs_dim)``,
    its first output read (or ``output``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["onnx"]
    file: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.onnx$")]
    output: Name | None = None


class BoxAction(BaseModel):
    """The network's output is the action: in ``[-1, 1]`` mapped onto the task's bounds (``unit``) or in the
    task's units (``natural``); clipped to the bounds either way, as SB3 does."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["box"] = "box"
    scale: Literal["unit", "natural"] = "unit"


class DiscreteAction(BaseModel):
    """Per-agent heads of ``nvec`` choices: ``logits`` (``sum(nvec)`` outputs, each head's most likely allowed
    choice) or ``index`` (the graph outputs the choices itself; ONNX only)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["discrete"] = "discrete"
    output: Literal["logits", "index"] = "logits"
    # whether the trainer applied the task's action masks (a trainer that ignored them sets false): provenance only,
    # the runtime applies them to the logits either way, since an action a mask forbids is an error (mask_violation)
    masked: bool = True


class NetworkGroup(BaseModel):
    """One group's (or, in a single-agent view, the learner's) policy: a network acting on its own observation."""

    model_config = ConfigDict(extra="forbid")
    network: Annotated[MLP | ONNX, Field(discriminator="type")]
    obs_norm: ObsNorm | None = None
    action: Annotated[BoxAction | DiscreteAction, Field(discriminator="kind")]


class NamedGroup(BaseModel):
    """A group that follows one of the task's named policies (the fixed side of a partial profile)."""

    model_config = ConfigDict(extra="forbid")
    named: Name


class PolicySpec(BaseModel):
    """The whole of ``policy.json``."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["econbench-policy"]
    version: Literal[1]
    task_id: Annotated[str, Field(pattern=r"^econbench/[A-Za-z0-9_.-]+-v\d+$", max_length=100)]
    params: Annotated[dict[Name, Scalar | list[Scalar]], Field(max_length=64)] = {}
    groups: Annotated[dict[Name, NetworkGroup | NamedGroup], Field(min_length=1, max_length=16)]
    provenance: Annotated[dict[Name, Any], Field(max_length=64)] = {}

    @field_validator("groups")
    @classmethod
    def _some_network(cls, v: dict[str, NetworkGroup | NamedGroup]) -> dict[str, NetworkGroup | NamedGroup]:
        if not any(isinstance(g, NetworkGroup) for g in v.values()):
            raise ValueError("every group follows a named policy: a policy file must hold at least one network")
        return v

    def networks(self) -> dict[str, NetworkGroup]:
        return {k: g for k, g in self.groups.items() if isinstance(g, NetworkGroup)}
