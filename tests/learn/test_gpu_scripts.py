"""The GPU scripts run end to end without a GPU: ci/gpu.sh's one line where none is visible and its CPU path's
figures, the host-copy counter it uses, the trainer step's guards, and baselines/rbc_full_scale.sh's smoke mode (train, then the three
trained best responses). The scripts run in this test's own environment (ECONBENCH_ENV=current)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import econbench
from econbench.backend import get_backend
from econbench.core import BatchedEnv
from tests.conftest import ci_module

torch = pytest.importorskip("torch")
pytest.importorskip("tyro")

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "ECONBENCH_ENV": "current", "PATH": path, "PYTHONPATH": pythonpath, **extra}


def _run(*cmd: str | Path, timeout: int = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=timeout
    )


def test_gpu_sh_without_a_gpu_prints_one_line_and_succeeds() -> None:
    done = _run(ROOT / "ci" / "gpu.sh", CUDA_VISIBLE_DEVICES="")
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 0 and len(lines) == 1, done.stdout + done.stderr
    assert lines[0].startswith("ci/gpu.sh: no CUDA GPU visible") and lines[0].endswith("nothing run")
    if torch.cuda.is_available() or shutil.which("nvidia-smi"):
        return  # a GPU machine: unhidden, the script would run the check
    done = _run(ROOT / "ci" / "gpu.sh")  # nothing hidden: the probes find no GPU on this machine
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 0 and len(lines) == 1 and "torch.cuda.is_available() is False" in lines[0], lines


def test_host_copy_counter_counts_each_copy_once_and_restores_everything() -> None:
    hc = ci_module("host_copies")
    originals = {name: vars(torch.Tensor).get(name) for name in ("cpu", "item", "__bool__", "__array__")}
    step, to_numpy = BatchedEnv.step, get_backend("torch", device="cpu").to_numpy
    env = econbench.make_batched("econbench/InvestmentLQ-Planner-v0", 2, "torch", device="cpu", seed=0)
    b = env.backend
    policy = env.task.policy("exact", b)["planner"]
    x = torch.arange(3.0)
    with hc.HostCopies(device_only=False) as counter:
        x.cpu()  # before the first env step: setup
        obs = env.reset()
        env.step({"planner": policy(obs["planner"])})
        before = Counter(counter.kinds)
        x.cpu().numpy()  # one copy: .numpy() of what .cpu() returned is the same copy
        float(x.sum())
        torch.ones(2).tolist()
        x[0].item()
        b.to_numpy(torch.ones(2))  # one, not three (its .detach().cpu().numpy())
        np.asarray(torch.zeros(2))
        get_backend("numpy").to_numpy(np.ones(2))  # host already: no copy
        added = counter.kinds - before
    assert counter.setup == 1 and counter.steps == 1
    assert added == Counter(
        {
            "Tensor.cpu": 1,
            "Tensor.__float__": 1,
            "Tensor.tolist": 1,
            "Tensor.item": 1,
            "Backend.to_numpy": 1,
            "Tensor.__array__": 1,
        }
    )
    assert any(site.startswith("tests/learn/test_gpu_scripts.py:") for site in counter.sites)
    assert {name: vars(torch.Tensor).get(name) for name in originals} == originals
    assert BatchedEnv.step is step and b.to_numpy.__func__ is to_numpy.__func__
    with hc.HostCopies(device_only=True) as counter:  # a CUDA run counts tensors on the device only
        counter.steps = 1
        x.cpu().numpy(), float(x.sum()), x.tolist()
    assert counter.total == 0


@pytest.mark.slow
def test_gpu_sh_cpu_path_reports_every_figure(tmp_path: Path) -> None:
    """ci/gpu.sh --cpu: agreement on every task ID, a throughput figure per benchmarked task and the EV city,
    the shared-PPO run's host copies per env step, and the trainer's agent-steps/s on issue 19's four tasks."""
    out = tmp_path / "gpu.json"
    done = _run(ROOT / "ci" / "gpu.sh", "--cpu", "--json", out)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["ok"] and result["mode"] == "cpu"
    steps = result["steps"]
    agreement = steps["agreement"]["backends"]["torch:cpu"]
    assert agreement["tasks_agreeing"] == len(econbench.task_ids()) and not agreement["tasks_missing"]
    assert agreement["failed"] == 0
    core = steps["throughput"]["core"]["torch:cpu"]
    assert set(core) == set(ci_module("bench_throughput").IDS)
    assert all(r["env_steps_per_sec"] > 0 and r["n_envs"] == 16 for r in core.values())
    ev = steps["throughput"]["ev"]["torch:cpu"]
    assert ev["drivers"] == 1000 and ev["env_steps_per_sec"] > 0
    copies = steps["host_copies"]
    assert copies["device"] == "cpu" and copies["backend"] == "torch" and copies["env_steps"] == 20
    assert copies["host_copies"] > 0
    assert copies["host_copies_per_step"] == pytest.approx(copies["host_copies"] / copies["env_steps"])
    assert any(site.startswith("econbench/") for site in copies["sites_per_step"])
    assert "device-to-host copies per env step" in done.stdout
    assert f"agreement on torch:cpu: {len(econbench.task_ids())}/" in done.stdout
    _check_trainer(steps["trainer"], done.stdout)


def _check_trainer(step: dict, stdout: str) -> None:
    gt = ci_module("gpu_trainer")
    assert step["ok"] and step["device"] == "cpu" and step["backend"] == "torch"
    assert list(step["tasks"]) == gt.TASKS
    for task_id, r in step["tasks"].items():
        assert r["status"] == "measured", r
        assert (r["n_envs"], r["num_steps"]) == (2, 10)
        assert r["env_steps"] == 10 * r["n_envs"] * r["updates"]
        assert r["updates"] == (1 if task_id == gt.RICE_ID else 2)
        assert r["agent_steps_per_sec"] == pytest.approx(r["env_steps_per_sec"] * r["agents"])
        assert 0 < r["fraction_of_bound"] < 1 and 0 < r["simulation_share"] < 1
        assert r["x_before"] == pytest.approx(r["agent_steps_per_sec"] / gt.BEFORE[task_id])
        assert f"  {task_id.removeprefix('econbench/')}" in stdout
    assert "shared PPO end to end on cpu" in stdout and "trainer: ok" in stdout


def test_trainer_step_copies_the_cpu_figures_before_issue_19() -> None:
    assert ci_module("gpu_trainer").BEFORE == ci_module("bench_throughput").PPO_BEFORE


@pytest.mark.slow
def test_gpu_check_runs_only_the_trainer_step(tmp_path: Path) -> None:
    """--steps trainer: the trainer step alone (the CPU path of what a GPU session runs), its lines in the summary."""
    out = tmp_path / "gpu.json"
    done = _run(sys.executable, ROOT / "ci" / "gpu_check.py", "--mode", "cpu", "--steps", "trainer", "--json", out)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["ok"] and list(result["steps"]) == ["trainer"]
    _check_trainer(result["steps"]["trainer"], done.stdout)
    assert "agreement" not in done.stdout
    bad = _run(sys.executable, ROOT / "ci" / "gpu_check.py", "--mode", "cpu", "--steps", "trainer,nope")
    assert bad.returncode == 2 and "unknown step(s) ['nope']" in bad.stderr


@pytest.mark.slow
def test_trainer_step_records_a_failed_or_slow_task_and_goes_on(tmp_path: Path) -> None:
    """A task that fails records its error and the next one is measured; a warm-up over the limit skips the
    timed run and says so; the summary names both."""
    out = tmp_path / "trainer.json"
    tasks = "econbench/NoSuchTask-v0,econbench/InvestmentOligopoly-v0"
    flags = ("--mode", "cpu", "--n-envs", "2", "--num-steps", "4", "--updates", "1", "--json", out)
    done = _run(sys.executable, ROOT / "ci" / "gpu_trainer.py", *flags, "--tasks", tasks)
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-4000:]  # an error fails the step
    rows = json.loads(out.read_text())["tasks"]
    assert rows["econbench/NoSuchTask-v0"]["status"] == "error" and rows["econbench/NoSuchTask-v0"]["error"]
    assert rows["econbench/InvestmentOligopoly-v0"]["status"] == "measured"
    done = _run(sys.executable, ROOT / "ci" / "gpu_trainer.py", *flags, "--warmup-limit", "0")
    step = json.loads(out.read_text())
    assert done.returncode == 1 and list(step["tasks"]) == ci_module("gpu_trainer").TASKS  # none measured
    assert all(r["status"] == "skipped" and "warm-up" in r["reason"] for r in step["tasks"].values())
    lines = ci_module("gpu_check").trainer_lines(step)
    assert len(lines) == 5 and all("skipped: warm-up stopped at its limit of 0 s" in line for line in lines[1:])


@pytest.mark.slow
def test_rbc_full_scale_smoke_trains_then_retrains_each_group(tmp_path: Path) -> None:
    done = _run(ROOT / "baselines" / "rbc_full_scale.sh", "--smoke", "0", tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    run = tmp_path / "RBCTax-v0" / "paper_seed0"
    for name in ("policy.json", "policy.safetensors", "checkpoint.pt"):
        assert (run / name).is_file(), name
    assert json.loads((run / "policy.json").read_text())["task_id"] == "econbench/RBCTax-v0"
    rows = list(csv.DictReader((run / "curve.csv").open()))
    assert [int(r["timesteps"]) for r in rows] == [20, 40]
    assert json.loads((run / "eval.json").read_text())["timesteps"] == 40
    for group in ("consumers", "firms", "government"):
        text = (run / f"trained_gap_{group}.txt").read_text()
        assert f"group={group}" in text and "320 steps from the run" in text and "epsilon:" in text
