"""Learned RBC profiles shipped as array networks: they act as the trained torch networks do, refuse a task
whose observations they cannot read, and drive the government's view."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench.backend import get_backend
from econbench.envs.rbc import trained
from econbench.registry import make_task

CHECKPOINTS = Path(__file__).resolve().parents[3] / "baselines" / "checkpoints" / "RBCTax-v0"
SHIPPED = sorted(trained.shipped())


def _tiny(rng: np.random.Generator, task_id: str = "RBCTax-v0", hidden: int = 8) -> tuple[dict, dict]:
    task = make_task(task_id)
    actors = {}
    for g in task.groups:
        d, out = int(np.prod(g.observation.shape)), int(sum(g.action.nvec))
        sizes = [(hidden, d), (hidden, hidden), (out, hidden)]
        actors[g.name] = {
            "obs_mean": rng.normal(size=d),
            "obs_var": rng.uniform(0.5, 2.0, d),
            **{f"w{i}": rng.normal(size=s) for i, s in enumerate(sizes)},
            **{f"b{i}": rng.normal(size=s[0]) for i, s in enumerate(sizes)},
        }
    return actors, {"activation": "relu", "obs_encoding": task.params.obs_encoding}


def test_exported_network_is_evaluated_as_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    actors, meta = _tiny(rng)
    path = trained.export(tmp_path / "p", actors, meta)
    task = make_task("RBCTax-v0")
    profile = trained.profile_factory(path)(task, get_backend("numpy"))
    obs = econbench.make_batched("RBCTax-v0", n_envs=2, seed=0).reset()
    a = actors["firms"]  # by hand: normalise, relu, relu, linear, argmax of the single head
    x = np.clip((obs["firms"] - a["obs_mean"]) / np.sqrt(a["obs_var"].astype(np.float32) + 1e-8), -10, 10)
    h = np.maximum(x @ a["w0"].T + a["b0"], 0)
    h = np.maximum(h @ a["w1"].T + a["b1"], 0)
    want = np.argmax(h @ a["w2"].T + a["b2"], axis=-1)
    got = profile["firms"](obs["firms"])
    assert got.shape == (2, 10, 1)
    np.testing.assert_array_equal(got[..., 0], want)
    assert profile["consumers"](obs["consumers"]).shape == (2, 100, 12)


def test_a_network_that_cannot_read_the_observations_is_refused(tmp_path: Path) -> None:
    actors, meta = _tiny(np.random.default_rng(1))
    path = trained.export(tmp_path / "p", actors, meta)
    with pytest.raises(ValueError, match="maps 45 inputs.*needs 144"):
        trained.profile_factory(path)(make_task("RBCTax-v0", obs_encoding="digits"), get_backend("numpy"))
    with pytest.raises(ValueError, match="missing"):
        trained.export(tmp_path / "q", {k: v for k, v in actors.items() if k != "firms"}, meta)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_acts_as_its_torch_checkpoint(name: str) -> None:
    pytest.importorskip("torch")
    from econbench.learn.runs import load_profile

    task, torch_profile = load_profile(CHECKPOINTS / name)
    array_profile = task.policy(name)
    env = econbench.make_batched("RBCTax-v0", n_envs=3, seed=0)
    obs = env.reset()
    for _ in range(task.horizon):  # the whole episode under the shipped profile
        acts = {g: array_profile[g](obs[g]) for g in obs}
        for g in obs:
            np.testing.assert_array_equal(acts[g], torch_profile[g](obs[g]), err_msg=f"{name} {g}")
        obs, *_ = env.step(acts)


@pytest.mark.parametrize("name", SHIPPED[:1])
def test_government_view_against_shipped_consumers_and_firms(name: str) -> None:
    env = gym.make("econbench/RBCTax-Government-v0", others=name)
    obs, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(10):
        obs, r, term, trunc, _ = env.step(env.action_space.sample())
        total += float(r)
    assert trunc and np.isfinite(total)


def test_shipped_profiles_are_named_policies_with_card_scores() -> None:
    from econbench.cards import load_card

    for task_id in ("RBCTax-v0", "RBCTax-Closed-v0", "RBCTax-Government-v0"):
        assert set(SHIPPED) <= set(make_task(task_id).policies)
        assert set(SHIPPED) <= set(load_card(task_id)["reference_scores"])
