"""PettingZoo ``ParallelEnv`` view: one economy, one name per agent (``firm_0``, ``firm_1``, ...)."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from econbench.adapters.views import (
    MaskedDiscrete,
    MaskedMultiDiscrete,
    action_space,
    episode_cap,
    observation_space,
    publish_mask,
)
from econbench.core import ActionError, BatchedEnv, DiscreteSpec, GroupSpec, Task
from econbench.curriculum import Point, set_curriculum
from econbench.registry import make_task


def _game_of(task_id: str) -> str | None:
    """The ID a role view's card ``extends``: its game."""
    from econbench.cards import NAMESPACE, _raw, short_name

    parent = _raw(short_name(task_id)).get("extends")
    return None if parent is None else f"{NAMESPACE}/{parent}"


class EconParallelEnv(ParallelEnv):
    """All agents of every group act at once; each gets its own reward.

    The episode length is the task's ``horizon`` parameter (``parallel_env(id, horizon=N)``);
    ``max_cycles``, PettingZoo's name for it, caps it as ``max_episode_steps`` does in
    Gymnasium (:func:`~econbench.adapters.views.episode_cap`). When the episode ends every
    agent is done and ``agents`` becomes empty.
    """

    metadata = {"render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        task_id: str | Task,
        max_cycles: int | None = None,
        backend: str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        render_mode: str | None = None,
        mask_violation: str = "error",
        **params: Any,
    ) -> None:
        task = make_task(task_id, **params)
        if task.role is not None:  # every agent acting is the game, not this view of one of them
            game = _game_of(task.id) if isinstance(task_id, str) else None
            raise ValueError(
                f"{task.name} is a single-agent view ({task.role.group} agent {task.role.agent} learns, the others "
                f"play {task.role.others!r}): use gym.make({task.id!r}) for it"
                + (f", or parallel_env({game!r}) for the whole game" if game else "")
            )
        self.task = task
        cap = episode_cap(task, max_cycles)
        self.batched = BatchedEnv(task, 1, backend, dtype, device, horizon=cap, mask_violation=mask_violation)
        self.metadata = {
            **self.metadata,
            "name": task.name,
            "discount": task.discount,
            "task_id": task.id,
            "horizon": self.batched.horizon,
        }
        self.render_mode = render_mode
        self.possible_agents = [a for g in task.groups for a in g.agent_ids()]
        self.agents: list[str] = []
        self._where = {a: (g, i) for g in task.groups for i, a in enumerate(g.agent_ids())}
        dt = np.dtype(self.batched.backend.dtype_name)
        self.observation_spaces = {a: observation_space(g, (), dt) for a, (g, _) in self._where.items()}
        self.action_spaces = {a: self._agent_action_space(g, dt) for a, (g, _) in self._where.items()}

    @staticmethod
    def _agent_action_space(g: GroupSpec, dtype: Any) -> spaces.Space:
        """``Discrete(n)`` for one-head discrete groups; for several heads a ``MultiDiscrete`` that also
        samples under the flat mask the observations carry (PettingZoo passes it as it is). Masked ones
        sample under the agent's current mask when given none."""
        if isinstance(g.action, DiscreteSpec) and len(g.action.nvec) == 1:
            n = g.action.nvec[0]
            return MaskedDiscrete(n) if g.masked else spaces.Discrete(n)
        if isinstance(g.action, DiscreteSpec):
            return MaskedMultiDiscrete(np.asarray(g.action.nvec))
        return action_space(g, (), dtype)

    @functools.cache  # noqa: B019 - PettingZoo's API test wants the same object every call
    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def _per_agent(self, obs: dict[str, Any]) -> dict[str, Any]:
        b = self.batched.backend
        host = {g.name: b.to_numpy(obs[g.name])[0] for g in self.task.groups}
        masks = {k: b.to_numpy(v)[0].astype(np.int8) for k, v in self.batched.action_masks().items()}
        out = {}
        for agent in self.agents:
            g, i = self._where[agent]
            o = host[g.name][i].copy()
            if g.masked:
                out[agent] = {"observation": o, "action_mask": masks[g.name][i].copy()}
                publish_mask(self.action_spaces[agent], masks[g.name][i])
            else:
                out[agent] = o
        return out

    def set_curriculum(self, iteration: float, name: str | None = None) -> Point:
        """Apply the card's curriculum ``name`` (default: the card's) at ``iteration``; see :mod:`econbench.curriculum`."""
        return set_curriculum(self.batched, iteration, name)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is None and self.batched.state is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        obs = self.batched.reset(seed=seed)
        self.agents = list(self.possible_agents)
        return self._per_agent(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        if not self.agents:
            raise RuntimeError("the episode is over; call reset()")
        if not isinstance(actions, Mapping):
            raise ActionError(
                f"{self.task.name}: actions must be a dict keyed by agent name, got {type(actions).__name__}"
            )
        if set(actions) != set(self.agents):
            missing, extra = sorted(set(self.agents) - set(actions)), sorted(map(str, set(actions) - set(self.agents)))
            raise ActionError(f"{self.task.name}: actions missing for {missing}, unknown agents {extra}")
        joint = {
            g.name: np.stack([self._agent_action(a, g, actions[a]) for a in g.agent_ids()])[None]
            for g in self.task.groups
        }
        obs, out, term, trunc = self.batched.step(joint)
        b = self.batched.backend
        rewards = {g.name: b.to_numpy(out.rewards[g.name])[0] for g in self.task.groups}
        ended_t, ended_f = bool(b.to_numpy(term)[0]), bool(b.to_numpy(trunc)[0])
        observations = self._per_agent(obs)
        rew = {a: float(rewards[self._where[a][0].name][self._where[a][1]]) for a in self.agents}
        terms = {a: ended_t for a in self.agents}
        truncs = {a: ended_f for a in self.agents}
        infos = {a: {} for a in self.agents}
        if ended_t or ended_f:
            self.agents = []
        return observations, rew, terms, truncs, infos

    def _agent_action(self, agent: str, g: GroupSpec, action: Any) -> np.ndarray:
        """One agent's action, its dtype checked on its own (stacking would turn one agent's ``True`` into the
        others' float); a scalar fits a single-value action only."""
        a = np.asarray(action)
        kind, name = a.dtype.kind, self.task.name
        if isinstance(g.action, DiscreteSpec) and kind not in ("i", "u"):
            raise ActionError(
                f"{name}: action of {agent} must be integer (indices into {g.action.nvec}), got dtype {a.dtype}"
            )
        if not isinstance(g.action, DiscreteSpec) and kind != "f":
            raise ActionError(f"{name}: action of {agent} must be floating point, got dtype {a.dtype}")
        if a.shape != g.action.shape:
            if a.ndim == 0 and math.prod(g.action.shape) == 1:
                return a.reshape(g.action.shape)
            heads = f" (one value per head of {g.action.nvec})" if isinstance(g.action, DiscreteSpec) else ""
            raise ActionError(f"{name}: action of {agent} has shape {a.shape}, expected {g.action.shape}{heads}")
        return a

    def state(self) -> np.ndarray:
        """The concatenated observations of all agents (a centralised critic's input)."""
        obs = self.batched.observe()
        return np.concatenate([self.batched.backend.to_numpy(obs[g.name])[0].ravel() for g in self.task.groups])
