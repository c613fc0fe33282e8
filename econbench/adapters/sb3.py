"""Stable-Baselines3 ``VecEnv`` over the batched core.

SB3 2.9 refuses Gymnasium vector envs, and wrapping ``n`` single envs in a
``DummyVecEnv`` would bring back the Python loop the core avoids. This adapter
speaks SB3's protocol directly: same-step reset with
``infos[i]["terminal_observation"]`` and ``TimeLimit.truncated``, seeds from
``venv.seed``. Single-agent views only (planner and role IDs).

With ``normalize_actions=True`` the policy acts in ``[-1, 1]`` and the adapter
maps actions affinely onto the task's bounds, as SB3 recommends. Episode ends carry
``infos[i]["episode"] = {"r", "l", "t"}`` as SB3's ``Monitor`` writes them, so
``ep_rew_mean`` is logged without a ``VecMonitor`` (one over this adapter
reports the same numbers). Beside it, ``infos[i]["discounted_episode"]`` holds
the return the benchmark scores: discounted at the task's rate, in float64
(:mod:`econbench.adapters.episode`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from econbench.adapters.episode import KEY, DiscountedEpisodes
from econbench.adapters.views import Others, RoleView, make_view


class EconSB3VecEnv(VecEnv):
    """``num_envs`` economies of a single-agent view as one SB3 ``VecEnv``."""

    def __init__(
        self,
        task_id: str,
        num_envs: int = 1,
        normalize_actions: bool = False,
        backend: str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        others: Others = None,
        max_episode_steps: int | None = None,
        **params: Any,
    ) -> None:
        view = make_view(
            task_id, num_envs, backend, dtype, device, max_episode_steps=max_episode_steps, others=others, **params
        )
        if not isinstance(view, RoleView):
            raise TypeError(f"{task_id} is a multi-agent task; SB3 trains its single-agent views (-Planner-, role IDs)")
        self.view = view
        self.task = view.task
        act = view.action_space
        self._scale: tuple[np.ndarray, np.ndarray] | None = None
        if normalize_actions:
            if not isinstance(act, spaces.Box) or not (np.isfinite(act.low).all() and np.isfinite(act.high).all()):
                raise ValueError("normalize_actions needs a bounded Box action space")
            self._scale = (act.low.astype(np.float64), act.high.astype(np.float64))
            act = spaces.Box(-1.0, 1.0, act.shape, np.float32)
        self.render_mode = None
        super().__init__(num_envs, view.observation_space, act)
        self._actions: np.ndarray | None = None
        self._returns = np.zeros(num_envs, dtype=np.float32)  # undiscounted float32 sums, as VecMonitor keeps them
        self._t0 = time.perf_counter()
        self._episodes = DiscountedEpisodes(num_envs, self.task.discount)

    def to_task_action(self, actions: np.ndarray) -> np.ndarray:
        """Map policy actions onto the task's action bounds (identity without normalisation)."""
        if not isinstance(self.view.action_space, spaces.Box):
            return np.asarray(actions).astype(np.int64)  # discrete heads: indices as SB3 samples them
        actions = np.asarray(actions, dtype=np.float64)
        if self._scale is None:
            return actions
        low, high = self._scale
        return low + (np.clip(actions, -1.0, 1.0) + 1.0) * 0.5 * (high - low)

    def reset(self) -> Any:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        if seed is None and self.view.batched.state is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        obs = self.view.reset(seed=seed)
        self._reset_seeds()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._returns[:] = 0.0
        self._episodes.restart()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        assert self._actions is not None, "step_async first"
        obs, reward, term, trunc, _ = self.view.step(self.to_task_action(self._actions))
        done = term | trunc
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._returns += reward.astype(np.float32)
        ended = self._episodes.step(reward, done)
        if ended is not None:
            elapsed = round(time.perf_counter() - self._t0, 6)
            for i in np.flatnonzero(done):  # only at episode ends
                infos[i]["episode"] = {"r": round(float(self._returns[i]), 6), "l": int(ended.l[i]), "t": elapsed}
                infos[i][KEY] = {**ended.entry(i), "t": elapsed}
                infos[i]["terminal_observation"] = (
                    {k: v[i].copy() for k, v in obs.items()} if isinstance(obs, dict) else obs[i].copy()
                )
                infos[i]["TimeLimit.truncated"] = bool(trunc[i] and not term[i])
            obs = self.view.reset(mask=done)
            self._returns[done] = 0.0
        return obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        return None

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def action_masks(self) -> np.ndarray:
        """``(num_envs, sum(nvec))`` booleans: what sb3-contrib's MaskablePPO reads (RICE's agreements bind)."""
        return self.view.action_masks()

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        if method_name == "action_masks":  # one row per economy, not one value for all
            masks = self.action_masks()
            return [masks[i] for i in self._indices(indices)]
        return [getattr(self, method_name)(*method_args, **method_kwargs)] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs

    def _indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)
