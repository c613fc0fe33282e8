"""The steps of ci/gpu.sh, each in its own process, and one summary of what they measured.

    python ci/gpu_check.py [--mode gpu|cpu] [--json OUT] [--steps agreement,throughput,host_copies,trainer]

1. agreement: tests/api/test_backends.py with ``ECONBENCH_TEST_DEVICES`` (tests/conftest.py), on the
   device backends only: every task ID's dynamics and named policies against NumPy on the same inputs
   (GPU mode adds whole episodes, seeded streams and float32);
2. throughput: ci/bench_gpu.py, each task's batched core and the large EV city on the device backends;
3. host copies: ci/host_copies.py, a short shared-PPO run of RBCTax-v0 with the economies and the
   networks on the device, its device-to-host copies per env step;
4. trainer: ci/gpu_trainer.py, shared PPO end to end on the device (economies on the torch backend, networks on
   the same device) for issue 19's four tasks (RBCTax-v0, InvestmentOligopoly-v0, RICECooperation-Bilateral-v0,
   EVCharging-v0) at their packaged hyperparameters: agent-steps/s, the ratio to the CPU figure before issue 19,
   the fraction of the FLOP bound at the device's measured matmul rate, the simulation's share.

``gpu``: torch on CUDA and CuPy at full size (65,536 envs, 10M drivers; the trainer at the packaged settings),
well under ten minutes on one H100-class GPU (each step has a time limit). ``cpu``: the same steps on torch's
CPU device at tiny sizes (the agreement test only; the trainer at 2 economies x 10 steps per update), so the
script is tested without a GPU. A backend the machine cannot run is skipped and named; the check fails if no
device backend ran, a test failed, a task is not covered, or a trainer task failed or none was measured (one
skipped for time is named). ``--steps`` runs only the named steps (comma-separated; default all).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import econbench

PPO_TASK = "econbench/RBCTax-v0"


@dataclass(frozen=True)
class Mode:
    test_devices: str  # ECONBENCH_TEST_DEVICES
    backends: tuple[str, ...]  # the device backends' specs, as the tests and the benchmark name them
    tests: str  # pytest -k: which backend tests
    bench: dict[str, str]  # ci/bench_gpu.py's settings
    ppo: tuple[str, ...]  # baselines/shared_ppo.py flags
    trainer: tuple[str, ...]  # ci/gpu_trainer.py flags (its --budget follows the step's time limit)
    workers: int  # pytest-xdist processes for the agreement tests (0: none)
    timeouts: dict[str, int] = field(default_factory=dict)  # seconds per step


MODES = {
    "gpu": Mode(
        "cuda",
        ("torch:cuda", "cupy"),
        "(torch:cuda or cupy) and (agree or whole_episode or same_seed or float32) and not without",
        {"ECONBENCH_BENCH_ENVS": "65536", "ECONBENCH_BENCH_EV_DRIVERS": "10000000", "ECONBENCH_BENCH_STEPS": "10"},
        # RBC at the full-scale run's batch (128 economies x 10 quarters), 5 updates
        ("--n-envs", "128", "--num-steps", "10", "--total-timesteps", "6400", "--device", "cuda", "--threads", "8"),
        # the packaged settings: a warm-up update, then 2 timed updates (RICE-Bilateral 1)
        ("--mode", "gpu", "--updates", "2", "--warmup-limit", "60"),
        4,
        {"agreement": 210, "throughput": 240, "host copies": 90, "trainer": 200},
    ),
    "cpu": Mode(
        "cpu",
        ("torch:cpu",),
        "torch:cpu and agree",
        {
            "ECONBENCH_BENCH_ENVS": "16",
            "ECONBENCH_BENCH_EV_DRIVERS": "1000",
            "ECONBENCH_BENCH_STEPS": "2",
            "ECONBENCH_BENCH_ROUNDS": "1",
        },
        ("--n-envs", "2", "--num-steps", "10", "--total-timesteps", "40", "--device", "cpu", "--threads", "1"),
        ("--mode", "cpu", "--updates", "2", "--n-envs", "2", "--num-steps", "10", "--warmup-limit", "30"),
        0,
        {"agreement": 180, "throughput": 120, "host copies": 120, "trainer": 90},
    ),
}


def _run(name: str, cmd: list[str], env: dict[str, str], timeout: int) -> dict[str, Any]:
    """Run one step; its exit status, time and (on failure) the end of its output."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        rc, out = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out = -1, f"{name}: timed out after {timeout} s\n" + str(exc.stdout or "")[-4000:]
    step = {"ok": rc == 0, "returncode": rc, "seconds": round(time.perf_counter() - t0, 1)}
    if rc != 0:
        step["output_tail"] = out[-4000:]
    return step


def _junit(path: Path) -> list[tuple[str, str, str, str]]:
    """(test, backend, task or "", outcome or skip reason) per test case of a JUnit XML report."""
    if not path.is_file():
        return []
    rows = []
    for case in ET.parse(path).getroot().iter("testcase"):
        m = re.fullmatch(r"(\w+)(?:\[(.*)\])?", case.get("name", ""))
        if m is None:
            continue
        test, param = m.group(1), m.group(2) or ""
        backend, _, task = param.partition("-econbench/")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped: " + (child.get("message") or "")
        rows.append((test, backend, f"econbench/{task}" if task else "", outcome))
    return rows


def agreement(mode: Mode, env: dict[str, str], work: Path) -> dict[str, Any]:
    report = work / "agreement.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/api/test_backends.py"]
    cmd += ["-k", mode.tests, f"--junitxml={report}"]
    if mode.workers and importlib.util.find_spec("xdist") is not None:  # pytest-xdist (the dev extra)
        cmd += ["-n", str(mode.workers)]
    step = _run("agreement", cmd, {**env, "ECONBENCH_TEST_DEVICES": mode.test_devices}, mode.timeouts["agreement"])
    rows = _junit(report)
    ids = econbench.task_ids()
    per: dict[str, Any] = {}
    for spec in mode.backends:
        mine = [r for r in rows if r[1] == spec]
        agreed = {task for test, _, task, outcome in mine if test.endswith("same_inputs") and outcome == "passed"}
        skips = sorted({o.removeprefix("skipped: ") for *_, o in mine if o.startswith("skipped")})
        per[spec] = {
            "passed": sum(o == "passed" for *_, o in mine),
            "failed": sum(o == "failed" for *_, o in mine),
            "skipped": sum(o.startswith("skipped") for *_, o in mine),
            "tasks_agreeing": len(agreed),
            "tasks_missing": [t for t in ids if t not in agreed] if agreed else [],
            "skip_reasons": skips,
        }
    ran = [s for s, r in per.items() if r["passed"]]
    step["backends"] = per
    step["task_ids"] = len(ids)
    step["ok"] = bool(step["ok"] and ran and not any(per[s]["tasks_missing"] or per[s]["failed"] for s in per))
    return step


def throughput(mode: Mode, env: dict[str, str], work: Path) -> dict[str, Any]:
    out = work / "bench.json"
    settings = {**mode.bench, "ECONBENCH_BENCH_BACKENDS": ",".join(mode.backends), "ECONBENCH_BENCH_JSON": str(out)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "ci/bench_gpu.py", "-rs"]
    step = _run("throughput", cmd, {**env, **settings}, mode.timeouts["throughput"])
    figures = json.loads(out.read_text()) if out.is_file() else {"core": {}, "ev": {}}
    step.update(figures)
    step["ok"] = bool(step["ok"] and figures["core"])
    return step


def host_copies(mode: Mode, env: dict[str, str], work: Path) -> dict[str, Any]:
    out = work / "host_copies.json"
    flags = ["--task", PPO_TASK, "--backend", "torch", *mode.ppo, "--skip-eval", "--out", str(work / "runs")]
    cmd = [sys.executable, "ci/host_copies.py", "--json", str(out), "--", *flags]
    step = _run("host copies", cmd, env, mode.timeouts["host copies"])
    if out.is_file():
        step.update(json.loads(out.read_text()))
    step["ok"] = bool(step["ok"] and step.get("env_steps"))
    return step


def trainer(mode: Mode, env: dict[str, str], work: Path) -> dict[str, Any]:
    out = work / "trainer.json"
    limit = mode.timeouts["trainer"]
    budget = str(limit - 20)  # the script stops starting runs in time to report; the limit kills a hung one
    cmd = [sys.executable, "ci/gpu_trainer.py", *mode.trainer, "--budget", budget, "--json", str(out)]
    step = _run("trainer", cmd, env, limit)
    if out.is_file():  # rewritten after every task: what was measured before a time-out is kept
        step.update(json.loads(out.read_text()))
    rows = step.get("tasks", {}).values()
    step["ok"] = bool(step["ok"] and any(r["status"] == "measured" for r in rows))
    return step


STEPS = {"agreement": agreement, "throughput": throughput, "host_copies": host_copies, "trainer": trainer}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "econbench": econbench.__version__}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        info["torch"] = None
    try:
        import cupy

        info["cupy"] = cupy.__version__
    except ImportError:
        info["cupy"] = None
    return info


def summary(result: dict[str, Any]) -> list[str]:
    lines = [f"ci/gpu.sh ({result['mode']}): {json.dumps(result['machine'])}"]
    a = result["steps"].get("agreement", {"backends": {}})
    for spec, r in a["backends"].items():
        if r["passed"] or r["failed"]:
            missing = f"; missing {r['tasks_missing']}" if r["tasks_missing"] else ""
            lines.append(
                f"agreement on {spec}: {r['tasks_agreeing']}/{a['task_ids']} task IDs agree with NumPy "
                f"({r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped{missing})"
            )
        else:
            lines.append(f"agreement on {spec}: not run ({'; '.join(r['skip_reasons'][:2]) or 'no test selected'})")
    t = result["steps"].get("throughput", {})
    for spec, rows in t.get("core", {}).items():
        lines.append(f"throughput on {spec} (BatchedEnv.step, env-steps/s at n_envs):")
        lines += [f"  {task:44s}{r['env_steps_per_sec']:>16,.0f} at {r['n_envs']:,d}" for task, r in rows.items()]
    for spec, r in t.get("ev", {}).items():
        lines.append(
            f"EVCharging-LargeCity-v0 on {spec}: {r['env_steps_per_sec']:.2f} steps/s at {r['drivers']:,d} drivers "
            f"({r['driver_steps_per_sec'] / 1e6:.1f}M driver-steps/s)"
        )
    h = result["steps"].get("host_copies", {})
    if h.get("env_steps"):
        syncs = "" if h["cuda_syncs"] is None else f", {h['cuda_syncs_per_step']:.2f} CUDA synchronizations"
        lines.append(
            f"shared PPO on {h['device']} ({h['backend']} backend, {h['task']}, {h['n_envs']} envs x {h['num_steps']} "
            f"steps per update): {h['host_copies_per_step']:.2f} device-to-host copies per env step{syncs} "
            f"({h['counted']}); {h['env_steps_per_sec']:,.0f} env-steps/s"
        )
    lines += trainer_lines(result["steps"].get("trainer", {}))
    for name, step in result["steps"].items():
        lines.append(f"{name}: {'ok' if step['ok'] else 'FAILED'} in {step['seconds']} s")
        if not step["ok"] and "output_tail" in step:
            lines.append("  " + step["output_tail"].strip().replace("\n", "\n  ")[-2000:])
    return lines


def trainer_lines(step: dict[str, Any]) -> list[str]:
    if not step.get("tasks"):
        return []
    m = step["matmul_flops_per_sec"]
    rate = f"{m['float32'] / 1e12:.2f} TFLOP/s in float32"
    if m["trainer_precision"] != "float32":
        rate += f", {m['trainer'] / 1e12:.2f} in {m['trainer_precision']}"
    sizes = ", ".join(f"{k}={v}" for k, v in step.get("overrides", {}).items())
    lines = [
        f"shared PPO end to end on {step.get('gpu') or step['device']} ({step['backend']} backend, packaged "
        f"hyperparameters{f' but {sizes}' if sizes else ''}; the bound: dense matmul {rate}, "
        f"the trainer's {m['trainer_precision']}):"
    ]
    for task, r in step["tasks"].items():
        name = task.removeprefix("econbench/")
        if r["status"] != "measured":
            lines.append(f"  {name:32s}{r['status']}: {r.get('reason') or r.get('error', '')}")
            continue
        before = "" if r["x_before"] is None else f", {r['x_before']:.2f}x the CPU before issue 19"
        lines.append(
            f"  {name:32s}{r['agent_steps_per_sec']:>14,.0f} agent-steps/s{before}, {r['fraction_of_bound']:.2%} "
            f"of the bound, simulation {r['simulation_share']:.0%} ({r['n_envs']} x {r['num_steps']}, "
            f"{r['updates']} update{'s' * (r['updates'] != 1)} in {r['seconds']:.1f} s)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="gpu")
    parser.add_argument("--json", help="write the figures here (default: .benchmarks/gpu-<mode>.json)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    args = parser.parse_args(argv)
    chosen = [name.strip().replace("-", "_").replace(" ", "_") for name in args.steps.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in STEPS]
    if unknown or not chosen:
        parser.error(f"--steps: unknown step(s) {unknown} (known: {', '.join(STEPS)})")
    mode = MODES[args.mode]
    out = Path(args.json or ROOT / ".benchmarks" / f"gpu-{args.mode}.json")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="econbench-gpu-") as tmp:
        work = Path(tmp)
        steps = {name: run(mode, env, work) for name, run in STEPS.items() if name in chosen}
    result = {
        "mode": args.mode,
        "machine": machine(),
        "ok": all(s["ok"] for s in steps.values()),
        "seconds": round(time.perf_counter() - t0, 1),
        "steps": steps,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(summary(result)))
    print(f"{'ok' if result['ok'] else 'FAILED'} in {result['seconds']} s; figures: {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
