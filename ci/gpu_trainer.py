"""The shared-PPO trainer end to end on one device: the trainer step of ci/gpu.sh (ci/gpu_check.py).

    python ci/gpu_trainer.py --mode gpu|cpu [--json OUT] [--updates N] [--n-envs N --num-steps N] [--budget S]

For each task of issue 19's end-to-end benchmark (``test_ppo_end_to_end`` in ci/bench_throughput.py, run there on
the CPU with the NumPy economies): the packaged hyperparameters (``SharedPPOConfig.for_task``) with the networks
and the economies on the device (``device="cuda", backend="torch"``; ``--mode cpu``: torch's CPU device), one
warm-up run of one update, then a timed run of ``--updates`` updates (RICECooperation-Bilateral-v0: one), no
evaluation. Reported per task: env-steps/s, agent-steps/s (every agent of every group), their ratio to the CPU
figure before issue 19, the FLOP bound on the same device (:func:`econbench.learn.flops.per_agent_step` FLOPs per
agent-step against the device's measured dense float32 matmul rate) and the simulation's share of the time
(``BatchedEnv.step``, ``reset`` and ``action_masks``; on CUDA the device time between CUDA events at their ends,
so nothing is synchronized for it).

Guards, so one slow task cannot take the others' time: the tasks run one after another and the JSON is
rewritten after each; a task whose warm-up took over ``--warmup-limit`` seconds, or whose timed run would not
fit what is left of ``--budget`` (estimated from the warm-up), is skipped and says so; a run past its task's
deadline is stopped at its next env step. A task that fails records its error and the others go on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch

from econbench.core import BatchedEnv
from econbench.learn import flops
from econbench.learn import shared_ppo as sppo
from econbench.learn.config import SharedPPOConfig
from econbench.registry import make_task

RICE_ID = "econbench/RICECooperation-Bilateral-v0"
# RICE last: its updates are the longest, so it cannot take the time of the others.
TASKS = ["econbench/RBCTax-v0", "econbench/InvestmentOligopoly-v0", "econbench/EVCharging-v0", RICE_ID]
FEWER = {RICE_ID: 1}  # timed updates of a task whose update is the longest (as PPO_FEWER in ci/bench_throughput.py)
# Agent-steps/s of the trainer before issue 19 on the CPU (NumPy economies, one torch thread): a copy of PPO_BEFORE
# in ci/bench_throughput.py (where they are explained), which is not imported here: importing it needs pytest and
# gymnasium and enumerates the task IDs. tests/learn/test_gpu_scripts.py checks that the copies agree.
BEFORE = {
    "econbench/RBCTax-v0": 100_000.0,
    "econbench/InvestmentOligopoly-v0": 79_000.0,
    RICE_ID: 7_900.0,
    "econbench/EVCharging-v0": 395_000.0,
}


class OutOfTime(Exception):
    """A run passed its task's deadline (raised at an env step)."""


def _median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def cuda_matmul_flops_per_sec(tf32: bool, size: int = 8192, repeats: int = 9) -> float:
    """Median FLOP/s of a float32 ``(size, size) @ (size, size)`` product on the current CUDA device, TF32 on or off,
    timed with ``torch.cuda.synchronize`` around each product after one untimed."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a, b = torch.randn(size, size, device="cuda"), torch.randn(size, size, device="cuda")
        a @ b
        times = []
        for _ in range(repeats):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            a @ b
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        del a, b
        return 2.0 * size**3 / _median(times)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def matmul_rates(device: torch.device, threads: int) -> dict[str, Any]:
    """The device's dense matmul FLOP/s in strict float32 and in the precision the trainer's float32 networks run
    at (TF32 where torch allows it for float32 products); ``bound`` is the latter."""
    if device.type == "cuda":
        tf32 = bool(torch.backends.cuda.matmul.allow_tf32)
        strict = cuda_matmul_flops_per_sec(tf32=False)
        trainer = cuda_matmul_flops_per_sec(tf32=True) if tf32 else strict
        return {"float32": strict, "trainer": trainer, "trainer_precision": "tf32" if tf32 else "float32"}
    rate = flops.matmul_flops_per_sec(threads)  # the CPU bench's measurement, at the trainer's threads
    return {"float32": rate, "trainer": rate, "trainer_precision": "float32"}


class SimulationClock:
    """Wraps ``BatchedEnv.step``, ``reset`` and ``action_masks`` while active: their time (on CUDA, between events
    recorded on the stream at each call's start and end: the device's time for the simulation's work, with no
    synchronization), and a deadline checked at each step."""

    NAMES = ("step", "reset", "action_masks")

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.seconds = 0.0
        self.events: list[tuple[Any, Any]] = []
        self.deadline = float("inf")
        self._depth = 0
        self._originals: dict[str, Callable[..., Any]] = {}

    def start(self, deadline: float) -> None:
        self.seconds, self.events, self.deadline = 0.0, [], deadline

    def total(self) -> float:
        """Seconds in the wrapped calls since ``start`` (on CUDA after the run has synchronized)."""
        if self.cuda:
            torch.cuda.synchronize()
            return sum(a.elapsed_time(b) for a, b in self.events) / 1e3
        return self.seconds

    def __enter__(self) -> SimulationClock:
        for name in self.NAMES:
            self._originals[name] = original = getattr(BatchedEnv, name)
            setattr(BatchedEnv, name, self._wrap(original, name == "step"))
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, original in self._originals.items():
            setattr(BatchedEnv, name, original)

    def _wrap(self, method: Callable[..., Any], check: bool) -> Callable[..., Any]:
        clock = self

        def wrapper(env: BatchedEnv, *a: Any, **k: Any) -> Any:
            if check and time.perf_counter() > clock.deadline:
                raise OutOfTime
            if clock._depth:
                return method(env, *a, **k)
            clock._depth += 1
            if clock.cuda:
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
            t0 = time.perf_counter()
            try:
                return method(env, *a, **k)
            finally:
                clock._depth -= 1
                if clock.cuda:
                    end.record()
                    clock.events.append((begin, end))
                else:
                    clock.seconds += time.perf_counter() - t0

        return wrapper


def config(task_id: str, updates: int, run: str, out: str, device: str, sizes: dict[str, int]) -> SharedPPOConfig:
    cfg = SharedPPOConfig.for_task(task_id, skip_eval=True, out=out, run_name=run, device=device, backend="torch")
    for key, value in sizes.items():
        setattr(cfg, key, value)
    cfg.total_timesteps = updates * cfg.n_envs * cfg.num_steps
    return cfg


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_task(
    task_id: str, args: argparse.Namespace, device: torch.device, clock: SimulationClock, rates: dict[str, Any]
) -> dict[str, Any]:
    sizes = {k: v for k, v in (("n_envs", args.n_envs), ("num_steps", args.num_steps)) if v}
    updates = min(args.updates, FEWER.get(task_id, args.updates))
    task = make_task(task_id)
    agents = sum(g.n_agents for g in task.groups)
    row: dict[str, Any] = {"status": "error", "agents": agents, "updates": updates}
    with tempfile.TemporaryDirectory(prefix="econbench-trainer-") as out:
        warm = config(task_id, 1, "warmup", out, str(device), sizes)
        row.update(n_envs=warm.n_envs, num_steps=warm.num_steps, threads=warm.threads, update_rows=warm.update_rows)
        t0 = time.perf_counter()
        clock.start(min(t0 + args.warmup_limit, args.end))
        try:
            sppo.train(warm)
            _synchronize(device)
        except OutOfTime:
            why = f"its limit of {args.warmup_limit:.0f} s" if t0 + args.warmup_limit < args.end else "the budget"
            row.update(status="skipped", reason=f"warm-up stopped at {why} after {time.perf_counter() - t0:.1f} s")
            return row
        row["warmup_seconds"] = warm_s = time.perf_counter() - t0
        left = args.end - time.perf_counter()
        if warm_s > args.warmup_limit or warm_s * updates > left:
            why = f"over {args.warmup_limit:.0f} s" if warm_s > args.warmup_limit else f"{left:.0f} s of budget left"
            row.update(status="skipped", reason=f"warm-up took {warm_s:.1f} s ({why}): timed run not started")
            return row
        cfg = config(task_id, updates, "measured", out, str(device), sizes)
        t0 = time.perf_counter()
        clock.start(args.end)
        try:
            sppo.train(cfg)
            _synchronize(device)
        except OutOfTime:
            row.update(
                status="skipped", reason=f"timed run stopped at the budget after {time.perf_counter() - t0:.0f} s"
            )
            return row
        seconds = time.perf_counter() - t0
    rate = cfg.total_timesteps / seconds
    work = flops.per_agent_step(task, cfg)
    bound = rates["trainer"] / work
    row.update(
        status="measured",
        seconds=seconds,
        env_steps=cfg.total_timesteps,
        env_steps_per_sec=rate,
        agent_steps_per_sec=rate * agents,
        simulation_share=clock.total() / seconds,
        flops_per_agent_step=work,
        bound_agent_steps_per_sec=bound,
        fraction_of_bound=rate * agents / bound,
        float32_bound_agent_steps_per_sec=rates["float32"] / work,
        before_agent_steps_per_sec=BEFORE.get(task_id),
        x_before=rate * agents / BEFORE[task_id] if task_id in BEFORE else None,
    )
    if not 0 < row["fraction_of_bound"] < 1:  # above the bound: the FLOP count is wrong (as the CPU bench asserts)
        row.update(status="error", error=f"{row['fraction_of_bound']:.3g} of the FLOP bound: not in (0, 1)")
    return row


@contextmanager
def _quiet_progress() -> Iterator[None]:
    """The trainer's tqdm bars off (they go to stderr, one per run)."""
    import tqdm.auto

    original = sppo.tqdm
    sppo.tqdm = lambda *a, **k: tqdm.auto.tqdm(*a, **{**k, "disable": True})  # type: ignore[assignment]
    try:
        yield
    finally:
        sppo.tqdm = original  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("gpu", "cpu"), default="gpu", help="gpu: CUDA; cpu: torch's CPU device")
    parser.add_argument("--json", help="write the figures here (after every task)")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task IDs (default: the four)")
    parser.add_argument("--updates", type=int, default=2, help="timed updates per task (RICE-Bilateral: 1)")
    parser.add_argument("--n-envs", type=int, default=0, help="override the packaged n_envs (0: keep)")
    parser.add_argument("--num-steps", type=int, default=0, help="override the packaged num_steps (0: keep)")
    parser.add_argument("--budget", type=float, default=170.0, help="seconds for the whole script")
    parser.add_argument("--warmup-limit", type=float, default=60.0, help="skip a task's timed run past this warm-up")
    args = parser.parse_args(argv)
    args.end = STARTED + args.budget
    if args.mode == "gpu" and not torch.cuda.is_available():
        print("gpu_trainer: torch sees no CUDA device", file=sys.stderr)
        return 2
    device = torch.device("cuda" if args.mode == "gpu" else "cpu")
    tasks = [t for t in args.tasks.split(",") if t]
    overrides = {k: v for k, v in (("n_envs", args.n_envs), ("num_steps", args.num_steps)) if v}
    result: dict[str, Any] = {"mode": args.mode, "device": str(device), "backend": "torch", "overrides": overrides}
    result["tasks"] = {}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)

    def write() -> None:
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")

    threads = SharedPPOConfig.for_task(tasks[0]).threads if tasks else 1
    result["matmul_flops_per_sec"] = rates = matmul_rates(device, threads)
    write()
    with SimulationClock(cuda=device.type == "cuda") as clock, _quiet_progress():
        for task_id in tasks:
            t0 = time.perf_counter()
            try:
                row = measure_task(task_id, args, device, clock, rates)
            except Exception as exc:  # one task's failure must not stop the others
                row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
                row["traceback"] = traceback.format_exc()[-3000:]
            row["step_seconds"] = round(time.perf_counter() - t0, 1)
            result["tasks"][task_id] = row
            write()
            print(f"{task_id}: {row['status']} in {row['step_seconds']} s", row.get("reason") or row.get("error") or "")
    result["script_seconds"] = round(time.perf_counter() - STARTED, 1)
    write()
    rows = result["tasks"].values()
    ok = not any(r["status"] == "error" for r in rows) and any(r["status"] == "measured" for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
