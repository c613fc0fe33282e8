"""Two host-side views of a :class:`~econbench.core.BatchedEnv` that every adapter builds on.

* :class:`GameView`, the whole game: observations and actions are dicts keyed
  by group, the reward is the card's welfare, per-agent rewards go to infos.
* :class:`RoleView`, one learner: ``agent`` of ``group`` acts, every other
  agent follows a named fixed policy or a supplied callable.

Both speak NumPy at their boundary (Gymnasium, PettingZoo and SB3 expect it)
and keep everything else on the env's backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from econbench.core import (
    ActionError,
    Array,
    BatchedEnv,
    BoxSpec,
    DiscreteSpec,
    GroupPolicy,
    GroupSpec,
    RoleSpec,
    Task,
    dtype_kind,
    profile_actions,
)
from econbench.registry import make_task

Others = str | GroupPolicy | Mapping[str, "str | GroupPolicy"] | None


def box_space(spec: BoxSpec, lead: tuple[int, ...], dtype: Any) -> spaces.Box:
    dtype = np.dtype(spec.dtype) if spec.dtype else dtype
    low, high = spec.bounds()
    shape = lead + spec.shape
    return spaces.Box(
        np.broadcast_to(low, shape).astype(dtype), np.broadcast_to(high, shape).astype(dtype), shape, dtype
    )


class MaskedMultiDiscrete(spaces.MultiDiscrete):
    """``MultiDiscrete`` sampled under the flat action masks observations carry.

    ``sample(mask)`` takes one mask over each row's heads, ``(..., sum(nvec))`` as in
    ``obs["action_mask"]`` (Gymnasium's own wants a tuple per head). Without a mask it
    samples under ``current_mask``, which an env with one economy sets with every
    observation: a checker's or a random policy's ``sample()`` then picks actions the env
    accepts under ``mask_violation="error"``. Gymnasium's ``check_env`` samples before it
    resets, so under that default :meth:`settle` lets the env step a draw the reset's masks
    forbid as the same uniforms drawn under them. The space holds arrays, not
    the env: it copies, pickles and compares (equal to a plain ``MultiDiscrete`` of the same
    ``nvec``) as any space.
    """

    current_mask: np.ndarray | None = None
    _drawn: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # the last unmasked sample(), a copy, its uniforms

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        if isinstance(mask, tuple) or probability is not None:
            return super().sample(mask=mask, probability=probability)
        draws = self.np_random.random(self.nvec.shape)
        if mask is not None:
            return self._pick(draws, np.asarray(mask))
        action = self._pick(draws, self.current_mask)
        self._drawn = (action, action.copy(), draws)
        return action

    def settle(self, action: Any) -> Any:
        """``action``; or, where it equals the last ``sample()`` without a mask and ``current_mask`` forbids it (the
        mask changed since, as a reset does), that draw again under ``current_mask``. Legal actions and arrays the
        caller changed are never touched; by value, so an env and its copies settle alike."""
        drawn, mask = self._drawn, self.current_mask
        if drawn is None or mask is None:
            return action
        a = np.asarray(action)
        if a.shape != drawn[1].shape or not np.array_equal(a, drawn[1]) or self._allows(a, mask):
            return action
        return self._pick(drawn[2], mask)

    def _allows(self, action: np.ndarray, mask: np.ndarray) -> bool:
        """Whether every head's index of ``action`` is allowed by the flat ``mask``."""
        heads = self.nvec.reshape(-1, self.nvec.shape[-1])[0]
        rows = mask.reshape(-1, int(heads.sum())) != 0
        rel = action.reshape(-1, heads.size) - self.start.reshape(-1, heads.size)
        if (rel < 0).any() or (rel >= heads).any():
            return True  # out of range: the env's own check names that
        offsets = np.concatenate([[0], np.cumsum(heads)[:-1]])
        return bool(np.take_along_axis(rows, (rel + offsets).astype(np.int64), axis=1).all())

    def _pick(self, draws: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Uniform ``draws`` to indices: over each head's allowed ones (its smallest where none is, as
        Gymnasium does); one vectorised pass per head, for a whole game's thousands of rows."""
        if mask is None:  # Gymnasium's own unmasked draw, from the same uniforms
            return (draws * self.nvec).astype(self.dtype) + self.start
        heads = self.nvec.reshape(-1, self.nvec.shape[-1])[0]
        width = int(heads.sum())
        want = self.nvec.shape[:-1] + (width,)
        if mask.shape != want:
            raise ValueError(f"action mask has shape {mask.shape}, expected {want} (one flat row over the heads)")
        rows = mask.reshape(-1, width) != 0
        u = draws.reshape(-1, heads.size)
        out = np.empty(u.shape, dtype=self.dtype)
        start = 0
        for j, n in enumerate(heads.tolist()):
            allowed = rows[:, start : start + n]
            start += n
            count = allowed.sum(axis=1)
            pick = (u[:, j] * count).astype(np.int64)  # the pick-th allowed index
            out[:, j] = np.where(count > 0, np.argmax(np.cumsum(allowed, axis=1) > pick[:, None], axis=1), 0)
        return out.reshape(self.nvec.shape) + self.start


class MaskedDiscrete(spaces.Discrete):
    """``Discrete`` that, without a mask, samples under ``current_mask`` (see :class:`MaskedMultiDiscrete`)."""

    current_mask: np.ndarray | None = None

    def sample(self, mask: Any = None, probability: Any = None) -> np.int64:
        if mask is None and probability is None:
            mask = self.current_mask
        return super().sample(mask=mask, probability=probability)


def action_space(g: GroupSpec, lead: tuple[int, ...], dtype: Any) -> spaces.Space:
    if isinstance(g.action, DiscreteSpec):
        nvec = np.broadcast_to(np.asarray(g.action.nvec), lead + g.action.shape).copy()
        return MaskedMultiDiscrete(nvec) if g.masked else spaces.MultiDiscrete(nvec)
    return box_space(g.action, lead, dtype)


def observation_space(g: GroupSpec, lead: tuple[int, ...], dtype: Any) -> spaces.Space:
    obs = box_space(g.observation, lead, dtype)
    if not g.masked:
        return obs
    width = int(sum(g.action.nvec))  # type: ignore[union-attr]
    # one agent's mask is MultiBinary(width), not MultiBinary((width,)): TorchRL converts n as an int
    mask = spaces.MultiBinary(lead + (width,) if lead else width)
    return spaces.Dict({"observation": obs, "action_mask": mask})


def publish_mask(space: spaces.Space, mask: np.ndarray) -> None:
    """Hand a masked space the mask of the env's latest observation (see :class:`MaskedMultiDiscrete`)."""
    if isinstance(space, (MaskedMultiDiscrete, MaskedDiscrete)):
        space.current_mask = np.array(mask, dtype=np.int8)  # a copy: the caller may write into its observation


def _np_dtype(batched: BatchedEnv) -> Any:
    return np.dtype(batched.backend.dtype_name)


class GameView:
    """All groups at once; ``reward`` is the welfare the card defines."""

    def __init__(self, batched: BatchedEnv) -> None:
        self.batched = batched
        self.task = batched.task
        dt = _np_dtype(batched)
        self.observation_space = spaces.Dict(
            {g.name: observation_space(g, (g.n_agents,), dt) for g in self.task.groups}
        )
        self.action_space = spaces.Dict({g.name: action_space(g, (g.n_agents,), dt) for g in self.task.groups})

    def _host_obs(self, obs: Mapping[str, Array]) -> dict[str, Any]:
        b = self.batched.backend
        masks = self.batched.action_masks()
        out: dict[str, Any] = {}
        for g in self.task.groups:
            o = b.to_numpy(obs[g.name])
            if g.masked:
                mask = b.to_numpy(masks[g.name]).astype(np.int8)
                out[g.name] = {"observation": o, "action_mask": mask}
                if self.batched.n_envs == 1:  # the spaces describe one economy
                    publish_mask(self.action_space[g.name], mask[0])
            else:
                out[g.name] = o
        return out

    def reset(self, seed: int | None = None, mask: Any = None) -> dict[str, Any]:
        return self._host_obs(self.batched.reset(seed=seed, mask=mask))

    def step(
        self, actions: Mapping[str, Any], past_end: bool = False
    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        obs, out, term, trunc = self.batched.step(actions, past_end)
        b = self.batched.backend
        info = {"rewards": {k: b.to_numpy(v) for k, v in out.rewards.items()}}
        return self._host_obs(obs), b.to_numpy(out.welfare), b.to_numpy(term), b.to_numpy(trunc), info


def resolve_others(task: Task, batched: BatchedEnv, others: Others) -> dict[str, GroupPolicy]:
    """Turn a policy name, a callable or a per-group mapping into one callable per group."""
    role = task.role
    if role is None:
        raise TypeError(f"{task.name} is not a role view")
    needed = [g.name for g in task.groups if g.name != role.group or g.n_agents > 1]
    if others is None:
        others = role.others
    if isinstance(others, str):
        return {k: v for k, v in task.policy(others, batched.backend).items() if k in needed}
    if callable(others):
        if len(needed) != 1:
            raise TypeError(
                f"{task.name}: a single callable for 'others' is ambiguous with groups {needed}; pass a dict"
            )
        return {needed[0]: others}
    resolved: dict[str, GroupPolicy] = {}
    for name in needed:
        if name not in others:
            raise KeyError(f"{task.name}: 'others' lacks a policy for group {name!r}")
        pol = others[name]
        resolved[name] = task.policy(pol, batched.backend)[name] if isinstance(pol, str) else pol
    return resolved


class RoleView:
    """One learning agent; the others follow fixed policies. Flat Box spaces, scalar reward."""

    def __init__(self, batched: BatchedEnv, others: Others = None) -> None:
        task = batched.task
        if not task.is_single_agent:
            raise TypeError(f"{task.name} is a multi-agent task; use its -<Role>- ID or the whole-game view")
        if task.role is None and others is not None:
            raise TypeError(f"{task.name}: 'others' applies to role views only")
        self.batched, self.task = batched, task
        self.role = task.role or RoleSpec(task.groups[0].name, 0, "")
        self.group = task.group(self.role.group)
        self.others: dict[str, GroupPolicy] = {} if task.role is None else resolve_others(task, batched, others)
        dt = _np_dtype(batched)
        self.observation_space = observation_space(self.group, (), dt)
        self.action_space = action_space(self.group, (), dt)
        xp, n = batched.xp, self.group.n_agents
        self._is_learner = batched.backend.asarray(np.arange(n) == self.role.agent, dtype=xp.bool)[None, :, None]
        self._obs: dict[str, Array] = {}

    def _host_obs(self, obs: Mapping[str, Array]) -> Any:
        b = self.batched.backend
        o = b.to_numpy(obs[self.group.name][:, self.role.agent])
        if not self.group.masked:
            return o
        mask = self.action_masks().astype(np.int8)
        if self.batched.n_envs == 1:  # the spaces describe one economy
            publish_mask(self.action_space, mask[0])
        return {"observation": o, "action_mask": mask}

    def reset(self, seed: int | None = None, mask: Any = None) -> Any:
        self._obs = self.batched.reset(seed=seed, mask=mask)
        return self._host_obs(self._obs)

    def action_masks(self) -> np.ndarray:
        """The learner's allowed actions, ``(n_envs, sum(nvec))`` booleans (all true for unmasked groups)."""
        g = self.group
        if not g.masked:
            width = int(sum(g.action.nvec)) if isinstance(g.action, DiscreteSpec) else int(np.prod(g.action.shape))
            return np.ones((self.batched.n_envs, width), dtype=bool)
        b = self.batched.backend
        return b.to_numpy(self.batched.action_masks()[g.name][:, self.role.agent]).astype(bool)

    def joint_actions(self, action: Any, past_end: bool = False) -> dict[str, Array]:
        """The learner's ``(n_envs, *action_shape)`` actions merged into everyone's."""
        b, xp, g = self.batched.backend, self.batched.xp, self.group
        want = (self.batched.n_envs, *g.action.shape)
        if tuple(np.shape(action)) != want:
            raise ActionError(f"{self.task.name}: action has shape {tuple(np.shape(action))}, expected {want}")
        dtype = xp.int64 if isinstance(g.action, DiscreteSpec) else None
        kind = dtype_kind(action)
        if isinstance(g.action, BoxSpec) and kind != "f":
            raise ActionError(
                f"{self.task.name}: action must be floating point, got dtype {getattr(action, 'dtype', type(action))}"
            )
        if isinstance(g.action, DiscreteSpec) and kind not in ("i", "u"):
            raise ActionError(
                f"{self.task.name}: action must be integer, got dtype {getattr(action, 'dtype', type(action))}"
            )
        # the learner's values first: a rejected action must not have run the others' policies (their generators)
        mine = self.batched.check_values(g, action) if self.batched.validate else b.asarray(action, dtype=dtype)
        mine = mine[:, None]
        if g.masked and isinstance(g.action, DiscreteSpec):  # and against the learner's mask (a no-op with "execute")
            alone = mine if g.n_agents == 1 else xp.where(self._is_learner, mine, 0)
            self.batched.check_masks({g.name: alone}, past_end, self._is_learner[..., 0])
        acts = profile_actions(self.others, self._obs, self.batched.action_masks)
        if g.n_agents == 1:
            acts[g.name] = mine
        else:
            acts[g.name] = xp.where(self._is_learner, mine, b.asarray(acts[g.name], dtype=dtype))
        return acts

    def step(
        self, action: Any, past_end: bool = False
    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        # a single learner's actions are its group's, checked by joint_actions: the core checks only their shape
        checked = (self.group.name,) if self.group.n_agents == 1 else ()
        obs, out, term, trunc = self.batched.step(self.joint_actions(action, past_end), past_end, checked)
        self._obs = obs
        b = self.batched.backend
        reward = b.to_numpy(out.rewards[self.group.name][:, self.role.agent])
        return self._host_obs(obs), reward, b.to_numpy(term), b.to_numpy(trunc), {}


def make_view(
    task_id: str | Task,
    n_envs: int,
    backend: str = "numpy",
    dtype: str = "float64",
    device: Any = None,
    max_episode_steps: int | None = None,
    others: Others = None,
    seed: int | None = None,
    mask_violation: str = "error",
    **params: Any,
) -> GameView | RoleView:
    """The view a Gymnasium ID stands for: single-agent IDs get a :class:`RoleView`.

    The episode length is the task's ``horizon`` (a parameter in ``params``, as every
    entry point takes it); ``max_episode_steps`` only caps it, as Gymnasium's ``TimeLimit``
    does (see :func:`episode_cap`). ``mask_violation`` is :class:`~econbench.core.BatchedEnv`'s
    (``"execute"``: masks are advisory); the adapters built on a view take it as a keyword too.
    """
    task = make_task(task_id, **params)
    batched = BatchedEnv(
        task,
        n_envs,
        backend,
        dtype,
        device,
        seed=seed,
        horizon=episode_cap(task, max_episode_steps),
        mask_violation=mask_violation,
    )
    if task.is_single_agent:
        return RoleView(batched, others)
    if others is not None:
        raise TypeError(f"{task.name}: 'others' applies to role views only")
    return GameView(batched)


def episode_cap(task: Task, max_episode_steps: int | None) -> int | None:
    """The episode length a ``max_episode_steps`` cap leaves: ``min(task.horizon, cap)``.

    Gymnasium's meaning, kept everywhere: ``gym.make(id, max_episode_steps=M)`` wraps a
    ``TimeLimit`` that can only end episodes earlier than the env's own end, so the native
    vector env, SB3's and PettingZoo's ``max_cycles`` cap too instead of running a model past
    its horizon. ``-1`` is ``gym.make``'s "no TimeLimit"; a longer episode is the ``horizon``
    parameter's job.
    """
    if max_episode_steps is None or max_episode_steps == -1:
        return None
    cap = max_episode_steps
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
        raise ValueError(f"max_episode_steps must be a positive integer (or -1: no cap), got {cap!r}")
    return min(int(cap), task.horizon)
