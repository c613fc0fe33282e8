"""Learned RBC profiles shipped with econbench, evaluated as plain array networks (no torch needed).

The government's view (RBCTax-Government-v0) is most interesting against
consumers and firms that behave like learned agents rather than fixed rules.
``baselines/rbc_reproduce.py`` trains the whole economy with shared PPO and
exports each group's actor here (``trained/<name>.npz``): observation
normaliser, three linear layers, activation and action heads. Each file
becomes a named policy of the RBC tasks, acting deterministically (the most
likely choice of every head), as econbench scores every trained policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from econbench.backend import Backend
from econbench.core import Array, GroupPolicy, Task

TRAINED_DIR = Path(__file__).parent / "trained"
GROUPS = ("consumers", "firms", "government")
N_LAYERS = 3


def export(path: str | Path, actors: Mapping[str, Mapping[str, np.ndarray]], meta: Mapping[str, Any]) -> Path:
    """Write a profile: per group ``obs_mean``, ``obs_var``, ``w0..w2``, ``b0..b2`` (float32) and JSON ``meta``.

    ``meta`` must give ``activation`` and per group ``nvec`` (head sizes); it
    should say where the weights come from (run, seed, budget).
    """
    missing = [g for g in GROUPS if g not in actors or g not in meta.get("nvec", {})]
    if missing or meta.get("activation") not in ("relu", "tanh"):
        raise ValueError(f"export needs actors and nvec for {list(GROUPS)} and activation relu/tanh; missing {missing}")
    arrays = {f"{g}/{k}": np.asarray(v, dtype=np.float32) for g, layers in actors.items() for k, v in layers.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, meta=np.asarray(json.dumps(dict(meta), sort_keys=True)), **arrays)
    return path


def load(path: str | Path) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        layers: dict[str, dict[str, np.ndarray]] = {g: {} for g in GROUPS}
        for key in data.files:
            if "/" in key:
                g, name = key.split("/", 1)
                layers[g][name] = data[key].astype(np.float64)
    return layers, meta


def mlp_policy(layers: Mapping[str, np.ndarray], nvec: list[int], activation: str, n_agents: int,
               backend: Backend, allowed: np.ndarray | None = None) -> GroupPolicy:
    """Normalise, three linear layers, the most likely allowed choice of each head; ``(E, n_agents, heads)``.

    ``allowed`` (flat over the heads' choices) is the task's curriculum mask, as
    the fixed rules respect it: a network trained on the full grid then picks
    its best choice inside the mask.
    """
    xp = backend.xp
    w = [backend.asarray(layers[f"w{i}"]) for i in range(N_LAYERS)]
    b = [backend.asarray(layers[f"b{i}"]) for i in range(N_LAYERS)]
    mean, scale = backend.asarray(layers["obs_mean"]), backend.asarray(1.0 / np.sqrt(layers["obs_var"] + 1e-8))
    bounds = np.cumsum([0, *nvec])
    penalty = None if allowed is None or allowed.all() else backend.asarray(np.where(allowed, 0.0, -1e30))

    def act(h: Array) -> Array:
        return xp.maximum(h, 0.0) if activation == "relu" else xp.tanh(h)

    def policy(obs: Array) -> Array:
        E = obs.shape[0]
        x = xp.reshape(obs, (E * n_agents, -1))
        h = xp.clip((x - mean) * scale, -10.0, 10.0)
        for i in range(N_LAYERS):
            h = h @ xp.matrix_transpose(w[i]) + b[i]
            if i < N_LAYERS - 1:
                h = act(h)
        if penalty is not None:
            h = h + penalty
        heads = [xp.argmax(h[:, int(lo):int(hi)], axis=1) for lo, hi in zip(bounds[:-1], bounds[1:])]
        return xp.reshape(xp.stack([xp.astype(a, xp.int64) for a in heads], axis=1), (E, n_agents, len(nvec)))

    return policy


def profile_factory(path: Path) -> Callable[[Task, Backend], dict[str, GroupPolicy]]:
    def factory(task: Task, backend: Backend) -> dict[str, GroupPolicy]:
        from econbench.envs.rbc.dynamics import firm_action_mask, government_action_mask

        layers, meta = load(path)
        allowed = {"firms": firm_action_mask(task.params), "government": government_action_mask(task.params)}
        out = {}
        for g in task.groups:
            width = layers[g.name]["w0"].shape[1]
            if width != int(np.prod(g.observation.shape)):
                raise ValueError(
                    f"{path.name}: the {g.name} network reads {width} features, {task.name} gives "
                    f"{int(np.prod(g.observation.shape))} (trained with obs_encoding={meta.get('obs_encoding')!r})")
            out[g.name] = mlp_policy(layers[g.name], meta["nvec"][g.name], meta["activation"], g.n_agents, backend,
                                     allowed.get(g.name))
        return out

    return factory


def shipped() -> dict[str, Callable[[Task, Backend], dict[str, GroupPolicy]]]:
    """Every shipped profile, by file name."""
    return {p.stem: profile_factory(p) for p in sorted(TRAINED_DIR.glob("*.npz"))}
