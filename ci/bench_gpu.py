"""Throughput of the batched cores on a device backend (torch on CUDA, CuPy): the benchmark step of ci/gpu.sh.

The cases of ci/bench_throughput.py (its task list, memory estimate and EV city), stepped through
``BatchedEnv`` with fixed actions already on the device: what a trainer that keeps the economies on the
GPU sees. The Gymnasium adapters copy to NumPy every step, so they stay in ci/throughput.sh (CPU). Each
timing waits for the device to finish (``synchronize``), as GPU work is queued asynchronously.

Settings (environment): ``ECONBENCH_BENCH_BACKENDS`` (comma-separated ``name[:device]``, default
``torch:cuda,cupy``), ``ECONBENCH_BENCH_ENVS`` (65,536: each task runs at the largest of 65,536, 16,384, ...
that fits half the device's free memory), ``ECONBENCH_BENCH_EV_DRIVERS`` (10,000,000 drivers in one city),
``ECONBENCH_BENCH_STEPS`` (steps per round, 10), ``ECONBENCH_BENCH_ROUNDS`` (3), ``ECONBENCH_BENCH_JSON``
(write the figures there). ci/gpu.sh --cpu runs it on ``torch:cpu`` at tiny sizes.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_throughput as bt
import numpy as np
import pytest

import econbench
from econbench.backend import Backend, BackendUnavailableError, get_backend

BACKENDS = [b.strip() for b in os.environ.get("ECONBENCH_BENCH_BACKENDS", "torch:cuda,cupy").split(",") if b.strip()]
N_ENVS = int(os.environ.get("ECONBENCH_BENCH_ENVS", "65536"))
EV_DRIVERS = int(os.environ.get("ECONBENCH_BENCH_EV_DRIVERS", "10000000"))
STEPS = int(os.environ.get("ECONBENCH_BENCH_STEPS", "10"))
ROUNDS = int(os.environ.get("ECONBENCH_BENCH_ROUNDS", "3"))
JSON_OUT = os.environ.get("ECONBENCH_BENCH_JSON")
# Bytes per driver the city may take on the device: the state budget (1 KB), about 4x what the state and a step's
# temporaries take on the CPU (66 + 193 B: ci/throughput.sh's EV table)
EV_BYTES_PER_DRIVER = bt.EV_MEMORY_GOAL

CORE: dict[str, dict[str, dict[str, Any]]] = {}  # backend spec -> task -> figures
EV: dict[str, dict[str, Any]] = {}  # backend spec -> figures


def _backend(spec: str) -> Backend:
    name, _, device = spec.partition(":")
    try:
        return get_backend(name, device=device or None)
    except BackendUnavailableError as exc:
        pytest.skip(f"{spec}: {exc}")


def synchronize(b: Backend) -> None:
    """Wait until the device has run everything queued (a no-op on the host)."""
    if b.name == "torch" and b.device.type == "cuda":
        b._native.cuda.synchronize(b.device)
    elif b.name == "cupy":
        b._native.cuda.get_current_stream().synchronize()


def _free_bytes(b: Backend) -> float:
    """Half the device's free memory (the rest: the caching allocator's slack, other processes); host: the CPU
    benchmarks' budget."""
    if b.name == "torch" and b.device.type == "cuda":
        return 0.5 * b._native.cuda.mem_get_info(b.device)[0]
    if b.name == "cupy":
        return 0.5 * b._native.cuda.runtime.memGetInfo()[0]
    return bt.MEMORY_BUDGET


def _release(b: Backend) -> None:
    """Hand the caching allocators' blocks back, so the next case's memory estimate sees them free."""
    if b.name == "torch" and b.device.type == "cuda":
        b._native.cuda.empty_cache()
    elif b.name == "cupy":
        b._native.get_default_memory_pool().free_all_blocks()


def _largest(n: int, fits: Any) -> int | None:
    """The largest of n, n/4, n/16, ... (at least 1) that ``fits``; None if not even one does."""
    while n >= 1:
        if fits(n):
            return n
        n //= 4
    return None


def _device_actions(env: Any, seed: int = 0) -> dict[str, Any]:
    """Uniform actions from the groups' spaces (masks advisory), drawn once on the host and moved to the device."""
    from econbench.adapters.views import action_space
    from econbench.core import DiscreteSpec

    dtype = np.dtype(env.backend.dtype_name)
    out = {}
    for g in env.groups:
        space = action_space(g, (env.n_envs, g.n_agents), dtype)
        space.seed(seed)
        discrete = isinstance(g.action, DiscreteSpec)
        out[g.name] = env.backend.asarray(space.sample(), dtype=env.xp.int64 if discrete else None)
    return out


@pytest.fixture(autouse=True)
def _free_after() -> Iterator[None]:
    yield
    for spec in BACKENDS:
        name, _, device = spec.partition(":")
        try:
            _release(get_backend(name, device=device or None))
        except BackendUnavailableError:
            pass


@pytest.fixture(autouse=True, scope="module")
def _write_json() -> Iterator[None]:
    yield
    if JSON_OUT:
        Path(JSON_OUT).parent.mkdir(parents=True, exist_ok=True)
        Path(JSON_OUT).write_text(json.dumps({"core": CORE, "ev": EV}, indent=2) + "\n")


@pytest.mark.parametrize("task_id", bt.IDS)
@pytest.mark.parametrize("spec", BACKENDS)
def test_core_throughput_on_the_device(spec: str, task_id: str) -> None:
    """Env-steps/s of ``BatchedEnv.step`` (validation, dynamics, observations) at the largest batch that fits."""
    b = _backend(spec)
    budget = _free_bytes(b)
    n = _largest(N_ENVS, lambda k: bt._memory_needed(task_id, k) <= budget)
    if n is None:
        pytest.skip(f"{task_id}: one economy needs ~{bt._memory_needed(task_id, 1) / 1e9:.1f} GB")
    env = econbench.make_batched(task_id, n, b.name, device=b.device, seed=0, mask_violation="execute")
    actions = _device_actions(env)
    steps = max(1, min(STEPS, env.horizon))
    t = env.horizon  # steps since the last reset: reset (untimed) before a round would pass the horizon

    def round_() -> float:
        nonlocal t
        if t + steps > env.horizon:
            env.reset(seed=0)
            t = 0
        synchronize(b)
        t0 = time.perf_counter()
        for _ in range(steps):
            env.step(actions, past_end=True)  # some envs may have terminated: their results are not read
        synchronize(b)
        t += steps
        return time.perf_counter() - t0

    round_()  # warm-up: allocations, kernel compilation (CuPy), caches
    seconds = statistics.median(round_() for _ in range(ROUNDS))
    agents = sum(g.n_agents for g in env.groups)
    rate = n * steps / seconds
    CORE.setdefault(spec, {})[task_id] = {
        "n_envs": n,
        "steps_per_round": steps,
        "rounds": ROUNDS,
        "env_steps_per_sec": rate,
        "agent_steps_per_sec": rate * agents,
    }
    assert rate > 0


@pytest.mark.parametrize("spec", BACKENDS)
def test_ev_large_city_on_the_device(spec: str) -> None:
    """Steps/s of one city of ``EV_DRIVERS`` drivers at the evening peak, as bench_throughput's EV case: only
    ``BatchedEnv.step`` is timed (the rule's actions are computed between steps), from the same state each round."""
    b = _backend(spec)
    budget = _free_bytes(b)
    n = _largest(EV_DRIVERS, lambda k: EV_BYTES_PER_DRIVER * k <= budget)
    if n is None:
        pytest.skip("not even one driver fits")
    env, rule = bt._ev_city(n, b.name, b.device)
    start = bt.copy_state(env)

    def round_() -> float:
        env.state, env.t = start
        obs = env.observe()
        spent = 0.0
        for _ in range(bt.EV_STEPS):
            act = {"drivers": rule(obs["drivers"])}
            synchronize(b)
            t0 = time.perf_counter()
            obs, *_ = env.step(act)
            synchronize(b)
            spent += time.perf_counter() - t0
        return spent

    round_()  # warm-up
    rate = bt.EV_STEPS / statistics.median(round_() for _ in range(ROUNDS))
    EV[spec] = {
        "drivers": n,
        "stations": env.task.params.n_stations,
        "steps_per_round": bt.EV_STEPS,
        "env_steps_per_sec": rate,
        "driver_steps_per_sec": rate * n,
        "state_bytes_per_driver": bt._state_bytes(env) / n,
    }
    assert rate > 0
