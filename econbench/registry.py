"""Task registry: builds tasks from their cards and registers them with Gymnasium."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from econbench.cards import NAMESPACE, load_card, short_name, task_names
from econbench.core import RoleSpec, Task


def _import(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def make_task(task_id: str | Task, others: str | None = None, **overrides: Any) -> Task:
    """Build a task from its card; keyword arguments override the card's parameters.

    ``others`` names the fixed policy of the non-learning agents in a role view.
    A :class:`Task` passes through unchanged (tasks built in code, without a card).
    ``horizon``, the episode length, is a parameter of every card but those whose model
    fixes it (a model's last year): they accept only that length, so that every entry point
    takes the keyword and none runs an episode of another length.
    """
    if "mask_violation" in overrides:
        raise TypeError(
            "mask_violation is an option of the env, not a task parameter: BatchedEnv(task, "
            "mask_violation=...), gym.make(id, mask_violation=...), econbench.make_batched(...)"
        )
    if isinstance(task_id, Task):
        if others is not None or overrides:
            raise TypeError("parameters and 'others' apply to task IDs, not to a built Task")
        return task_id
    card = load_card(task_id)
    role = None
    if "role" in card:
        role = RoleSpec(**card["role"])
        if others is not None:
            role = RoleSpec(role.group, role.agent, others)
    elif others is not None:
        raise TypeError(f"{short_name(task_id)} is not a role view; 'others' applies to role views only")
    fixed_horizon = (
        overrides.pop("horizon") if "horizon" in overrides and "horizon" not in card.get("params", {}) else None
    )
    factory = _import(card["factory"])
    task: Task = factory(card, **overrides)
    if fixed_horizon is not None and fixed_horizon != task.horizon:
        raise ValueError(
            f"{task.name}: its model fixes the episode length at {task.horizon} steps, so horizon={fixed_horizon!r} "
            "cannot change it (max_episode_steps ends episodes earlier)"
        )
    if role is not None:
        task.group(role.group)  # fail early on a card naming a missing group
        if not 0 <= role.agent < task.group(role.group).n_agents:
            raise ValueError(f"{task.name}: role agent {role.agent} out of range for group {role.group!r}")
        if isinstance(role.others, str) and role.others not in task.policies:
            raise KeyError(
                f"{task.name}: unknown policy {role.others!r} for the other agents; named policies: {sorted(task.policies)}"
            )
        task = Task(**{**task.__dict__, "role": role})
    return task


def task_ids() -> list[str]:
    return [f"{NAMESPACE}/{name}" for name in task_names()]


def register_all() -> None:
    """Register every card's ID with Gymnasium: a single-env and a native vector entry point.

    No ``TimeLimit``: the env ends its episodes at the task's ``horizon`` itself, so
    ``gym.make(id, horizon=N)`` runs N steps (a registered limit would cut it at the
    card's), and ``max_episode_steps`` keeps Gymnasium's meaning, a cap that only ends
    episodes earlier. The length is in the env's ``metadata["horizon"]``.
    """
    import gymnasium as gym

    for task_id in task_ids():
        if task_id in gym.registry:
            continue
        gym.register(
            id=task_id,
            entry_point="econbench.adapters.gymnasium:EconEnv",
            vector_entry_point="econbench.adapters.vector:EconVectorEnv",
            kwargs={"task_id": task_id},
        )
