"""Policy folders as group policies: the networks evaluated on any backend's arrays, deterministically.

An MLP runs in the backend's array namespace (the economies' own device);
an ONNX graph runs in onnxruntime on the CPU. Actions are the most likely
ones: the mean of a Box head, the most likely allowed choice of each
discrete head, which is how econbench scores every trained policy.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from econbench.backend import Backend, get_backend
from econbench.core import Array, BoxSpec, DiscreteSpec, GroupPolicy, GroupSpec, Task
from econbench.policies.files import PolicyFileError, PolicyFolder
from econbench.policies.spec import MLP, BoxAction, DiscreteAction, NamedGroup, NetworkGroup, ObsNorm

_FORBIDDEN = -np.inf


def check_params(pf: PolicyFolder, task: Task, any_task: bool = False) -> None:
    """A policy trained on another task, or other task parameters, would be scored on a task it never saw.

    ``any_task``: a family's shipped profile serves all its IDs (shapes are still checked).
    """
    wrong = {
        k: v
        for k, v in pf.spec.params.items()
        if getattr(task.params, k, object()) != (tuple(v) if isinstance(v, list) else v)
    }
    if not any_task and pf.spec.task_id.split("/")[-1] != task.name:
        raise PolicyFileError(f"{pf.folder}: a policy for {pf.spec.task_id}, not {task.id}")
    if wrong:
        have = {k: getattr(task.params, k, None) for k in wrong}
        raise PolicyFileError(f"{pf.folder}: trained with parameters {wrong}, the task has {have}")


def layers(pf: PolicyFolder, group: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(w0, b0), (w1, b1), ...]`` of a group's MLP, checked to chain."""
    out, i = [], 0
    while f"{group}/w{i}" in pf.arrays:
        w, b = pf.arrays[f"{group}/w{i}"], pf.arrays.get(f"{group}/b{i}")
        if w.ndim != 2 or b is None or b.shape != (w.shape[0],):
            raise PolicyFileError(
                f"{pf.folder}: layer {group}/w{i} is {w.shape} with bias "
                f"{None if b is None else b.shape}; expected (out, in) and (out,)"
            )
        if out and out[-1][0].shape[0] != w.shape[1]:
            raise PolicyFileError(
                f"{pf.folder}: layer {group}/w{i} reads {w.shape[1]} inputs, the layer before "
                f"gives {out[-1][0].shape[0]}"
            )
        out.append((w, b))
        i += 1
    if not out:
        raise PolicyFileError(f"{pf.folder}: no tensors {group}/w0, {group}/b0 for the {group!r} network")
    return out


def _out_width(g: GroupSpec, action: BoxAction | DiscreteAction) -> int:
    if isinstance(action, DiscreteAction):
        if not isinstance(g.action, DiscreteSpec):
            raise PolicyFileError(f"group {g.name!r} has Box actions; the policy decodes discrete ones")
        return sum(g.action.nvec) if action.output == "logits" else len(g.action.nvec)
    if not isinstance(g.action, BoxSpec):
        raise PolicyFileError(f"group {g.name!r} has discrete actions; the policy decodes Box ones")
    return int(np.prod(g.action.shape))


def _identity(x: Array) -> Array:
    return x


class ObsNormalizer:
    """``(x - mean) * factor`` (or ``/ factor``), clipped, in the trainer's dtype (``norm``)."""

    def __init__(self, norm: ObsNorm, shift: Array, factor: Array, b: Backend) -> None:
        self.norm, self.shift, self.factor, self.backend = norm, shift, factor, b

    def __call__(self, x: Array) -> Array:
        xp, norm = self.backend.xp, self.norm
        x = xp.astype(x, xp.float32 if norm.dtype == "float32" else xp.float64) - self.shift
        x = x / self.factor if norm.op == "divide" else x * self.factor
        return x if norm.clip is None else xp.clip(x, -norm.clip, norm.clip)


def observation_normalizer(
    pf: PolicyFolder, name: str, norm: ObsNorm | None, obs_dim: int, b: Backend
) -> Callable[[Array], Array]:
    """``obs (rows, obs_dim)`` normalised as the trainer computed it (``norm``'s dtype and op); identity without one."""
    if norm is None:
        return _identity
    mean, var = pf.arrays.get(f"{name}/obs_mean"), pf.arrays.get(f"{name}/obs_var")
    if mean is None or var is None or mean.shape != (obs_dim,) or var.shape != (obs_dim,) or np.any(var < 0):
        raise PolicyFileError(
            f"{pf.folder}: obs_norm of {name!r} needs {name}/obs_mean and {name}/obs_var of "
            f"shape ({obs_dim},), variances >= 0"
        )
    xp = b.xp
    dt, xp_dt = (np.float32, xp.float32) if norm.dtype == "float32" else (np.float64, xp.float64)
    var64 = np.asarray(var, np.float64)
    shift = b.asarray(np.asarray(mean, np.float64).astype(dt), dtype=xp_dt)
    factor = b.asarray(
        (np.sqrt(var64 + norm.eps) if norm.op == "divide" else 1.0 / np.sqrt(var64 + norm.eps)).astype(dt), dtype=xp_dt
    )
    return ObsNormalizer(norm, shift, factor, b)


def _activate(name: str, h: Array, xp: Any) -> Array:
    if name == "tanh":
        return xp.tanh(h)
    if name == "relu":
        return xp.maximum(h, 0.0)
    return xp.where(h > 0, h, xp.expm1(h))


class BoxDecoder:
    """Network outputs to Box actions in the task's units: the mean, rescaled from [-1, 1] if ``unit``, clipped."""

    def __init__(self, action: BoxAction, g: GroupSpec, b: Backend) -> None:
        xp = b.xp
        low, high = (np.asarray(v, np.float64).reshape(-1) for v in g.action.bounds())  # type: ignore[union-attr]
        self.action, self.backend = action, b
        self.lo, self.hi = b.asarray(low, dtype=xp.float64), b.asarray(high, dtype=xp.float64)

    def __call__(self, out: Array, mask: Array | None) -> Array:
        xp, lo, hi = self.backend.xp, self.lo, self.hi
        a = xp.astype(out, xp.float64)
        if self.action.scale == "unit":
            a = lo + (xp.clip(a, -1.0, 1.0) + 1.0) * 0.5 * (hi - lo)
        return xp.clip(a, lo, hi)


class DiscreteDecoder:
    """Network outputs to discrete actions: indices clipped to the heads, or each head's most likely allowed logit."""

    def __init__(self, action: DiscreteAction, g: GroupSpec, b: Backend) -> None:
        self.action, self.backend = action, b
        self.nvec = list(g.action.nvec)  # type: ignore[union-attr]
        self.bounds = np.cumsum([0, *self.nvec])

    def __call__(self, out: Array, mask: Array | None) -> Array:
        b = self.backend
        xp = b.xp
        if self.action.output == "index":
            idx = xp.astype(out, xp.int64)
            return xp.minimum(xp.maximum(idx, 0), b.asarray(np.asarray(self.nvec) - 1, dtype=xp.int64))
        if mask is not None:  # whatever the trainer did: an action a mask forbids is an error (mask_violation)
            out = xp.where(mask, out, xp.full_like(out, _FORBIDDEN))
        heads = [xp.argmax(out[:, int(lo) : int(hi)], axis=1) for lo, hi in itertools.pairwise(self.bounds)]
        return xp.stack([xp.astype(h, xp.int64) for h in heads], axis=1)


def _decoder(g: GroupSpec, action: BoxAction | DiscreteAction, b: Backend) -> Any:
    """Network outputs ``(rows, width)`` to actions ``(rows, *action_shape)`` in the task's units."""
    return BoxDecoder(action, g, b) if isinstance(action, BoxAction) else DiscreteDecoder(action, g, b)


class MLPForward:
    """``x (rows, obs_dim) -> (rows, width)`` through linear layers with the activation between them."""

    def __init__(self, params: list[tuple[Array, Array]], activation: str, dtype: str, b: Backend) -> None:
        self.params, self.activation, self.dtype, self.backend = params, activation, dtype, b

    def __call__(self, x: Array) -> Array:
        xp, params = self.backend.xp, self.params
        h = xp.astype(x, xp.float32 if self.dtype == "float32" else xp.float64)
        for i, (w, bias) in enumerate(params):
            h = h @ xp.matrix_transpose(w) + bias
            if i < len(params) - 1:
                h = _activate(self.activation, h, xp)
        return h


def _mlp_forward(pf: PolicyFolder, name: str, net: MLP, width: int, obs_dim: int, b: Backend) -> Any:
    xp = b.xp
    dt = xp.float32 if net.dtype == "float32" else xp.float64
    ws = layers(pf, name)
    if ws[0][0].shape[1] != obs_dim or ws[-1][0].shape[0] != width:
        raise PolicyFileError(
            f"{pf.folder}: the {name!r} network maps {ws[0][0].shape[1]} inputs to "
            f"{ws[-1][0].shape[0]} outputs; the task needs {obs_dim} -> {width}"
        )
    np_dt = np.float32 if net.dtype == "float32" else np.float64
    params = [(b.asarray(w.astype(np_dt), dtype=dt), b.asarray(bias.astype(np_dt), dtype=dt)) for w, bias in ws]
    return MLPForward(params, net.activation, net.dtype, b)


class NetworkPolicy:
    """A group policy from a network: observations normalised, passed forward and decoded, per agent.

    Classes rather than closures throughout, so that envs whose other agents follow a policy file pickle.
    """

    def __init__(
        self, forward: Any, normalize: Any, decode: Any, obs_dim: int, g: GroupSpec, masked: bool, b: Backend
    ) -> None:
        self.forward, self.normalize, self.decode, self.obs_dim = forward, normalize, decode, obs_dim
        self.action_shape, self.uses_mask, self.backend = tuple(g.action.shape), masked, b

    def __call__(self, obs: Array, mask: Array | None = None) -> Array:
        xp = self.backend.xp
        E, n = obs.shape[0], obs.shape[1]
        x = self.normalize(xp.reshape(obs, (E * n, self.obs_dim)))
        m = None if mask is None else xp.reshape(mask, (E * n, mask.shape[-1]))
        a = self.decode(self.forward(x), m)
        return xp.reshape(a, (E, n, *self.action_shape))


def _group_policy(pf: PolicyFolder, name: str, spec: NetworkGroup, g: GroupSpec, b: Backend) -> GroupPolicy:
    obs_dim = int(np.prod(g.observation.shape))
    width = _out_width(g, spec.action)
    if spec.network.type == "mlp":  # the network's shape first: it says best what the policy was trained on
        forward = _mlp_forward(pf, name, spec.network, width, obs_dim, b)
    else:
        from econbench.policies.onnx import onnx_forward

        forward = onnx_forward(pf, name, spec.network, width, obs_dim, b)
    normalize = observation_normalizer(pf, name, spec.obs_norm, obs_dim, b)
    decode = _decoder(g, spec.action, b)
    masked = isinstance(spec.action, DiscreteAction) and spec.action.output == "logits" and g.masked
    return NetworkPolicy(forward, normalize, decode, obs_dim, g, masked, b)


def group_policies(
    pf: PolicyFolder, task: Task, backend: Backend | str = "numpy", any_task: bool = False
) -> dict[str, GroupPolicy]:
    """Every group the policy file covers, as group policies on ``(n_envs, n_agents, ...)`` arrays."""
    b = get_backend(backend)
    check_params(pf, task, any_task)
    known = {g.name for g in task.groups}
    unknown = sorted(set(pf.spec.groups) - known)
    if unknown:
        raise PolicyFileError(f"{pf.folder}: {task.name} has no group(s) {unknown}; groups: {sorted(known)}")
    out: dict[str, GroupPolicy] = {}
    for name, spec in pf.spec.groups.items():
        if isinstance(spec, NamedGroup):
            if spec.named not in task.policies:
                raise PolicyFileError(
                    f"{pf.folder}: group {name!r} follows {spec.named!r}, which is not a named "
                    f"policy of {task.name} ({sorted(task.policies)})"
                )
            out[name] = task.policy(spec.named, b)[name]
        else:
            out[name] = _group_policy(pf, name, spec, task.group(name), b)
    return out


def named_groups(pf: PolicyFolder) -> dict[str, str]:
    """Groups that follow a named policy rather than a network (shown with the entry)."""
    return {k: g.named for k, g in pf.spec.groups.items() if isinstance(g, NamedGroup)}
