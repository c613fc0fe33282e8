"""RL Zoo (rl_zoo3) with the shipped hyperparameter file: in sync with its sources, accepted for every
single-agent ID, and a short real ``rl_zoo3.train`` / ``rl_zoo3.enjoy`` run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import econbench.cards
from econbench.learn.config import SB3_PPO_HYPERPARAMS, sb3_hyperparams
from econbench.learn.rl_zoo import PPO_FILE, ppo_table, ppo_yaml
from econbench.learn.rl_zoo.__main__ import main
from econbench.registry import make_task
from tests.conftest import SINGLE_IDS

ROOT = Path(__file__).resolve().parents[2]
LQ = "econbench/InvestmentLQ-Planner-v0"


def shipped() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(PPO_FILE.read_text())


def test_shipped_file_is_what_the_sources_generate() -> None:
    assert PPO_FILE.read_text() == ppo_yaml(), "regenerate it: python -m econbench.learn.rl_zoo --update"


def test_editing_a_card_or_the_sb3_file_changes_the_generated_file(tmp_path: Path, monkeypatch) -> None:
    """The check above can fail: a card's discount or budget, or an SB3 setting, moves the generated tables."""
    cards = tmp_path / "tasks"
    shutil.copytree(econbench.cards.cards_dir(), cards)
    game = cards / "InvestmentLQ-v0.toml"
    game.write_text(game.read_text().replace("beta = 0.95", "beta = 0.9", 1))
    planner = cards / "InvestmentLQ-Planner-v0.toml"
    planner.write_text(planner.read_text().replace("total_timesteps = 1000000", "total_timesteps = 1234567", 1))
    monkeypatch.setattr(econbench.cards, "cards_dir", lambda: cards)
    econbench.cards._raw.cache_clear()
    econbench.cards.load_card.cache_clear()
    try:
        table = ppo_table(LQ)
    finally:
        monkeypatch.undo()
        econbench.cards._raw.cache_clear()
        econbench.cards.load_card.cache_clear()
    assert (table["gamma"], table["n_timesteps"]) == (0.9, 1234567)
    assert (shipped()[LQ]["gamma"], shipped()[LQ]["n_timesteps"]) != (0.9, 1234567)

    sb3_file = tmp_path / "ppo.toml"
    text = SB3_PPO_HYPERPARAMS.read_text()
    assert "\nn_epochs = 10\n" in text
    sb3_file.write_text(text.replace("\nn_epochs = 10\n", "\nn_epochs = 7\n", 1))
    assert ppo_table(LQ, sb3_file)["n_epochs"] == 7 != shipped()[LQ]["n_epochs"]


def test_translation_covers_econbench_sb3_settings() -> None:
    """Every run key econbench's SB3 training reads is translated; activation names map onto the same classes."""
    pytest.importorskip("stable_baselines3")
    from econbench.learn import rl_zoo, sb3
    from econbench.learn.sb3_score import ACTIVATIONS

    assert set(rl_zoo.hyperparams.RUN_KEYS) == sb3.RUN_KEYS
    assert {k: v.split(".")[-1] for k, v in rl_zoo.hyperparams.ACTIVATIONS.items()} == {
        k: cls.__name__ for k, cls in ACTIVATIONS.items()
    }


@pytest.mark.parametrize("task_id", SINGLE_IDS)
def test_table_carries_the_task_and_its_sb3_baseline(task_id: str) -> None:
    table = shipped()[task_id]
    env = gym.make(task_id)
    task = make_task(task_id)
    assert table["gamma"] == env.metadata["discount"] == task.discount
    dict_obs = isinstance(env.observation_space, gym.spaces.Dict)
    assert table["policy"] == ("MultiInputPolicy" if dict_obs else "MlpPolicy")
    hp = sb3_hyperparams(SB3_PPO_HYPERPARAMS, task_id)
    for key in ("n_envs", "n_steps", "batch_size", "n_epochs", "gae_lambda", "clip_range", "ent_coef"):
        if key in hp:
            assert table[key] == hp[key], key
    lr = table["learning_rate"]
    assert float(lr.removeprefix("lin_") if isinstance(lr, str) else lr) == hp["learning_rate"]
    budget = task.card.get("baselines", {}).get("sb3_ppo", {}).get("total_timesteps", hp["total_timesteps"])
    assert table["n_timesteps"] == budget
    wrappers = [next(iter(w)) for w in table.get("env_wrapper", [])]
    assert ("gymnasium.wrappers.RescaleAction" in wrappers) == isinstance(env.action_space, gym.spaces.Box)


@pytest.mark.parametrize("task_id", SINGLE_IDS)
def test_rl_zoo_builds_every_table(task_id: str, tmp_path: Path) -> None:
    """RL Zoo reads the table, builds its envs and the PPO model with the task's discount and settings."""
    pytest.importorskip("rl_zoo3")
    import argparse

    from rl_zoo3.exp_manager import ExperimentManager
    from stable_baselines3.common.vec_env import VecNormalize

    manager = ExperimentManager(
        argparse.Namespace(), "ppo", task_id, str(tmp_path), eval_freq=-1, config=str(PPO_FILE), verbose=0, device="cpu"
    )
    model, _ = manager.setup_experiment()
    task = make_task(task_id)
    table = shipped()[task_id]
    assert model.gamma == task.discount
    assert isinstance(model.env, VecNormalize) and model.env.gamma == task.discount
    policies = {"MlpPolicy": "ActorCriticPolicy", "MultiInputPolicy": "MultiInputActorCriticPolicy"}
    assert type(model.policy).__name__ == policies[table["policy"]]
    assert (model.n_envs, model.n_steps, model.batch_size) == (table["n_envs"], table["n_steps"], table["batch_size"])
    if isinstance(model.action_space, gym.spaces.Box):
        assert (model.action_space.low == -1).all() and (model.action_space.high == 1).all()
    for callback in manager.callbacks:  # InitialAction: the policy's mean starts where econbench's SB3 runs start
        callback.init_callback(model)
        callback.on_training_start({}, {})
        mean = table["callback"][0]["econbench.learn.rl_zoo.callbacks.InitialAction"]["mean"]
        bias = model.policy.action_net.bias.detach().numpy()
        np.testing.assert_allclose(bias, mean, rtol=1e-6)
    model.env.close()


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def zoo_policy(folder: Path, task_id: str) -> Any:
    """An RL Zoo PPO model as an econbench single-agent policy: its saved observation statistics, deterministic
    actions, mapped from [-1, 1] onto the task's bounds (the file's ``RescaleAction``)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    name = task_id.replace("/", "-")
    model = PPO.load(folder / f"{name}.zip", device="cpu")
    stats = VecNormalize.load(str(folder / name / "vecnormalize.pkl"), DummyVecEnv([lambda: gym.make(task_id)]))
    space = gym.make(task_id).action_space
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)

    def policy(obs: np.ndarray) -> np.ndarray:
        act, _ = model.predict(stats.normalize_obs(obs), deterministic=True)
        return low + (np.clip(np.asarray(act, dtype=np.float64), -1.0, 1.0) + 1.0) * 0.5 * (high - low)

    return policy


@pytest.mark.slow
def test_rl_zoo_trains_and_enjoys(tmp_path: Path) -> None:
    """``rl_zoo3.train`` with the shipped file (one rollout), then ``rl_zoo3.enjoy`` on the saved model, then the
    model scored under the card's protocol."""
    pytest.importorskip("rl_zoo3")
    from rl_zoo3.utils import get_saved_hyperparams

    from econbench.metrics import optimality_gap

    train = _run(
        "-m", "rl_zoo3.train", "--algo", "ppo", "--env", LQ, "--gym-packages", "econbench", "--conf-file", str(PPO_FILE),
        "-n", "4096", "--log-folder", str(tmp_path), "--seed", "0", "--eval-freq", "-1", "--device", "cpu",
        "--num-threads", "1", cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    folder = tmp_path / "ppo" / f"{LQ.replace('/', '-')}_1"
    assert (folder / f"{LQ.replace('/', '-')}.zip").is_file()
    recorded, _ = get_saved_hyperparams(str(folder / LQ.replace("/", "-")))
    task = make_task(LQ)
    assert recorded["gamma"] == task.discount and recorded["normalize_kwargs"]["gamma"] == task.discount

    enjoy = _run(
        "-m", "rl_zoo3.enjoy", "--algo", "ppo", "--env", LQ, "--gym-packages", "econbench", "-f", str(tmp_path),
        "--exp-id", "1", "-n", str(task.horizon + 1), "--no-render", "--deterministic", "--device", "cpu",
        "--num-threads", "1", cwd=tmp_path,
    )  # fmt: skip
    assert enjoy.returncode == 0, enjoy.stderr[-3000:]
    assert "Episode Reward" in enjoy.stdout  # an episode of the horizon's length ran to its end

    gap = optimality_gap(task, zoo_policy(folder, LQ))
    assert np.isfinite(gap.raw) and gap.raw >= 0.0  # no policy beats the exact one on common random numbers


def test_module_prints_or_writes_the_file(tmp_path: Path, capsys) -> None:
    main([])
    assert Path(capsys.readouterr().out.strip()) == PPO_FILE
    main(["--out", str(tmp_path / "zoo.yml")])
    assert (tmp_path / "zoo.yml").read_text() == PPO_FILE.read_text()
    with pytest.raises(SystemExit) as err:
        main(["--out", str(tmp_path / "zoo.txt")])
    assert err.value.code == 2
