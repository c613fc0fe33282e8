"""Trained best-response gap: freeze every group but one, keep training that one for a fixed budget.

The AI Economist's RBC analysis measures equilibrium quality this way: if one
agent type, trained further against the others' frozen policies, gains a lot,
the profile was far from an equilibrium. The gain is an estimate (a budgeted
best response is not the best response), reported with an interval over
training seeds, and it is the gap method for tasks without an exact one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from econbench.backend import get_backend
from econbench.core import call_policy
from econbench.metrics.evaluate import evaluate
from econbench.metrics.gaps import GapResult
from econbench.registry import make_task


def _profile(
    task_id: str, policy: str, deterministic: bool = True
) -> tuple[Any, dict[str, Any], str | None, dict[str, Any]]:
    """The task (on the policy's parameters), the profile, the folder it came from (None for named policies) and
    the task-parameter overrides it trained with.

    A policy folder is read as data (:mod:`econbench.policies`); sampled play needs the run's ``checkpoint.pt``
    (read with torch's weights-only loader by the trainer).
    """
    if not Path(policy).exists():
        task = make_task(task_id)
        return task, task.policy(policy), None, {}
    if not deterministic:
        from econbench.learn.runs import load_profile, run_params

        task, profile = load_profile(policy, deterministic)
        params = run_params(policy)
    else:
        from econbench import policies
        from econbench.metrics.evaluate import load_policy_folder

        pf = policies.load(policy)
        params = dict(pf.spec.params)
        task = make_task(pf.spec.task_id, **params)
        profile = load_policy_folder(policy, task, get_backend("numpy"))[1]
    if task.id != make_task(task_id).id:
        raise ValueError(f"{policy} was trained on {task.id}, not {task_id}")
    return task, profile, policy, params


def trained_best_response_gap(
    task_id: str,
    policy: str,
    group: str,
    timesteps: int,
    seeds: Sequence[int] = (0, 1, 2),
    n_envs: int | None = None,
    num_steps: int | None = None,
    episodes: int | None = None,
    workdir: str | Path | None = None,
    agent: int | None = None,
    sampled: bool = False,
    **ppo: Any,
) -> GapResult:
    """Gain of ``group`` after ``timesteps`` more steps of shared-parameter PPO against the frozen others.

    ``policy`` is a named policy of the task or a run folder of shared PPO
    (:mod:`econbench.learn.shared_ppo`); from a run folder the group restarts from its
    trained networks. With ``agent`` only that agent deviates and its peers
    keep their policy (a unilateral deviation: the right test when the task
    has one group, as the oligopoly); otherwise the whole group retrains, as
    the AI Economist's analysis does for agent types. ``gains[s, i]`` is agent
    i's mean gain over the protocol's episodes for training seed s, so
    ``epsilon_ci`` is an interval over seeds. ``sampled``: trained policies act
    by sampling, before and after (upstream's RBC analysis), with torch seeded
    per evaluation; give ``episodes`` enough for the sampling noise. ``ppo``: further
    :class:`~econbench.learn.config.SharedPPOConfig` settings (e.g. ``critic_warmup=0``).
    """
    from econbench.learn import shared_ppo
    from econbench.learn.config import SharedPPOConfig
    from econbench.learn.runs import profile_of

    task, profile, run, params = _profile(task_id, policy, deterministic=not sampled)
    task.group(group)  # a clear KeyError for an unknown group
    if sampled:
        import torch

        torch.manual_seed(12345)
    base = evaluate(task, profile, episodes=episodes)
    base_values = base.returns[group].mean(axis=(0, 1))  # (n_agents,)
    gains = []
    with tempfile.TemporaryDirectory() if workdir is None else _keep(workdir) as out:
        for seed in seeds:
            given: dict[str, Any] = {
                "learn": [group],
                "fixed": run or policy,
                "seed": seed,
                "total_timesteps": timesteps,
                "out": str(out),
                "run_name": f"br_{group}_seed{seed}",
                "skip_eval": True,
            }
            if n_envs is not None:  # otherwise the task's settings in econbench/learn/hyperparams/shared_ppo.toml
                given["n_envs"] = n_envs
            if num_steps is not None:
                given["num_steps"] = num_steps
            if run is not None:  # on the run's task parameters, from its networks where the trainer's state is there
                if (Path(run) / "checkpoint.pt").is_file():
                    given["init"] = run
                given["params"] = dict(params)
            if agent is not None:
                given["deviate"] = agent
            if sampled and run is not None:  # train against the others as they are measured: sampling
                given["fixed_sampled"] = True
            trained = shared_ppo.train(SharedPPOConfig.for_task(task.id, **{**given, **ppo}))
            deviated = profile_of(task, str(trained), deterministic=not sampled)
            if sampled:
                torch.manual_seed(12345)
            after = evaluate(task, {**profile, group: _only(agent, deviated[group], profile[group])}, episodes=episodes)
            gain = after.returns[group].mean(axis=(0, 1)) - base_values
            gains.append(gain if agent is None else np.where(np.arange(gain.size) == agent, gain, 0.0))
    who = group if agent is None else f"agent {agent} of {group}"
    method = (
        f"trained best response: {who} retrained alone with shared-parameter PPO for {timesteps:,} steps"
        f"{' from the run' if run else ' from scratch'}, {len(seeds)} seeds (interval over seeds)"
        f"{', policies sampled' if sampled else ''}"
    )
    values = np.broadcast_to(base_values, (len(seeds), base_values.size)).copy()
    return GapResult(task.id, Path(policy).name if run else policy, group, method, np.stack(gains), values)


def _only(agent: int | None, learned: Any, base: Any) -> Any:
    """The group's policy with the learned actions for ``agent`` only (all agents when None)."""
    if agent is None:
        return learned

    def policy(obs: Any, mask: Any = None) -> Any:
        out = np.array(call_policy(base, obs, mask), copy=True)
        out[:, agent] = np.asarray(call_policy(learned, obs, mask))[:, agent]
        return out

    policy.uses_mask = getattr(learned, "uses_mask", False) or getattr(base, "uses_mask", False)  # type: ignore[attr-defined]
    return policy


class _keep:
    """A context manager yielding a folder that outlives it (``workdir``: keep the best-response runs)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        return str(self.path)

    def __exit__(self, *exc: object) -> None:
        return None
