"""Native Gymnasium ``VectorEnv`` over the batched core (``gym.make_vec``'s vector entry point).

No sub-environments and no Python loop over them: one :class:`BatchedEnv`
steps every economy. Autoreset follows ``metadata["autoreset_mode"]``:
``NEXT_STEP`` (default, as Gymnasium's own ``CartPoleVectorEnv``), ``SAME_STEP``
(terminal observations in ``infos["final_obs"]``) or ``DISABLED`` (the caller
resets with ``options={"reset_mask": mask}``).

Episode ends carry the return the benchmark scores, discounted at
``metadata["discount"]``: ``infos["discounted_episode"] = {"r", "l", "t"}`` arrays
and the mask ``infos["_discounted_episode"]``, as Gymnasium's vector
``RecordEpisodeStatistics`` writes ``"episode"`` (:mod:`econbench.adapters.episode`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from econbench.adapters.episode import DiscountedEpisodes, scored_reward
from econbench.adapters.views import GameView, Others, RoleView, make_view
from econbench.core import Task
from econbench.curriculum import Point, set_curriculum


class EconVectorEnv(VectorEnv):
    """``num_envs`` economies stepped as one batch; spaces as in :class:`~econbench.adapters.gymnasium.EconEnv`."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        task_id: str | Task,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        backend: str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        others: Others = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        self.view: GameView | RoleView = make_view(
            task_id, num_envs, backend, dtype, device, max_episode_steps=max_episode_steps, others=others, **params
        )
        self.task = self.view.task
        self.num_envs = num_envs
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {
            **self.metadata,
            "autoreset_mode": self.autoreset_mode,
            "discount": self.task.discount,
            "task_id": self.task.id,
            "horizon": self.view.batched.horizon,  # min(the task's horizon, max_episode_steps)
        }
        self.render_mode = render_mode
        self.single_observation_space = self.view.observation_space
        self.single_action_space = self.view.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._done = np.zeros(num_envs, dtype=bool)
        self._started = False
        self._episodes = DiscountedEpisodes(num_envs, self.task.discount)

    def set_curriculum(self, iteration: float, name: str | None = None) -> Point:
        """Apply the card's curriculum ``name`` (default: the card's) at ``iteration``; see :mod:`econbench.curriculum`."""
        return set_curriculum(self.view.batched, iteration, name)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        mask = None if options is None else options.get("reset_mask")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (self.num_envs,) or not mask.any():
                raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},) with a True entry")
            if not self._started:
                raise RuntimeError("reset() without a mask must come first")
        if seed is None and not self._started:
            seed = int(self.np_random.integers(2**31))
        obs = self.view.reset(seed=seed, mask=mask)
        self._started = True
        self._done = np.zeros(self.num_envs, dtype=bool) if mask is None else self._done & ~mask
        self._episodes.restart(mask)
        return obs, {}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self.autoreset_mode == AutoresetMode.DISABLED and self._done.any():
            raise RuntimeError(
                f"envs {np.flatnonzero(self._done).tolist()} are done; reset them with options={{'reset_mask': mask}}"
            )
        # next-step autoreset steps the finished envs once more and replaces what they return by a reset
        next_step = self.autoreset_mode == AutoresetMode.NEXT_STEP
        obs, reward, term, trunc, info = self.view.step(actions, past_end=next_step)
        reward = reward.astype(np.float64, copy=False)
        infos: dict[str, Any] = {}
        scored = scored_reward(self.task, reward, info.get("rewards"))
        if "rewards" in info:
            infos = {"rewards": info["rewards"], "_rewards": np.ones(self.num_envs, dtype=bool)}
        done = term | trunc
        if self.autoreset_mode == AutoresetMode.NEXT_STEP and self._done.any():
            restarted = self._done
            obs = self.view.reset(mask=restarted)
            reward = np.where(restarted, 0.0, reward)
            term, trunc = term & ~restarted, trunc & ~restarted
            done = term | trunc
        elif self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            final = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(done):  # only at episode ends: rare, so a loop over the few is fine
                final[i] = _index(obs, i)
            infos["final_obs"], infos["_final_obs"] = final, done.copy()
            obs = self.view.reset(mask=done)
        counted = ~self._done if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        ended = self._episodes.step(scored, done, counted)
        if ended is not None:
            infos.update(ended.vector_info())
        self._done = done
        return obs, reward, term, trunc, infos


def _index(x: Any, i: int) -> Any:
    return {k: _index(v, i) for k, v in x.items()} if isinstance(x, dict) else x[i].copy()


def make_vec(task_id: str, num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    """Shorthand for ``gym.make_vec(task_id, num_envs, vectorization_mode="vector_entry_point")``."""
    return gym.make_vec(task_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
