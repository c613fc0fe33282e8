"""Evaluation under a task card's protocol.

Every policy is scored on the same initial states and shocks: one batch of
``episodes_per_seed`` economies per evaluation seed, with the env's generator
seeded by it. Policies draw no randomness from the env, so two policies see
common random numbers and their difference has little noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from econbench.backend import Backend, get_backend
from econbench.core import Array, BatchedEnv, DiscreteSpec, GroupPolicy, Task, call_policy, profile_actions
from econbench.metrics.stats import bootstrap_ci
from econbench.registry import make_task

LearnerPolicy = Callable[[np.ndarray], np.ndarray]
"""A single-agent policy on host arrays: ``(n_envs, *obs_shape) -> (n_envs, *action_shape)``."""
PolicySpec = str | Path | LearnerPolicy | Mapping[str, GroupPolicy]


@dataclass
class Rollout:
    """Discounted returns of one batch of episodes, and optionally the trajectories."""

    returns: dict[str, np.ndarray]  # group -> (n_envs, n_agents)
    welfare: np.ndarray  # (n_envs,)
    obs: dict[str, np.ndarray] = field(default_factory=dict)  # group -> (T+1, n_envs, n_agents, obs_dim)
    actions: dict[str, np.ndarray] = field(default_factory=dict)  # group -> (T, n_envs, n_agents, act_dim)
    rewards: dict[str, np.ndarray] = field(default_factory=dict)  # group -> (T, n_envs, n_agents)


def rollout(
    task: Task,
    profile: Mapping[str, GroupPolicy],
    n_envs: int,
    seed: int,
    backend: Backend | str = "numpy",
    record: bool = False,
    override: Callable[[int, dict[str, Array], dict[str, Array]], dict[str, Array]] | None = None,
) -> Rollout:
    """Run ``n_envs`` episodes to the horizon under a policy profile.

    ``override(t, obs, actions)`` may replace actions before each step (a
    deviating agent in best-response checks).
    """
    env = BatchedEnv(task, n_envs, backend, seed=seed)
    b, xp = env.backend, env.xp
    obs = env.reset()
    returns = {g.name: b.zeros((n_envs, g.n_agents)) for g in task.groups}
    welfare = b.zeros((n_envs,))
    alive = b.asarray(np.ones(n_envs), dtype=xp.bool)
    disc = 1.0
    trace_obs: dict[str, list[np.ndarray]] = {g.name: [] for g in task.groups}
    trace_act: dict[str, list[np.ndarray]] = {g.name: [] for g in task.groups}
    trace_rew: dict[str, list[np.ndarray]] = {g.name: [] for g in task.groups}
    for t in range(env.horizon):
        actions = profile_actions(profile, obs, env.action_masks)
        if override is not None:
            actions = override(t, obs, actions)
        if record:
            for g in task.groups:
                trace_obs[g.name].append(b.to_numpy(obs[g.name]))
                trace_act[g.name].append(b.to_numpy(actions[g.name]))
        obs, out, term, trunc = env.step(actions, past_end=True)  # envs that ended count no more (alive)
        live = xp.astype(alive, b.dtype)
        for g in task.groups:
            returns[g.name] = returns[g.name] + disc * out.rewards[g.name] * live[:, None]
            if record:
                trace_rew[g.name].append(b.to_numpy(out.rewards[g.name]))
        welfare = welfare + disc * out.welfare * live
        alive = alive & ~term
        disc *= task.discount
        if not bool(xp.any(alive)):
            break
    result = Rollout({k: b.to_numpy(v) for k, v in returns.items()}, b.to_numpy(welfare))
    if record:
        for g in task.groups:
            trace_obs[g.name].append(b.to_numpy(obs[g.name]))
        result.obs = {k: np.stack(v) for k, v in trace_obs.items()}
        result.actions = {k: np.stack(v) for k, v in trace_act.items()}
        result.rewards = {k: np.stack(v) for k, v in trace_rew.items()}
    return result


def _role_profile(task: Task, learner: GroupPolicy, backend: Backend) -> dict[str, GroupPolicy]:
    """Everyone follows the role's fixed policies except the learner, whose actions come from ``learner``.

    ``learner`` maps the learner group's observations (and masks, if it uses
    them) to that group's actions; only the learner's row is kept.
    """
    role = task.role
    if role is None:
        return {task.groups[0].name: learner}
    xp = backend.xp
    others = task.policy(role.others, backend)
    is_me = backend.asarray(np.arange(task.group(role.group).n_agents) == role.agent, dtype=xp.bool)[None, :, None]
    base = others[role.group]

    def mixed(obs: Array, mask: Array | None = None) -> Array:
        return xp.where(is_me, call_policy(learner, obs, mask), call_policy(base, obs, mask))

    mixed.uses_mask = getattr(learner, "uses_mask", False) or getattr(base, "uses_mask", False)  # type: ignore[attr-defined]
    return {**others, role.group: mixed}


def load_policy_folder(path: str | Path, task: Task, backend: Backend) -> tuple[str, dict[str, GroupPolicy]]:
    """A policy folder (:mod:`econbench.policies`: data only, never pickles) as a display name and a full profile."""
    from econbench import policies

    pf = policies.load(path)
    profile = policies.group_policies(pf, task, backend)
    if task.is_single_agent:
        learner = task.role.group if task.role else task.groups[0].name
        if set(profile) != {learner}:
            raise policies.PolicyFileError(
                f"{pf.folder}: {task.name} is a single-agent view; the policy acts for "
                f"its learner ({learner!r}) only, not {sorted(profile)}"
            )
        return pf.name, _role_profile(task, profile[learner], backend)
    missing = [g.name for g in task.groups if g.name not in profile]
    if missing:
        raise policies.PolicyFileError(f"{pf.folder}: no policy for group(s) {missing} of {task.name}")
    return pf.name, profile


def _single(policy: LearnerPolicy, task: Task, backend: Backend) -> GroupPolicy:
    """Lift a host-side single-agent policy to a group policy acting for the learner."""
    agent = task.role.agent if task.role else 0
    g = task.group(task.role.group) if task.role else task.groups[0]
    dtype = backend.xp.int64 if isinstance(g.action, DiscreteSpec) else backend.dtype  # discrete heads stay integers
    if backend.name == "numpy":
        return lambda obs: np.asarray(policy(np.asarray(obs[:, agent])), dtype=dtype)[:, None]
    return lambda obs: backend.asarray(policy(backend.to_numpy(obs[:, agent])), dtype=dtype)[:, None]


def resolve_policy(
    task: Task, policy: PolicySpec, backend: Backend | str = "numpy"
) -> tuple[str, dict[str, GroupPolicy]]:
    """A display name and a full profile (one callable per group) for any policy spec.

    Strings name a fixed policy of the task (``"reference"`` is the card's
    reference policy) or a policy folder (:mod:`econbench.policies`); in role
    views a named policy drives the learner only, the others keep the role's
    policy.
    """
    b = get_backend(backend)
    if isinstance(policy, Mapping):
        return "custom", dict(policy)
    if isinstance(policy, (str, Path)):
        name = str(policy)
        if name == "reference":
            name = task.card["protocol"]["reference_policy"]
        if name in task.policies:
            named = task.policy(name, b)
            if task.role is None:
                return name, named
            return name, _role_profile(task, named[task.role.group], b)
        if Path(name).exists():
            return load_policy_folder(name, task, b)
        raise ValueError(
            f"{task.name}: {name!r} is neither a named policy {sorted(task.policies)} nor an existing policy folder"
        )
    if callable(policy):
        if not task.is_single_agent:
            raise TypeError(f"{task.name}: pass a dict of group policies for a multi-agent task")
        return getattr(policy, "__name__", "callable"), _role_profile(task, _single(policy, task, b), b)
    raise TypeError(f"unsupported policy spec {policy!r}")


@dataclass
class EvalResult:
    """Per-episode discounted scores under the protocol, grouped by evaluation seed."""

    task_id: str
    policy: str
    seeds: list[int]
    scores: np.ndarray  # (n_seeds, episodes): the card's score per episode
    welfare: np.ndarray  # (n_seeds, episodes)
    returns: dict[str, np.ndarray]  # group -> (n_seeds, episodes, n_agents)

    @property
    def mean(self) -> float:
        return float(self.scores.mean())

    @property
    def ci(self) -> tuple[float, float]:
        strata = np.repeat(np.arange(self.scores.shape[0]), self.scores.shape[1])
        return bootstrap_ci(self.scores.ravel(), strata)

    def per_seed(self) -> np.ndarray:
        return self.scores.mean(axis=1)


def score_of(task: Task, run: Rollout) -> np.ndarray:
    """The card's score per episode: the learner's return in role views, else the card's
    ``score_of``: ``"welfare"`` or the mean return over a group's agents."""
    if task.role is not None:
        return run.returns[task.role.group][:, task.role.agent]
    target = task.card["protocol"].get("score_of", task.groups[0].name)
    return run.welfare if target == "welfare" else agent_mean(run.returns[target])


def agent_mean(x: np.ndarray) -> np.ndarray:
    """The mean over the agent axis of ``(n, agents)``: a matrix-vector product, as NumPy reduces a short last axis
    row by row (the vector envs score every step: 57 us at 4,096 economies of 2 agents, 3 us this way; equal to
    the reduction to rounding)."""
    return x @ np.full(x.shape[1], 1.0 / x.shape[1])


def evaluate(
    task: Task | str,
    policy: PolicySpec,
    backend: Backend | str = "numpy",
    seeds: list[int] | None = None,
    episodes: int | None = None,
    progress: bool = False,
    **params: Any,
) -> EvalResult:
    """Score a policy under the card's protocol (its seeds and episodes unless overridden)."""
    task = make_task(task, **params) if isinstance(task, str) else task
    proto = task.card["protocol"]
    seeds = list(proto["eval_seeds"] if seeds is None else seeds)
    episodes = int(proto["episodes_per_seed"] if episodes is None else episodes)
    name, profile = resolve_policy(task, policy, backend)
    runs = [
        rollout(task, profile, episodes, s, backend)
        for s in tqdm(seeds, desc=f"{task.name} {name}", disable=not progress, leave=False)
    ]
    returns = {g.name: np.stack([r.returns[g.name] for r in runs]) for g in task.groups}
    scores = np.stack([score_of(task, r) for r in runs])
    return EvalResult(task.id, name, seeds, scores, np.stack([r.welfare for r in runs]), returns)
