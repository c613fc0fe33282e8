"""The masked action spaces: one flat mask per row, the env's current mask by default, and ordinary spaces
otherwise (copies, pickles, equality, seeds, SB3)."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import batch_space

import econbench
from econbench.adapters.views import MaskedDiscrete, MaskedMultiDiscrete
from econbench.core import ActionError


def allowed(action: np.ndarray, mask: np.ndarray, nvec: np.ndarray) -> bool:
    """Every head's index is one its block of the flat mask allows."""
    heads = nvec.reshape(-1, nvec.shape[-1])[0]
    start = np.concatenate([[0], np.cumsum(heads)[:-1]])
    rows = np.asarray(mask).reshape(-1, int(heads.sum()))
    return bool(np.take_along_axis(rows, np.asarray(action).reshape(-1, heads.size) + start, axis=1).all())


def test_a_role_view_samples_under_the_mask_given_or_its_own() -> None:
    """EV's driver may only follow its schedule while it drives: the role view's space honours that, given
    ``obs["action_mask"]`` (as PettingZoo's test passes it) or nothing (as Gymnasium's and SB3's checkers)."""
    env = gym.make("econbench/EVCharging-Driver-v0")
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    space = env.action_space
    assert type(space) is type(econbench.parallel_env("EVCharging-v0").action_space("driver_0"))  # one class
    binding = 0
    for _ in range(120):
        mask = obs["action_mask"]
        binding += int(not mask.all())
        for a in (space.sample(mask=mask), space.sample()):
            assert allowed(a, mask, space.nvec)
        obs, *_ = env.step(space.sample())
    assert binding > 10  # the mask did bind along the way


def _steady_draw_the_next_reset_forbids() -> tuple[gym.Env, np.ndarray, int]:
    """A sample of EV-Steady's whole game at one state and a seed whose reset forbids some of it."""
    env = gym.make("econbench/EVCharging-Steady-v0").unwrapped
    env.reset(seed=0)
    env.action_space.seed(1)
    action = env.action_space.sample()
    for seed in range(1, 50):
        obs, _ = env.reset(seed=seed)
        mask = obs["drivers"]["action_mask"]
        if not allowed(action["drivers"], mask, env.action_space["drivers"].nvec):
            return env, action, seed
    raise AssertionError("no reset forbids the draw")


def test_the_array_sample_returned_steps_under_the_mask_at_the_step() -> None:
    """Gymnasium's ``check_env`` samples, resets, then steps that very array: it is drawn again from its uniforms
    under the mask in force (by value, so copies of the env agree); any other array that breaks the mask is still
    an error (below), and with advisory masks the draw executes as it is."""
    env, action, seed = _steady_draw_the_next_reset_forbids()
    first = env.step({"drivers": action["drivers"].copy()})[0]  # by value: a copy of the draw is the draw
    env.reset(seed=seed)
    env.reset(seed=seed)
    again = env.step(action)[0]  # the same draw again: deterministic
    np.testing.assert_array_equal(first["drivers"]["observation"], again["drivers"]["observation"])


def test_flat_masks_sample_uniformly_over_the_allowed_indices() -> None:
    space = MaskedMultiDiscrete(np.array([4, 3]), seed=0)
    mask = np.array([0, 1, 0, 1, 1, 1, 1], dtype=np.int8)
    draws = np.stack([space.sample(mask=mask) for _ in range(3000)])
    assert set(np.unique(draws[:, 0])) == {1, 3} and abs(np.mean(draws[:, 0] == 1) - 0.5) < 0.05
    assert np.all(np.abs(np.bincount(draws[:, 1], minlength=3) / 3000 - 1 / 3) < 0.05)
    none_allowed = np.array([0, 0, 0, 0, 0, 0, 1], dtype=np.int8)
    assert space.sample(mask=none_allowed).tolist() == [0, 2]  # Gymnasium's rule: the smallest index
    rows = MaskedMultiDiscrete(np.tile([2, 3], (4, 1)), seed=0)  # a group: one flat mask per agent
    per_agent = np.tile(np.array([1, 0, 0, 0, 1], dtype=np.int8), (4, 1))
    assert rows.sample(mask=per_agent).tolist() == [[0, 2]] * 4
    with pytest.raises(ValueError, match=r"action mask has shape \(7,\), expected \(4, 5\)"):
        rows.sample(mask=mask)
    assert space.sample(mask=(np.array([0, 0, 1, 0], dtype=np.int8), np.array([1, 0, 0], dtype=np.int8)))[0] == 2


def test_the_current_mask_is_the_default_and_explicit_arguments_win() -> None:
    space = MaskedMultiDiscrete(np.array([3]), seed=0)
    space.current_mask = np.array([0, 0, 1], dtype=np.int8)
    assert {int(space.sample()[0]) for _ in range(20)} == {2}
    assert {int(space.sample(mask=np.ones(3, dtype=np.int8))[0]) for _ in range(60)} == {0, 1, 2}
    one = MaskedDiscrete(3, seed=0)
    one.current_mask = np.array([0, 1, 0], dtype=np.int8)
    assert {int(one.sample()) for _ in range(20)} == {1}


def test_masked_spaces_copy_pickle_compare_and_seed_as_any_space() -> None:
    env = gym.make("econbench/RICECooperation-Bilateral-Region-v0")
    env.reset(seed=0)
    space = env.action_space
    assert isinstance(space, MaskedMultiDiscrete) and space.current_mask is not None
    plain = gym.spaces.MultiDiscrete(space.nvec)
    for other in (copy.deepcopy(space), pickle.loads(pickle.dumps(space))):
        assert other == space == plain
        np.testing.assert_array_equal(other.current_mask, space.current_mask)
    space.seed(3)
    a = space.sample()
    space.seed(3)
    np.testing.assert_array_equal(a, space.sample())
    assert batch_space(space, 4) == batch_space(plain, 4)


def test_sb3_trains_saves_and_loads_with_a_masked_space(tmp_path: object) -> None:
    """SB3 keeps the env's spaces in its model file: they pickle as arrays, not as the env."""
    from stable_baselines3 import PPO

    from econbench.adapters.sb3 import EconSB3VecEnv

    venv = EconSB3VecEnv("econbench/RBCTax-Government-v0", num_envs=2, mask_violation="execute")
    model = PPO("MultiInputPolicy", venv, n_steps=8, batch_size=16, n_epochs=1, seed=0)
    model.learn(16)
    path = f"{tmp_path}/gov"
    model.save(path)
    loaded = PPO.load(path)
    assert loaded.action_space == venv.action_space and isinstance(loaded.action_space, MaskedMultiDiscrete)
    obs = venv.reset()
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])


def test_a_sampled_array_the_caller_edited_is_the_callers_action() -> None:
    """Only the untouched draw is drawn again: an edit in place must reach the env as written (here, refused)."""
    env, action, _ = _steady_draw_the_next_reset_forbids()
    drivers = action["drivers"]
    mask = env.action_space["drivers"].current_mask
    nvec = env.action_space["drivers"].nvec
    forbidden = next(
        (i, v) for i in range(drivers.shape[0]) for v in range(int(nvec[i, 0])) if not mask[i, v] and v != drivers[i, 0]
    )
    drivers[forbidden[0], 0] = forbidden[1]
    with pytest.raises(ActionError, match="action mask forbids"):
        env.step(action)


def test_with_advisory_masks_a_forbidden_draw_executes_as_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    env, action, seed = _steady_draw_the_next_reset_forbids()
    advisory = gym.make("econbench/EVCharging-Steady-v0", mask_violation="execute").unwrapped
    stepped = {}
    for name, e in (("binding", env), ("advisory", advisory)):
        e.reset(seed=seed)
        real = e.view.step
        monkeypatch.setattr(
            e.view, "step", lambda a, *k, _real=real, _n=name: stepped.setdefault(_n, a) and _real(a, *k)
        )
        e.step(action)
    np.testing.assert_array_equal(stepped["advisory"]["drivers"][0], action["drivers"])
    assert not np.array_equal(stepped["binding"]["drivers"][0], action["drivers"])
