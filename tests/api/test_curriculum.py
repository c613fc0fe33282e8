"""Curricula declared in cards: the schedule's values, validation, a running env following it, the adapters'
hooks, and shared PPO updating only the groups a stage names."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench import curriculum
from econbench.core import BatchedEnv
from econbench.envs.rbc.dynamics import firm_action_table, government_action_table
from econbench.registry import make_task

SCRIPT = Path(__file__).resolve().parents[2] / "baselines" / "shared_ppo.py"


@pytest.fixture(scope="module")
def short() -> curriculum.Curriculum:
    cur = curriculum.from_task(make_task("RBCTax-v0"))
    assert cur is not None and cur.name == "short"
    return cur


def test_short_schedule_follows_upstream(short: curriculum.Curriculum) -> None:
    # docs/models/rbc.md §7: theta (1 - exp(-n/10000)); firm masks over 0-30000; government masks over 30000-60000
    assert short.at(0).params == {
        "theta_anneal_factor": 0.0,
        "firm_mask_progress": 0.0,
        "government_mask_progress": 0.0,
    }
    p = short.at(45_000).params
    assert p["theta_anneal_factor"] == pytest.approx(1 - math.exp(-4.5))
    assert p["firm_mask_progress"] == 1.0 and p["government_mask_progress"] == pytest.approx(0.5)
    assert short.at(29_999).learn == ("consumers",)
    assert short.at(30_000).learn == ("consumers", "firms")
    assert short.at(60_000).learn == ("consumers", "firms", "government")
    # entropy 0.5 max(exp(-(n - n_start)/10000), 0.1), restarted for each group when it starts learning
    e = short.at(40_000).entropy
    assert e["consumers"] == pytest.approx(0.05) and e["firms"] == pytest.approx(0.5 * math.exp(-1.0))
    assert "government" not in e
    assert short.iterations == 200_000 and short.iteration_env_steps == 128 * 10


def test_full_schedule_and_compression(short: curriculum.Curriculum) -> None:
    full = curriculum.from_task(make_task("RBCTax-v0"), "full")
    assert full is not None and full.at(150_000).params["government_mask_progress"] == pytest.approx(0.5)
    small = short.compressed(200)
    assert small.iterations == 1000 and [s.start for s in small.stages] == [0, 150, 300]
    for n in (0, 75, 150, 220, 700):
        big = short.at(n * 200)
        assert small.at(n).params == pytest.approx(big.params) and small.at(n).learn == big.learn
        assert small.at(n).entropy == pytest.approx(big.entropy)
    # a run's pace: the whole schedule over the run, or the source's env-steps per iteration
    assert short.iteration_at(50, 100) == 100_000 and short.iteration_at(1280) == 1.0


@pytest.mark.parametrize(
    "table, message",
    [
        ({"iterations": 10, "iteration_env_steps": 1, "stages": []}, "non-empty list"),
        ({"iterations": 10, "iteration_env_steps": 1, "stages": [{"start": 0, "learn": ["workers"]}]}, "unknown group"),
        ({"iterations": 10, "iteration_env_steps": 1, "stages": [{"start": 5, "learn": ["firms"]}]}, "begin at 0"),
        (
            {
                "iterations": 10,
                "iteration_env_steps": 1,
                "stages": [{"start": 0, "learn": ["firms"]}, {"start": 0, "learn": ["firms"]}],
            },
            "increase",
        ),
        (
            {
                "iterations": 10,
                "iteration_env_steps": 1,
                "stages": [{"start": 0, "learn": ["firms"]}],
                "anneal": {"gravity": {"shape": "linear", "length": 3}},
            },
            "unknown parameter 'gravity'",
        ),
        (
            {
                "iterations": 10,
                "iteration_env_steps": 1,
                "stages": [{"start": 0, "learn": ["firms"]}],
                "anneal": {"technology": {"shape": "cosine"}},
            },
            "shape one of",
        ),
        (
            {"iterations": "many", "iteration_env_steps": 1, "stages": [{"start": 0, "learn": ["firms"]}]},
            "'iterations'",
        ),
    ],
)
def test_malformed_tables_are_refused_with_the_reason(table: dict[str, Any], message: str) -> None:
    task = make_task("RBCTax-v0")
    fields = list(vars(task.params))
    with pytest.raises(curriculum.CurriculumError, match=message):
        curriculum.parse("bad", table, [g.name for g in task.groups], fields)


def test_unknown_or_missing_curricula() -> None:
    with pytest.raises(curriculum.CurriculumError, match="no curriculum 'medium'"):
        curriculum.from_task(make_task("RBCTax-v0"), "medium")
    assert curriculum.from_task(make_task("InvestmentOligopoly-v0")) is None
    env = BatchedEnv(make_task("InvestmentOligopoly-v0"), 2, seed=0)
    with pytest.raises(curriculum.CurriculumError, match="declares no curriculum"):
        curriculum.set_curriculum(env, 10)


def test_running_env_follows_the_schedule(short: curriculum.Curriculum) -> None:
    env = BatchedEnv(make_task("RBCTax-v0"), 3, seed=0)
    env.reset()
    prices_before = np.array(env.state.prices)
    point = curriculum.set_curriculum(env, 0)
    assert point.learn == ("consumers",)
    masks = env.action_masks()
    firm_ok = firm_action_table(env.task.params)[np.asarray(masks["firms"][0, 0])]
    assert firm_ok.tolist() == [[1000.0, 22.0, 0.1]]  # the curriculum's start: price 1000, wage 22
    assert government_action_table(env.task.params)[np.asarray(masks["government"][0, 0])].tolist() == [[0.0, 0.0]]
    np.testing.assert_array_equal(env.state.prices, prices_before)  # the state is kept
    assert np.all(env.state.consumer_theta > 0)  # theta changes at the next reset, as upstream's kernel
    env.reset()
    assert np.all(env.state.consumer_theta == 0)
    curriculum.set_curriculum(env, 15_000)
    env.reset()
    theta = np.asarray(env.state.consumer_theta)
    np.testing.assert_allclose(theta[0, 0], 0.01 * (1 - math.exp(-1.5)))
    assert np.asarray(env.action_masks()["firms"][0, 0]).sum() == 3 * 3  # prices 500-1500, wages 11-33
    curriculum.set_curriculum(env, 10**6)  # the end: the evaluated task
    assert env.task.params == make_task("RBCTax-v0").params or np.all(np.asarray(env.action_masks()["firms"]))


def test_adapters_expose_the_curriculum() -> None:
    single = gym.make("econbench/RBCTax-v0", mask_violation="execute").unwrapped  # samples ignore the masks
    single.reset(seed=0)
    single.set_curriculum(0)
    obs, *_ = single.step(single.action_space.sample())
    vec = gym.make_vec("econbench/RBCTax-v0", num_envs=2, vectorization_mode="vector_entry_point").unwrapped
    vec.reset(seed=0)
    assert vec.set_curriculum(45_000).params["government_mask_progress"] == pytest.approx(0.5)
    par = econbench.parallel_env("RBCTax-v0", mask_violation="execute")
    par.reset(seed=0)
    par.set_curriculum(0, "full")
    obs, *_ = par.step({a: par.action_space(a).sample() for a in par.agents})
    assert int(np.asarray(obs["government_0"]["action_mask"]).sum()) == 1
    assert int(np.asarray(obs["firm_0"]["action_mask"]).sum()) == 1


def _module() -> Any:
    spec = importlib.util.spec_from_file_location("econbench_shared_ppo_curriculum_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_shared_ppo_updates_only_the_groups_a_stage_names(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    sppo = _module()
    # at the source's pace 3 updates of 4 economies are 0.09 iterations: the first stage, consumers only
    run = sppo.main(
        [
            "--task",
            "econbench/RBCTax-v0",
            "--total-timesteps",
            "120",
            "--n-envs",
            "4",
            "--num-steps",
            "10",
            "--curriculum",
            "short",
            "--curriculum-pace",
            "source",
            "--out",
            str(tmp_path),
            "--skip-eval",
        ]
    )
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    from econbench.learn import SharedPPOConfig
    from econbench.learn.networks import GroupAgent

    args = SharedPPOConfig(**ck["args"])
    task = make_task("RBCTax-v0")
    torch.manual_seed(args.seed)  # the same initial networks, built in the same order
    fresh = {g.name: GroupAgent(g, args.hidden, args.log_std_init, args.activation) for g in task.groups}

    def weights(state: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in state.items() if k.startswith(("actor", "critic"))}

    for group in ("firms", "government"):
        for k, v in weights(ck["agents"][group]).items():
            torch.testing.assert_close(v, weights(fresh[group].state_dict())[k])
    changed = [
        not torch.equal(v, weights(fresh["consumers"].state_dict())[k])
        for k, v in weights(ck["agents"]["consumers"]).items()
    ]
    assert any(changed)


def test_shared_ppo_logs_to_wandb_offline(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    env.pop("WANDB_API_KEY", None)
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--task",
            "econbench/InvestmentOligopoly-v0",
            "--total-timesteps",
            "1024",
            "--n-envs",
            "8",
            "--num-steps",
            "64",
            "--out",
            str(tmp_path),
            "--skip-eval",
            "--track",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    runs = list((tmp_path / "InvestmentOligopoly-v0" / "shared_ppo_seed0" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    from econbench.leaderboard.wandb_sync import read_offline_run

    data = read_offline_run(runs[0])
    text = json.dumps(data)
    assert "losses/policy_loss/firms" in text and "losses/approx_kl/firms" in text  # per update (CleanRL names)
    assert data.get("job_type") == "shared_ppo"
