"""The batched multi-agent contract every econbench task implements.

A task is a frozen parameter object, a tuple of agent groups and five pure
functions over an array namespace ``xp`` (:class:`Dynamics`). One
:class:`BatchedEnv` steps ``n_envs`` economies at once; every array is shaped
``(n_envs, n_agents, ...)``, so a group's agents can share a network and a
GPU sees one large batch. Randomness is drawn by the env and handed to the
dynamics as an explicit ``noise`` argument: the dynamics are deterministic
functions of their inputs, which is what lets tests feed NumPy, torch and
array-api-strict the very same inputs.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from econbench import blocks
from econbench.backend import Backend, BackendRNG, PicklesNamespaces, SharedDrawsRNG, get_backend
from econbench.obs_blocks import ObsBlocks, as_blocks, assemble_all
from econbench.validate import check_memory, human_bytes

Array = Any
GroupPolicy = Callable[..., Array]
"""Maps one group's observations ``(n_envs, n_agents, *obs_shape)`` to its actions.

A policy with a true ``uses_mask`` attribute is called ``policy(obs, mask)``
with the group's action masks: where masks depend on the state (RICE's
agreements) a learned policy cannot infer them from its features.
"""
_REDUCE_FROM = 4096  # action elements from which BatchedEnv checks discrete ranges with reductions
MASK_VIOLATIONS = ("error", "execute")
"""What :class:`BatchedEnv` does with an action its masks forbid: ``"error"`` (the default, every task) raises
:class:`ActionError` before anything changes; ``"execute"`` hands it to the dynamics as upstream's advisory masks do."""


class ActionError(ValueError):
    """An action has the wrong keys, shape, dtype or range, or is not finite."""


@dataclass(frozen=True)
class BoxSpec:
    """Continuous per-agent space with elementwise bounds (natural units)."""

    shape: tuple[int, ...]
    low: float | tuple[float, ...] = -np.inf
    high: float | tuple[float, ...] = np.inf
    dtype: str | None = None  # observations whose dtype is fixed whatever the backend's (RICE's float32 features)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        low = np.broadcast_to(np.asarray(self.low, dtype=np.float64), self.shape)
        high = np.broadcast_to(np.asarray(self.high, dtype=np.float64), self.shape)
        return low, high


@dataclass(frozen=True)
class DiscreteSpec:
    """Per-agent multi-discrete actions; ``nvec[j]`` choices for head ``j``."""

    nvec: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.nvec),)


@dataclass(frozen=True)
class GroupSpec:
    """A set of agents that share observation and action spaces.

    ``masked`` groups expose ``(n_envs, n_agents, sum(nvec))`` boolean action
    masks (negotiated agreements, curricula, capacity) next to observations.
    """

    name: str
    n_agents: int
    agent_name: str
    observation: BoxSpec
    action: BoxSpec | DiscreteSpec
    masked: bool = False

    def agent_ids(self) -> list[str]:
        return [f"{self.agent_name}_{i}" for i in range(self.n_agents)]


@dataclass(frozen=True)
class StepOutput:
    """What a dynamics step returns: the new state, per-agent rewards and welfare."""

    state: Any
    rewards: dict[str, Array]  # group -> (n_envs, n_agents)
    welfare: Array  # (n_envs,): the whole-game scalar reward the card defines
    terminated: Array | None = None  # (n_envs,) bool; None means never


class Dynamics(PicklesNamespaces):
    """Base of a task's dynamics: pure functions over arrays, constants fixed at construction.

    A subclass is built once per env for its parameters and backend (so tables
    such as shock grids live on the right device) and must not keep mutable
    state: ``step`` is a function of ``(state, actions, noise, t)`` alone.
    ``state`` is a dataclass of arrays with leading axis ``n_envs``.
    """

    unchecked_ranges: frozenset[str] = frozenset()
    """Groups whose discrete indices the dynamics accept beyond ``nvec`` (an upstream's lenient mode)."""

    block_bytes: int | None = None
    """Step large batches on the host in blocks of economies worth about this many bytes (:mod:`econbench.blocks`),
    or the whole batch at once (None). Worth it where a step's temporaries outweigh its outputs; the joined
    outputs cost one more copy, so a task whose observations dominate (or whose step has a large fixed cost)
    loses by it: set where measured."""

    def __init__(self, params: Any, backend: Backend) -> None:
        self.params = params
        self.backend = backend
        self.xp = backend.xp
        self._weights: dict[tuple[int, float], Array] = {}

    def agent_sum(self, x: Array, scale: float = 1.0) -> Array:
        """``scale * sum`` over the agent axis (axis 1) of an ``(n_envs, n_agents)`` array.

        A matrix-vector product: NumPy reduces a short inner axis an order of
        magnitude slower than BLAS does the same sum.
        """
        key = (x.shape[1], scale)
        if key not in self._weights:
            self._weights[key] = self.backend.asarray(np.full(x.shape[1], scale))
        return x @ self._weights[key]

    def agent_mean(self, x: Array) -> Array:
        return self.agent_sum(x, 1.0 / x.shape[1])

    def initial_state(self, rng: BackendRNG, n_envs: int) -> Any:
        raise NotImplementedError

    def draw_noise(self, rng: BackendRNG, n_envs: int) -> Any:
        """Shocks for one step; deterministic tasks draw nothing."""
        return None

    def step(self, state: Any, actions: Mapping[str, Array], noise: Any, t: Array) -> StepOutput:
        raise NotImplementedError

    def observe(self, state: Any) -> dict[str, Array]:
        """Each group's flat ``(n_envs, n_agents, dim)`` observations: by default assembled from
        :meth:`observe_blocks`, which a task overrides instead where its agents share columns."""
        blocks = self.observe_blocks(state)
        if blocks is None:
            raise NotImplementedError
        return assemble_all(blocks, self.xp, self.backend.device)

    def observe_blocks(self, state: Any) -> Mapping[str, ObsBlocks | Array] | None:
        """The observations as :class:`~econbench.obs_blocks.ObsBlocks` (groups whose agents share columns) or
        flat arrays, for ``BatchedEnv(obs_blocks=True)``; None: the task only writes flat ones (:meth:`observe`)."""
        return None

    def action_masks(self, state: Any) -> dict[str, Array]:
        """Boolean masks for the task's masked groups; none by default."""
        return {}

    def check_masks(
        self,
        state: Any,
        actions: Mapping[str, Array],
        t: Array,
        groups: Sequence[GroupSpec],
        where: Array | None = None,
    ) -> None:
        """Raise :class:`ActionError` (see :func:`mask_error`) if an action of a masked group is one its mask forbids.

        ``actions`` are validated ``(n_envs, n_agents, heads)`` integer arrays; ``groups`` the masked discrete
        groups to check (each has its actions); ``where``, if given, booleans broadcastable to ``(n_envs,
        n_agents)``: the entries that count (not an env whose episode has ended, or only a role view's learner).
        Called by :meth:`BatchedEnv.step` before anything changes, with ``mask_violation="error"``.

        This generic version reads :meth:`action_masks` and gathers the chosen index of every head from the
        flat per-head mask (one batched gather per group); a task whose masks are cheaper to test another
        way, or bind only at some steps, overrides it. Groups in ``unchecked_ranges`` are skipped: their
        indices may lie beyond their head.
        """
        groups = [g for g in groups if g.name not in self.unchecked_ranges]
        if not groups:
            return
        xp = self.xp
        masks = self.action_masks(state)
        for g in groups:
            mask, a = masks[g.name], actions[g.name]
            nvec = g.action.nvec  # type: ignore[union-attr]
            width = int(sum(nvec))
            E, A, H = a.shape
            base = self.__dict__.setdefault("_mask_gather", {}).get((g.name, E, A))
            if base is None:  # each (env, agent) row's start in the flat mask plus each head's offset in the row
                start = np.arange(E * A)[:, None] * width + np.concatenate([[0], np.cumsum(nvec)[:-1]])[None, :]
                base = self._mask_gather[(g.name, E, A)] = self.backend.asarray(start, dtype=xp.int64)
            flat = xp.reshape(a, (E * A, H)) + base
            ok = xp.reshape(xp.take(xp.reshape(mask, (-1,)), xp.reshape(flat, (-1,))), (E, A, H))
            if where is not None:
                ok = ok | ~where[..., None]
            if bool(xp.all(ok)):
                continue
            env, agent, head = (int(v[0]) for v in np.nonzero(~self.backend.to_numpy(ok)))
            start = int(sum(nvec[:head]))
            row = self.backend.to_numpy(mask[env, agent, start : start + nvec[head]])
            raise mask_error(g.name, agent, env, head, int(self.backend.to_numpy(a[env, agent, head])), row)


@dataclass(frozen=True)
class RoleSpec:
    """A single-agent view: ``agent`` of ``group`` learns, everyone else follows ``others``."""

    group: str
    agent: int = 0
    others: str = "exact"


PolicyFactory = Callable[["Task", Backend], dict[str, GroupPolicy]]
SolutionHook = Callable[[Any], Mapping[str, Any]]
"""``solution(params)``: the exact solution's named quantities (laws of motion, values), for ``econbench solve``."""
GapHook = Callable[..., Any]
"""``equilibrium_gap(task, profile, policy_name, seeds, episodes, backend=, progress=)`` -> one
:class:`~econbench.metrics.gaps.GapResult` per group (see docs/architecture.md, "The task contract")."""
ReportHook = Callable[..., Mapping[str, Any]]
"""``report(task, profile, seed=, episodes=, backend=)``: the family's own metrics beside the score (``evaluate``)."""
FigureHook = Callable[..., Any]
"""``figure(task, policies, path, seed=, labels=)`` -> the PNG written: the family's rollout figure."""


class LazyHook:
    """A hook ``"module:name"`` that imports its module when called (each call reads the name).

    A class rather than a closure so that tasks, and the envs holding them, pickle.
    """

    def __init__(self, target: str) -> None:
        module, _, name = target.partition(":")
        if not module or not name:
            raise ValueError(f"lazy_hook needs 'module:name', got {target!r}")
        self.target = target
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **kwargs)


def lazy_hook(target: str) -> Callable[..., Any]:
    """The function ``"module:name"`` as a hook that imports its module when called (each call reads the name).

    For hooks whose code does not define the task, such as figures: the task's
    fingerprint (:mod:`econbench.fingerprint`) follows import statements, not
    strings, so editing a figure leaves published results current, and
    building a task does not import plotting code.
    """
    return LazyHook(target)


@dataclass(frozen=True)
class Task:
    """A registered task: card, parameters, groups, dynamics, named fixed policies and the family's hooks.

    The hooks are how generic tools (CLI, metrics, bench, leaderboard, plots)
    reach a family's own code without naming it: each is optional, and a tool
    falls back to its generic behaviour (or says the task has none) when a
    hook is absent.
    """

    id: str
    card: Mapping[str, Any]
    params: Any
    groups: tuple[GroupSpec, ...]
    dynamics: type[Dynamics]
    discount: float
    horizon: int
    policies: Mapping[str, PolicyFactory] = field(default_factory=dict)
    role: RoleSpec | None = None
    equilibrium_gap: GapHook | None = None
    solution: SolutionHook | None = None
    report: ReportHook | None = None
    figure: FigureHook | None = None

    @property
    def name(self) -> str:
        return self.id.split("/")[-1]

    def group(self, name: str) -> GroupSpec:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(f"{self.name} has no group {name!r}; groups: {[g.name for g in self.groups]}")

    def policy(self, name: str, backend: Backend | str = "numpy") -> dict[str, GroupPolicy]:
        """A named fixed policy profile, one callable per group."""
        if name not in self.policies:
            raise KeyError(f"{self.name} has no policy {name!r}; named policies: {sorted(self.policies)}")
        return self.policies[name](self, get_backend(backend))

    @property
    def is_single_agent(self) -> bool:
        return self.role is not None or (len(self.groups) == 1 and self.groups[0].n_agents == 1)


def call_policy(policy: GroupPolicy, obs: Array, mask: Array | None) -> Array:
    """``policy(obs, mask)`` for a policy that declares ``uses_mask`` (and a mask exists), else ``policy(obs)``."""
    if mask is not None and getattr(policy, "uses_mask", False):
        return policy(obs, mask)
    return policy(obs)


def profile_actions(
    profile: Mapping[str, GroupPolicy], obs: Mapping[str, Array], masks: Callable[[], Mapping[str, Array]]
) -> dict[str, Array]:
    """Every group's actions from its policy; ``masks`` is called only if some policy uses them."""
    m = masks() if any(getattr(pol, "uses_mask", False) for pol in profile.values()) else {}
    return {g: call_policy(pol, obs[g], m.get(g)) for g, pol in profile.items()}


def mask_error(group: str, agent: int, env: int, head: int, index: int, allowed: np.ndarray) -> ActionError:
    """The error for an action its mask forbids; ``allowed`` is the head's mask row (booleans over its indices)."""
    idx = np.flatnonzero(np.asarray(allowed, dtype=bool))
    runs = np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1) if idx.size else []
    text = ", ".join(f"{r[0]}" if r.size == 1 else f"{r[0]}..{r[-1]}" for r in runs) or "none"
    return ActionError(
        f"group {group!r} agent {agent} (env {env}) chose index {index} for head {head}, which its "
        f"action mask forbids (allowed {text}); mask_violation='execute' would execute it"
    )


def broadcast_mask(mask: Array, ndim: int, xp: Any) -> Array:
    """Reshape an ``(n_envs,)`` mask to broadcast against an array of rank ``ndim``."""
    return xp.reshape(mask, (mask.shape[0],) + (1,) * (ndim - 1))


def where_state(mask: Array, new: Any, old: Any, xp: Any) -> Any:
    """Per-env select between two states (dataclasses of arrays)."""
    values = {}
    for f in dataclasses.fields(old):
        a, b = getattr(new, f.name), getattr(old, f.name)
        values[f.name] = xp.where(broadcast_mask(mask, a.ndim, xp), a, b)
    return type(old)(**values)


class BatchedEnv(PicklesNamespaces):
    """Steps ``n_envs`` copies of a task's economy; no Python loop over envs or agents.

    ``step`` validates actions (keys, shape, dtype, finiteness, bounds) and
    raises :class:`ActionError` naming the problem. An action that the action
    masks forbid is an error too unless ``mask_violation="execute"`` (see
    :data:`MASK_VIOLATIONS`): the check (:meth:`Dynamics.check_masks`) runs
    before the noise is drawn or the state changes. Episodes truncate at the
    task's horizon, or at ``horizon`` if given, which may only be shorter (a
    ``max_episode_steps`` cap), or terminate there, never both; the env does not reset itself, the
    adapters decide when, and stepping an env whose episode has ended is an error
    unless the caller discards what those envs return (``past_end=True``). ``shared_draws=k``: each run of k
    consecutive economies draws the same initial states and shocks (:class:`econbench.backend.SharedDrawsRNG`).
    ``block_envs``: step and observe in blocks of this many economies (default: the dynamics' ``block_bytes``
    choice on the host, else the whole batch); the results match the whole batch's to BLAS rounding.
    ``obs_blocks=True``: observations come as :class:`~econbench.obs_blocks.ObsBlocks`, the columns every agent
    of an economy shares stored once (where the dynamics provide :meth:`Dynamics.observe_blocks`; one flat
    block per group elsewhere); their ``assemble`` is the flat array the default mode returns.
    """

    def __init__(
        self,
        task: Task,
        n_envs: int = 1,
        backend: Backend | str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        seed: int | None = None,
        horizon: int | None = None,
        validate: bool = True,
        mask_violation: str = "error",
        shared_draws: int = 1,
        block_envs: int | None = None,
        obs_blocks: bool = False,
    ) -> None:
        if mask_violation not in MASK_VIOLATIONS:
            raise ValueError(f"mask_violation must be one of {MASK_VIOLATIONS}, got {mask_violation!r}")
        if not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        if horizon is not None and (not isinstance(horizon, (int, np.integer)) or horizon < 1):
            raise ValueError(f"horizon (max_episode_steps) must be a positive integer, got {horizon!r}")
        if horizon is not None and horizon > task.horizon:  # one episode length: the task's horizon parameter
            raise ValueError(
                f"{task.name}: horizon={horizon} exceeds the task's episode length {task.horizon}; "
                "BatchedEnv's horizon only ends episodes earlier (make_task(id, horizon=...) sets the length)"
            )
        self.task = task
        self.n_envs = int(n_envs)
        self.backend = get_backend(backend, dtype, device)
        self.xp = self.backend.xp
        self.horizon = int(horizon or task.horizon)
        self.validate = validate
        self.obs_blocks = bool(obs_blocks)
        self.mask_violation = mask_violation
        itemsize = np.dtype(self.backend.dtype_name).itemsize
        check_env_memory(task, self.n_envs, itemsize)
        if block_envs is not None and (not isinstance(block_envs, (int, np.integer)) or block_envs < 1):
            raise ValueError(f"block_envs must be a positive integer, got {block_envs!r}")
        self.dynamics = task.dynamics(task.params, self.backend)
        target = self.dynamics.block_bytes
        if block_envs is None:  # the dynamics' choice, on the host only: a GPU wants the whole batch in one kernel
            on_host = self.backend.device is None or str(self.backend.device) == "cpu"
            whole = target is None or not on_host
            block_envs = (
                self.n_envs if whole else blocks.block_size(self.n_envs, economy_bytes(task, itemsize)[1], target)
            )
        self.block_envs = min(int(block_envs), self.n_envs)
        self._split: dict[str, bool] = {}  # _blocked's decisions
        self._bounds = {g.name: self._device_bounds(g) for g in task.groups}
        discrete = [g for g in task.groups if isinstance(g.action, DiscreteSpec)]
        self._nvec = {g.name: self.backend.asarray(np.asarray(g.action.nvec), dtype=self.xp.int64) for g in discrete}
        self._head_bounds = {g.name: head_bounds(g.action.nvec) for g in discrete}
        self._masked = tuple(g for g in discrete if g.masked) if mask_violation == "error" else ()
        if not isinstance(shared_draws, (int, np.integer)) or shared_draws < 1 or self.n_envs % shared_draws:
            raise ValueError(f"shared_draws must be a positive divisor of n_envs={self.n_envs}, got {shared_draws!r}")
        self.shared_draws = int(shared_draws)
        self._rng = self._generator(seed)
        self.state: Any = None
        self.t: Array = None
        self.ended: Array = None  # (n_envs,) bool: the last step ended the episode (terminated or truncated)
        self._t_bound = 0  # host-side bound on every env's t: below the horizon no env can be truncated
        self._may_end = False  # the dynamics report terminations: any step may have ended an env

    @property
    def groups(self) -> tuple[GroupSpec, ...]:
        return self.task.groups

    def _generator(self, seed: int | None) -> Any:
        rng = self.backend.rng(seed)
        return rng if self.shared_draws == 1 else SharedDrawsRNG(rng, self.n_envs, self.shared_draws)

    def _device_bounds(self, g: GroupSpec) -> tuple[Any, Any] | None:
        """Scalar bounds when uniform (two reductions check them), else per-component arrays."""
        if isinstance(g.action, DiscreteSpec):
            return None
        low, high = g.action.bounds()
        if np.ptp(low) == 0 and np.ptp(high) == 0 and np.isfinite(low).all() and np.isfinite(high).all():
            return float(low.flat[0]), float(high.flat[0])
        return self.backend.asarray(low), self.backend.asarray(high)

    def _check_box(self, g: GroupSpec, a: Array) -> None:
        """Range and finiteness in the fewest passes: min and max propagate NaN, so one test covers both."""
        xp = self.xp
        low, high = self._bounds[g.name]
        if isinstance(low, float):
            ok = float(xp.min(a)) >= low and float(xp.max(a)) <= high
        else:
            ok = bool(xp.all(xp.isfinite(a))) and bool(xp.all((a >= low) & (a <= high)))
        if ok:
            return
        if not bool(xp.all(xp.isfinite(a))):
            raise ActionError(f"{self.task.name}: action for group {g.name!r} contains NaN or infinity")
        raise ActionError(
            f"{self.task.name}: action for group {g.name!r} is out of range [{g.action.low}, {g.action.high}] "
            f"(min {float(xp.min(a)):.6g}, max {float(xp.max(a)):.6g})"
        )

    def _in_range(self, a: Array, group: str) -> bool:
        """``0 <= a < nvec`` for every head of a discrete group's actions.

        Small batches: one elementwise comparison (fewest calls). Large ones:
        reductions, which read the array without writing a mask as big as it,
        the minimum against 0 and the maxima of :func:`head_bounds`' runs of heads.
        """
        xp = self.xp
        if math.prod(a.shape) < _REDUCE_FROM:
            return bool(xp.all((a >= 0) & (a < self._nvec[group])))
        if not bool(xp.min(a) >= 0):
            return False
        return all(bool(xp.max(a if heads is None else a[..., heads]) < n) for heads, n in self._head_bounds[group])

    def reset(self, seed: int | None = None, mask: Array | None = None) -> dict[str, Array]:
        """Draw initial states (all envs, or where ``mask`` is true); a seed restarts the stream."""
        if seed is not None:
            self._rng = self._generator(seed)
        fresh = self.dynamics.initial_state(self._rng, self.n_envs)
        zero_t = self.backend.zeros((self.n_envs,), dtype=self.xp.int64)
        if mask is None or self.state is None:
            self.state, self.t = fresh, zero_t
            self.ended = self.xp.zeros((self.n_envs,), dtype=self.xp.bool, device=self.backend.device)
            self._t_bound, self._may_end = 0, False
        else:
            mask = self.backend.asarray(mask, dtype=self.xp.bool)
            self.state = where_state(mask, fresh, self.state, self.xp)
            self.t = self.xp.where(mask, zero_t, self.t)
            self.ended = self.ended & ~mask
        return self.observe()

    def observe(self) -> dict[str, Any]:
        """Flat observations per group, or :class:`~econbench.obs_blocks.ObsBlocks` with ``obs_blocks=True``."""
        n, see = self.n_envs, self._observe_one
        if not self._blocked("observe", self.state):
            return see(self.state)
        return blocks.run(lambda s: see(blocks.take(self.state, s, n)), n, self.block_envs, self.xp)

    def _observe_one(self, state: Any) -> dict[str, Any]:
        if not self.obs_blocks:
            return self.dynamics.observe(state)
        parts = self.dynamics.observe_blocks(state)
        return as_blocks(self.dynamics.observe(state) if parts is None else parts)

    def _blocked(self, what: str, *trees: Any) -> bool:
        """Whether ``what`` ("observe", "step") runs in blocks: decided at its first call, as the structure of the
        state, noise and actions (every array split along the economies) is fixed by the task."""
        if self.block_envs >= self.n_envs:
            return False
        if what not in self._split:
            self._split[what] = all(blocks.splittable(x, self.n_envs) for x in trees)
        return self._split[what]

    def _step_dynamics(self, acts: Mapping[str, Array], noise: Any) -> StepOutput:
        """The dynamics' step over the batch, in blocks of ``block_envs`` economies (:mod:`econbench.blocks`)."""
        if not self._blocked("step", self.state, noise, dict(acts), self.t):
            return self.dynamics.step(self.state, acts, noise, self.t)
        n, take = self.n_envs, blocks.take

        def block(s: slice) -> StepOutput:
            return self.dynamics.step(take(self.state, s, n), take(dict(acts), s, n), take(noise, s, n), self.t[s])

        return blocks.run(block, n, self.block_envs, self.xp)

    def action_masks(self) -> dict[str, Array]:
        return self.dynamics.action_masks(self.state)

    def step(
        self, actions: Mapping[str, Array], past_end: bool = False, checked: Collection[str] = ()
    ) -> tuple[dict[str, Any], StepOutput, Array, Array]:
        """Advance every env one period.

        Returns ``(obs, out, terminated, truncated)`` where ``out`` carries the
        per-group rewards and the welfare. An env whose episode has ended must be
        reset first; ``past_end=True`` steps it anyway, for callers that discard
        what it returns (a vector env's next-step autoreset, fixed-length loops).
        ``checked``: groups whose actions the caller already passed through :meth:`check_values` (a role view
        checks its learner's first); only their shapes are checked again.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        # at most one reduction over n_envs flags, and none while no env can have ended
        may_have_ended = self._may_end or self._t_bound >= self.horizon
        if self.validate and not past_end and may_have_ended and bool(self.xp.any(self.ended)):
            ended = np.flatnonzero(self.backend.to_numpy(self.ended)).tolist()
            which = f"env {ended[0]}" if len(ended) == 1 else f"envs {ended[:8]}{'...' if len(ended) > 8 else ''}"
            raise RuntimeError(
                f"{self.task.name}: the episode of {which} has ended (terminated or truncated); "
                "reset it (reset(mask=...)) before stepping again"
            )
        acts = self.check_actions(actions, checked) if self.validate else dict(actions)
        if self._masked:
            self.check_masks(acts, past_end and may_have_ended)
        noise = self.dynamics.draw_noise(self._rng, self.n_envs)
        out = self._step_dynamics(acts, noise)
        self.state = out.state
        self.t = self.t + 1
        self._t_bound += 1
        truncated = self.t >= self.horizon
        if out.terminated is None:
            terminated = self.xp.zeros((self.n_envs,), dtype=self.xp.bool, device=self.backend.device)
            self.ended = truncated
        else:
            terminated = out.terminated
            truncated = truncated & ~terminated
            self.ended = terminated | truncated
            self._may_end = True
        return self.observe(), out, terminated, truncated

    def check_masks(self, actions: Mapping[str, Array], past_end: bool = False, where: Array | None = None) -> None:
        """With ``mask_violation="error"``, raise :class:`ActionError` if backend actions (as :meth:`check_actions`
        returns them) break a mask; the masked groups among ``actions`` are checked, at the ``(n_envs, n_agents)``
        entries ``where`` is true (all if None), except in ended envs when ``past_end``."""
        groups = tuple(g for g in self._masked if g.name in actions)
        if not groups:
            return
        if past_end and self.ended is not None:
            live = ~self.ended[:, None]
            where = live if where is None else where & live
        try:
            self.dynamics.check_masks(self.state, actions, self.t, groups, where)
        except ActionError as exc:
            raise ActionError(f"{self.task.name}: {exc}") from None

    def check_actions(self, actions: Mapping[str, Array], checked: Collection[str] = ()) -> dict[str, Array]:
        """Validate and move actions to the backend; raise :class:`ActionError` on bad input. Groups in ``checked``
        (values already checked, on the backend) get their shape checked only."""
        name = self.task.name
        if not isinstance(actions, Mapping):
            raise ActionError(
                f"{name}: actions must be a dict keyed by group {[g.name for g in self.groups]}, got {type(actions).__name__}"
            )
        expected = {g.name for g in self.groups}
        if set(actions) != expected:
            raise ActionError(
                f"{name}: action groups {sorted(actions)} do not match the task's groups {sorted(expected)}"
            )
        out = {}
        for g in self.groups:
            a = actions[g.name]
            shape = (self.n_envs, g.n_agents, *g.action.shape)
            got = tuple(a.shape) if hasattr(a, "shape") else np.shape(a)
            if got != shape:
                raise ActionError(
                    f"{name}: action for group {g.name!r} has shape {got}, expected {shape} = (n_envs, n_agents, *action_shape)"
                )
            out[g.name] = a if g.name in checked else self.check_values(g, a)
        return out

    def check_values(self, g: GroupSpec, a: Array) -> Array:
        """Dtype, finiteness and range of actions of group ``g`` with any leading axes (some of its agents: a
        role view checks its learner's before the other agents' policies run); returns them on the backend."""
        name = self.task.name
        kind = dtype_kind(a)
        dtype = getattr(a, "dtype", type(a).__name__)
        if isinstance(g.action, BoxSpec):
            if kind != "f":
                raise ActionError(f"{name}: action for group {g.name!r} must be floating point, got dtype {dtype}")
            a = self.backend.asarray(a)
            self._check_box(g, a)
        else:
            if kind not in ("i", "u"):
                raise ActionError(f"{name}: action for group {g.name!r} must be integer, got dtype {dtype}")
            a = self.backend.asarray(a, dtype=self.xp.int64)
            if g.name not in self.dynamics.unchecked_ranges and not self._in_range(a, g.name):
                raise ActionError(
                    f"{name}: action for group {g.name!r} is out of range [0, nvec) with nvec={g.action.nvec}"
                )
        return a


def economy_bytes(task: Task, itemsize: int) -> tuple[float, float]:
    """``(fixed, per economy)`` bytes of a batch: the parameters' own estimate (``memory_bytes``, where the task's
    parameter class has one) plus what the groups' specs imply: observations (this step's and the last), actions,
    masks and rewards."""
    fixed, per_economy = getattr(task.params, "memory_bytes", lambda: (0.0, 0.0))()
    for g in task.groups:
        obs_item = np.dtype(g.observation.dtype).itemsize if g.observation.dtype else itemsize
        obs = math.prod(g.observation.shape) * obs_item
        mask = sum(g.action.nvec) if g.masked else 0  # type: ignore[union-attr]
        per_economy += g.n_agents * (2 * obs + 8 * math.prod(g.action.shape) + mask + itemsize)
    return fixed, per_economy


def check_env_memory(task: Task, n_envs: int, itemsize: int) -> None:
    """Refuse ``n_envs`` economies that would not fit this machine, before the dynamics allocate anything."""
    fixed, per_economy = economy_bytes(task, itemsize)
    check_memory(
        fixed + n_envs * per_economy, f"n_envs={n_envs} economies of {task.name} ({human_bytes(per_economy)} each)"
    )


def head_bounds(nvec: tuple[int, ...]) -> list[tuple[slice | None, int]]:
    """``(heads, n)`` pairs whose maxima must stay below ``n`` for every head ``j`` to satisfy ``a_j < nvec[j]``.

    First all heads (``None``) against the largest size, then each contiguous run
    of heads with a smaller size: one reduction per run instead of a comparison
    per element.
    """
    top = max(nvec)
    out: list[tuple[slice | None, int]] = [(None, top)]
    start = 0
    for j in range(1, len(nvec) + 1):
        if j == len(nvec) or nvec[j] != nvec[start]:
            if nvec[start] < top:
                out.append((slice(start, j), nvec[start]))
            start = j
    return out


def dtype_kind(a: Any) -> str:
    """NumPy-style dtype kind ('f', 'i', 'u', 'b', ...) for any backend's array."""
    dt = getattr(a, "dtype", None)
    if dt is None:
        return np.asarray(a).dtype.kind
    try:
        return np.dtype(dt).kind
    except TypeError:
        text = str(dt)  # torch.float32, array_api_strict float64, ...
        if "float" in text:
            return "f"
        if "uint" in text:
            return "u"
        if "int" in text:
            return "i"
        if "bool" in text:
            return "b"
        return "O"
