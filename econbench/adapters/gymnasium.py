"""Gymnasium single-environment view of a task (``gym.make("econbench/<Task>-v0")``).

At the end of an episode ``info["discounted_episode"] = {"r", "l"}`` holds the
return the benchmark scores (discounted at ``metadata["discount"]``) and the length;
see :mod:`econbench.adapters.episode`. No wall-clock ``"t"`` here: a step's info must be
a function of the seed and the actions (Gymnasium's ``check_env`` compares it across
runs); ``RecordEpisodeStatistics`` over the env times episodes in ``info["episode"]``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from econbench.adapters.episode import KEY, DiscountedEpisodes, scored_reward
from econbench.adapters.views import GameView, MaskedMultiDiscrete, Others, RoleView, make_view
from econbench.core import ActionError, Task
from econbench.curriculum import Point, set_curriculum


def _add_env_axis(action: Any, space: gym.Space, name: str, settle: bool = False) -> Any:
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(action, dict):
            raise ActionError(
                f"{name}: action must be a dict keyed by {list(space.spaces)}, got {type(action).__name__}"
            )
        missing = set(space.spaces) ^ set(action)
        if missing:
            raise ActionError(f"{name}: action keys {sorted(action)} do not match {sorted(space.spaces)}")
        return {k: _add_env_axis(v, space.spaces[k], f"{name}[{k!r}]", settle) for k, v in action.items()}
    if settle and isinstance(space, MaskedMultiDiscrete):  # Gymnasium's checker steps a sample drawn before its reset
        action = space.settle(action)
    a = np.asarray(action) if not hasattr(action, "shape") else action
    if a.ndim == 0 and math.prod(space.shape) == 1:  # one value (TorchRL steps a one-head mask's index bare)
        a = a.reshape(space.shape)
    if tuple(a.shape) != space.shape:
        raise ActionError(f"{name}: action has shape {tuple(a.shape)}, expected {space.shape}")
    return a[None]


def _strip(x: Any) -> Any:
    return {k: _strip(v) for k, v in x.items()} if isinstance(x, dict) else x[0]


class EconEnv(gym.Env):
    """One economy. Multi-agent tasks use ``Dict`` spaces keyed by group and the welfare as reward;
    role and planner IDs are plain single-agent ``Box`` environments.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        task_id: str | Task,
        backend: str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        others: Others = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            # a TypeError: SB3's make_vec_env asks for "rgb_array" and retries without a render mode on that only
            raise TypeError(f"unsupported render_mode {render_mode!r}; supported: {self.metadata['render_modes']}")
        self.view: GameView | RoleView = make_view(task_id, 1, backend, dtype, device, others=others, **params)
        self.task = self.view.task
        # the score discounts returns at the card's rate: a learner should too (RL Zoo and CleanRL default to 0.99)
        # the episode length: the task's horizon parameter, which gym.make(id, horizon=N) sets
        self.metadata = {
            **self.metadata,
            "discount": self.task.discount,
            "task_id": self.task.id,
            "horizon": self.view.batched.horizon,
        }
        self.observation_space = self.view.observation_space
        self.action_space = self.view.action_space
        self.render_mode = render_mode
        self._last: Any = None
        self._ended = False
        self._episodes = DiscountedEpisodes(1, self.task.discount)

    def set_curriculum(self, iteration: float, name: str | None = None) -> Point:
        """Apply the card's curriculum ``name`` (default: the card's) at ``iteration``; see :mod:`econbench.curriculum`."""
        return set_curriculum(self.view.batched, iteration, name)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is None and self.view.batched.state is None:
            seed = int(self.np_random.integers(2**31))  # first reset without a seed: fresh entropy
        self._last = _strip(self.view.reset(seed=seed))
        self._ended = False
        self._episodes.restart()
        return self._last, {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self._ended:
            raise RuntimeError(
                f"{self.task.name}: the episode has ended (terminated or truncated); call reset() before step()"
            )
        binding = self.view.batched.mask_violation == "error"  # advisory masks execute what they are given
        obs, reward, term, trunc, info = self.view.step(
            _add_env_axis(action, self.action_space, self.task.name, settle=binding)
        )
        self._last = _strip(obs)
        self._ended = bool(term[0]) or bool(trunc[0])
        ended = self._episodes.step(scored_reward(self.task, reward, info.get("rewards")), term | trunc)
        info = _strip(info)
        if ended is not None:
            info[KEY] = {k: v for k, v in ended.entry(0).items() if k != "t"}
        return self._last, float(reward[0]), bool(term[0]), bool(trunc[0]), info

    def action_masks(self) -> Any:
        """Allowed actions as booleans: the learner's ``(sum(nvec),)`` in role views (sb3-contrib's MaskablePPO
        calls this), one ``(n_agents, sum(nvec))`` array per masked group in the whole game."""
        view = self.view
        if isinstance(view, RoleView):
            return view.action_masks()[0]
        b = view.batched.backend
        return {k: b.to_numpy(v)[0].astype(bool) for k, v in view.batched.action_masks().items()}

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return f"{self.task.name} t={int(self.view.batched.backend.to_numpy(self.view.batched.t)[0])} obs={self._last}"
