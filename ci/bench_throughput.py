"""Throughput benchmarks: env-steps/s of every task's native vector env, and its ratio to
Gymnasium's ``SyncVectorEnv`` over single envs, measured in the same run; agent-steps/s of the
RBC economy's batched core; region-steps/s of RICE-N against the reference simulator run in the
same session (when a local copy is configured); end-to-end env-steps/s of the shared-parameter PPO baseline.

Run with ``ci/throughput.sh`` (full) or ``ci/throughput.sh --short`` (CI). Results:
pytest-benchmark's table (seconds per batch of steps) and, per case,
``extra_info["env_steps_per_sec"]`` (``agent_steps_per_sec`` for RBC); the JSON lands in
``.benchmarks/``. Machines are shared and noisy, so the only gates are same-run ratios and
generous absolute floors; ci/conftest.py prints the figures with the issue's goals.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import econbench
from econbench.core import Dynamics
from econbench.registry import make_task

SHORT = os.environ.get("ECONBENCH_BENCH_MODE", "short") == "short"
SIZES = [1, 64, 4096, 65536]
# RICE's protocol variants and role views share the base task's core: the generic cases run its two main IDs
# EV charging's variants share one drivers' core: the generic cases run the day and the steady mode; the
# operator solves one equilibrium per env on the host (a planner's view, not a batched core), and the large
# city is measured by its number of drivers in the EV section below.
IDS = [
    t
    for t in econbench.task_ids()
    if ("/RICECooperation-" not in t or t.split("/")[-1] in ("RICECooperation-v0", "RICECooperation-Region-v0"))
    and ("/EVCharging-" not in t or t.split("/")[-1] in ("EVCharging-v0", "EVCharging-Steady-v0"))
]
LQ_IDS = [t for t in IDS if "InvestmentLQ" in t or "InvestmentOligopoly" in t]
RATIO_GOAL_IDS = [t for t in IDS if "/Investment" in t]  # the foundation issue's 20x goal; other tasks report only
STEPS = {1: 200, 64: 100, 4096: 20, 65536: 5} if SHORT else {1: 2000, 64: 1000, 4096: 100, 65536: 20}
ROUNDS = 3 if SHORT else 7
RATIO_ENVS = 4096
SYNC_STEPS = 3 if SHORT else 10

RATES: dict[tuple[str, int], float] = {}  # (task, n_envs) -> median env-steps/s, for the summary table
RATIOS: dict[str, float] = {}  # task -> native / SyncVectorEnv at RATIO_ENVS
GOALS: dict[str, float] = {}  # LQ task -> env-steps/s at 65,536 envs (goal 10M)


MEMORY_BUDGET = 6e9  # bytes: observations of a batch, times a few for the step's temporaries, must fit beside the rest


WORK_PER_ROUND = 2e8 if SHORT else 2e9  # bytes of observations a round may produce: heavy tasks take fewer steps


def _bytes_per_env(task_id: str) -> int:
    from econbench.registry import make_task

    task = make_task(task_id)
    return (
        sum(
            g.n_agents * (int(np.prod(g.observation.shape)) + (sum(g.action.nvec) if g.masked else 0))  # type: ignore[union-attr]
            for g in task.groups
        )
        * 8
    )


def _steps(task_id: str, n_envs: int, wanted: int, least: int = 2) -> int:
    return max(least, min(wanted, int(WORK_PER_ROUND / (_bytes_per_env(task_id) * n_envs))))


def _memory_needed(task_id: str, n_envs: int) -> float:
    """Bytes a batch's steps need: its observations, times a few for the step's temporaries."""
    return 4 * _bytes_per_env(task_id) * n_envs


def _skip_if_too_big(task_id: str, n_envs: int) -> None:
    """RBC's digit-encoded observations are ~230 KB per economy: 65,536 of them would not fit in memory."""
    needed = _memory_needed(task_id, n_envs)
    if needed > MEMORY_BUDGET:
        pytest.skip(f"{task_id} at {n_envs} envs needs ~{needed / 1e9:.0f} GB (budget {MEMORY_BUDGET / 1e9:.0f} GB)")


SAMPLED = {"mask_violation": "execute"}  # uniformly sampled actions ignore the masks (EV's busy drivers): advisory


def _actions(vec: gym.vector.VectorEnv, seed: int = 0) -> Any:
    vec.action_space.seed(seed)
    return vec.action_space.sample()


def _steps_per_sec(vec: gym.vector.VectorEnv, actions: Any, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        vec.step(actions)
    return vec.num_envs * steps / (time.perf_counter() - t0)


@pytest.mark.parametrize("n_envs", SIZES)
@pytest.mark.parametrize("task_id", IDS)
def test_native_vector_throughput(benchmark: Any, task_id: str, n_envs: int) -> None:
    _skip_if_too_big(task_id, n_envs)
    vec = gym.make_vec(task_id, num_envs=n_envs, vectorization_mode="vector_entry_point", **SAMPLED)
    vec.reset(seed=0)
    actions = _actions(vec)
    steps = _steps(task_id, n_envs, STEPS[n_envs])
    benchmark.group = f"native vector env, {n_envs} envs ({steps} steps per round)"

    def run() -> None:
        for _ in range(steps):
            vec.step(actions)  # results dropped at once: holding them would keep every step's observations alive

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    if benchmark.enabled and benchmark.stats is not None:
        rate = n_envs * steps / benchmark.stats.stats.median
        benchmark.extra_info["env_steps_per_sec"] = rate
        RATES[(task_id, n_envs)] = rate
        assert rate > 0


STEP_BYTES: dict[str, float] = {}  # task -> bytes one env-step writes (ci/bandwidth.py)
COPY: list[float] = []  # [bytes/s of a large copy, measured in this run]
BATCH_GOAL = 0.9  # issue 20: the per-env rate at any n_envs within 10 % of the best at a smaller n_envs


@pytest.mark.parametrize("task_id", IDS)
def test_step_bytes_and_copy_bandwidth(task_id: str) -> None:
    """What the memory bound needs: the bytes a step writes (per economy) and, once, the machine's copy rate."""
    import bandwidth

    if not COPY:
        COPY.append(bandwidth.copy_bytes_per_sec())
    STEP_BYTES[task_id] = bandwidth.step_bytes(task_id)
    assert STEP_BYTES[task_id] > 0 and COPY[0] > 0


# Tasks whose observations come in blocks every agent of an economy shares (Dynamics.observe_blocks): BatchedEnv
# with flat observations (what the vector envs return) against obs_blocks=True, interleaved in the same rounds.
# One task per core and observation layout, the shortest ID: RICE's protocols observe different columns (the
# bilateral one the most), its region view and RBC's variants share their base task's.
_BY_CORE: dict[Any, str] = {}
for _t in sorted(econbench.task_ids(), key=len):
    _task = make_task(_t)
    if _task.dynamics.observe_blocks is not Dynamics.observe_blocks:
        _layout = (_task.dynamics, tuple((g.name, g.observation.shape) for g in _task.groups))
        _BY_CORE.setdefault(_layout, _t)
BLOCK_IDS = sorted(_BY_CORE.values())
BLOCK_SIZES = [1, 64, 1024, 4096]
BLOCK_RATES: dict[tuple[str, int], dict[str, float]] = {}  # (task, n_envs) -> {"flat": rate, "blocks": rate}
BLOCK_BYTES: dict[str, float] = {}  # task -> bytes one env-step writes with obs_blocks=True


def _core_rate(env: Any, acts: Any, steps: int) -> float:
    """Env-steps/s of ``BatchedEnv.step`` over ``steps`` steps; envs whose episode ended are reset untimed."""
    spent = 0.0
    for _ in range(steps):
        if bool(env.ended.any()):
            env.reset()
        t0 = time.perf_counter()
        env.step(acts, past_end=True)
        spent += time.perf_counter() - t0
    return env.n_envs * steps / spent


@pytest.mark.parametrize("n_envs", BLOCK_SIZES)
@pytest.mark.parametrize("task_id", BLOCK_IDS)
def test_observation_blocks(task_id: str, n_envs: int) -> None:
    """The batched core with observations as shared blocks (``BatchedEnv(obs_blocks=True)``) against flat ones:
    median env-steps/s of interleaved rounds, and the bytes a step writes either way."""
    import bandwidth

    from econbench.core import BatchedEnv

    _skip_if_too_big(task_id, n_envs)
    task = make_task(task_id)
    envs = {
        mode: BatchedEnv(task, n_envs, seed=0, obs_blocks=mode == "blocks", **SAMPLED) for mode in ("flat", "blocks")
    }
    acts = bandwidth.uniform_actions(task, n_envs, np.random.default_rng(0))
    steps = _steps(task_id, n_envs, STEPS.get(n_envs, STEPS[4096] * 4), least=3)
    rates: dict[str, list[float]] = {"flat": [], "blocks": []}
    for env in envs.values():
        env.reset(seed=0)
        _core_rate(env, acts, 1)  # warm-up
    for _ in range(ROUNDS):
        for mode, env in envs.items():
            rates[mode].append(_core_rate(env, acts, steps))
    BLOCK_RATES[(task_id, n_envs)] = {mode: float(np.median(r)) for mode, r in rates.items()}
    if task_id not in BLOCK_BYTES:  # once per task: each count builds and steps a batch
        BLOCK_BYTES[task_id] = bandwidth.step_bytes(task_id, obs_blocks=True)
        assert BLOCK_BYTES[task_id] < bandwidth.step_bytes(task_id)  # the shared blocks are written once
    assert all(r > 0 for r in BLOCK_RATES[(task_id, n_envs)].values())


@pytest.mark.parametrize("task_id", IDS)
def test_native_vs_sync_vector_env(benchmark: Any, task_id: str) -> None:
    """Same run, interleaved rounds: the native batch against SyncVectorEnv of single envs."""
    native = gym.make_vec(task_id, num_envs=RATIO_ENVS, vectorization_mode="vector_entry_point", **SAMPLED)
    sync = gym.make_vec(task_id, num_envs=RATIO_ENVS, vectorization_mode="sync", **SAMPLED)
    native.reset(seed=0)
    sync.reset(seed=0)
    a_native, a_sync = _actions(native), _actions(sync)
    ratios = []

    fast_steps, slow_steps = _steps(task_id, RATIO_ENVS, SYNC_STEPS * 10), _steps(task_id, RATIO_ENVS, SYNC_STEPS, 1)

    def round_() -> None:
        fast = _steps_per_sec(native, a_native, fast_steps)
        slow = _steps_per_sec(sync, a_sync, slow_steps)
        ratios.append(fast / slow)

    benchmark.group = f"native / SyncVectorEnv at {RATIO_ENVS} envs"
    heavy = _bytes_per_env(task_id) > 10_000
    benchmark.pedantic(round_, rounds=1 if SHORT and heavy else 3, warmup_rounds=0, iterations=1)
    ratio = float(np.median(ratios))
    benchmark.extra_info["ratio_native_over_sync"] = ratio
    RATIOS[task_id] = ratio
    if task_id in RATIO_GOAL_IDS:
        assert ratio >= 20.0, f"native vector env only {ratio:.1f}x SyncVectorEnv at {RATIO_ENVS} envs (goal 20x)"


@pytest.mark.parametrize("task_id", LQ_IDS)
def test_lq_goal_at_65536_envs(task_id: str) -> None:
    """The issue's goal: >= 10M env-steps/s at 65,536 envs for the LQ tasks (floor here: 2M, for noisy CI)."""
    vec = gym.make_vec(task_id, num_envs=65536, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    actions = _actions(vec)
    _steps_per_sec(vec, actions, 2)  # warm-up
    rate = float(np.median([_steps_per_sec(vec, actions, STEPS[65536]) for _ in range(ROUNDS)]))
    GOALS[task_id] = rate
    assert rate >= 2e6


# ---------------------------------------------------------------------------- RBC: agent-steps/s of the batched core
RBC_ID = "econbench/RBCTax-v0"
RBC_SIZES = [1, 64, 1024]
RBC_STEPS = {1: 300, 64: 60, 1024: 6} if SHORT else {1: 2000, 64: 400, 1024: 40}
RBC_AGENT_GOAL = 1e6  # the RBC issue's goal: agent-steps/s at 1,024 envs (gate: RBC_AGENT_FLOOR, for noisy CI)
RBC_AGENT_FLOOR = 2e5
RBC_RATIO_GOAL = 100.0  # ... and 1,024 envs at >= 100x the per-env rate of one env (gate: RBC_RATIO_FLOOR)
RBC_RATIO_FLOOR = 2.0

RBC_RATES: dict[int, float] = {}  # n_envs -> median agent-steps/s
RBC_RATIO: list[float] = []  # [median env-steps/s at 1,024 envs over that of one env], same-process rounds
RBC_AGENTS = sum(g.n_agents for g in econbench.make_batched(RBC_ID, n_envs=1).groups)  # 100 consumers, 10 firms, 1 gov.


def _rbc_core(n_envs: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The batched core on NumPy (float64, actions validated, observations built) and fixed random valid actions."""
    env = econbench.make_batched(RBC_ID, n_envs=n_envs, seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    nvecs = {g.name: np.asarray(g.action.nvec) for g in env.groups}  # type: ignore[union-attr]
    actions = {g.name: rng.integers(0, nvecs[g.name], (n_envs, g.n_agents, nvecs[g.name].size)) for g in env.groups}
    return env, actions


def _core_env_steps_per_sec(env: Any, actions: dict[str, np.ndarray], steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(actions, past_end=True)  # past the horizon too: the dynamics have no data-dependent cost
    return env.n_envs * steps / (time.perf_counter() - t0)


@pytest.mark.parametrize("n_envs", RBC_SIZES)
def test_rbc_agent_steps(benchmark: Any, n_envs: int) -> None:
    """Agent-steps/s of ``BatchedEnv.step`` for RBCTax-v0: one env-step moves 100 consumers, 10 firms, 1 government."""
    env, actions = _rbc_core(n_envs)
    steps = RBC_STEPS[n_envs]
    benchmark.group = f"RBCTax-v0 batched core (agent-steps), {steps} steps per round"

    def run() -> None:
        for _ in range(steps):
            env.step(actions, past_end=True)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    if benchmark.enabled and benchmark.stats is not None:
        env_rate = n_envs * steps / benchmark.stats.stats.median
        benchmark.extra_info["env_steps_per_sec"] = env_rate
        benchmark.extra_info["agent_steps_per_sec"] = RBC_RATES[n_envs] = env_rate * RBC_AGENTS
        if n_envs == 1024:
            assert RBC_RATES[n_envs] >= RBC_AGENT_FLOOR, (
                f"{RBC_RATES[n_envs]:.3g} agent-steps/s at 1,024 envs "
                f"(floor {RBC_AGENT_FLOOR:.0g}, goal {RBC_AGENT_GOAL:.0g})"
            )


def test_rbc_batching_ratio(benchmark: Any) -> None:
    """Env-steps/s at 1,024 envs over one env's, from interleaved rounds in this process (noise hits both alike)."""
    (one, a_one), (many, a_many) = _rbc_core(1), _rbc_core(1024)
    _core_env_steps_per_sec(one, a_one, 10)  # warm-up
    _core_env_steps_per_sec(many, a_many, 1)
    ratios = []

    def round_() -> None:
        slow = _core_env_steps_per_sec(one, a_one, RBC_STEPS[1])
        fast = _core_env_steps_per_sec(many, a_many, RBC_STEPS[1024])
        ratios.append(fast / slow)

    benchmark.group = "RBCTax-v0: 1,024 envs / 1 env (env-steps/s)"
    benchmark.pedantic(round_, rounds=ROUNDS, warmup_rounds=0, iterations=1)
    ratio = float(np.median(ratios))
    benchmark.extra_info["ratio_1024_over_1"] = ratio
    RBC_RATIO[:] = [ratio]
    assert ratio >= RBC_RATIO_FLOOR, (
        f"1,024 envs only {ratio:.1f}x one env's rate (floor {RBC_RATIO_FLOOR}, goal {RBC_RATIO_GOAL:.0f}x)"
    )


# ---------------------------------------------------------------------------- RICE: region-steps/s against the reference
RICE_IDS = {"none": "econbench/RICECooperation-v0", "bilateral": "econbench/RICECooperation-Bilateral-v0"}
RICE_SIZES = [1, 64, 1024]
RICE_EPISODES = {1: 10, 64: 2, 1024: 1} if SHORT else {1: 50, 64: 10, 1024: 3}
RICE_ROUNDS = 3 if SHORT else 5
RICE_RATIO_GOALS = {1: 10.0, 1024: 200.0}  # the RICE issue's goals: x the reference's region-steps/s
# A local copy of mila-iqia/climate-cooperation-competition @ 148ed85 (never committed) and a Python with its
# requirements (numpy 1.26, gym 0.21/0.22, pyyaml); without them the reference's side is skipped.
RICE_REFERENCE = os.environ.get("ECONBENCH_RICE_REFERENCE")
RICE_REFERENCE_PYTHON = os.environ.get("ECONBENCH_RICE_REFERENCE_PYTHON", sys.executable)
RICE_REFERENCE_EPISODES = 3 if SHORT else 5
RICE_RATES: dict[tuple[str, int], float] = {}  # (protocol, n_envs) -> median region-steps/s
RICE_REFERENCE_RATES: dict[str, float] = {}  # protocol -> the reference's median region-steps/s

# Full episodes of the reference env (reset + every step) with pre-drawn uniform actions, in its own folder.
_REFERENCE_TIMER = """
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, ".")
import numpy as np
from rice import Rice
negotiation, episodes = sys.argv[1] == "1", int(sys.argv[2])
env = Rice(num_discrete_action_levels=10, negotiation_on=negotiation)
nvec = np.asarray(env.actions_nvec)
rng = np.random.default_rng(0)
times = []
for _ in range(episodes + 1):
    acts = rng.integers(0, nvec, (env.episode_length, env.num_regions, nvec.size))
    per_step = [dict(enumerate(a)) for a in acts]
    t0 = time.perf_counter()
    env.reset()
    for a in per_step:
        env.step(a)
    times.append(time.perf_counter() - t0)
print(json.dumps(env.episode_length * env.num_regions / statistics.median(times[1:])))
"""


def _rice_reference_rate(protocol: str) -> float:
    import subprocess

    if not RICE_REFERENCE:
        pytest.skip(
            "set ECONBENCH_RICE_REFERENCE to a local copy of the reference (and "
            "ECONBENCH_RICE_REFERENCE_PYTHON to a Python with its requirements) to measure it"
        )
    if protocol not in RICE_REFERENCE_RATES:
        done = subprocess.run(
            [
                RICE_REFERENCE_PYTHON,
                "-c",
                _REFERENCE_TIMER,
                "1" if protocol == "bilateral" else "0",
                str(RICE_REFERENCE_EPISODES),
            ],
            cwd=RICE_REFERENCE,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the reference failed to run:\n{done.stderr[-2000:]}")
        RICE_REFERENCE_RATES[protocol] = float(done.stdout.strip().splitlines()[-1])
    return RICE_REFERENCE_RATES[protocol]


def _rice_region_steps(protocol: str, n_envs: int, episodes: int) -> float:
    """Region-steps/s of whole episodes (reset + every step) of the batched core, actions drawn beforehand.

    Upstream's semantics for the comparison: masks advisory (``mask_violation="execute"``), as the
    reference does not check them; out-of-range checks and observations are included.
    """
    env = econbench.make_batched(RICE_IDS[protocol], n_envs=n_envs, seed=0, mask_violation="execute")
    task = env.task
    nvec = np.asarray(task.groups[0].action.nvec)
    acts = np.random.default_rng(0).integers(0, nvec, (env.horizon, n_envs, task.params.n_regions, nvec.size))
    t0 = time.perf_counter()
    for _ in range(episodes):
        env.reset(seed=0)
        for k in range(env.horizon):
            env.step({"regions": acts[k]})
    return episodes * env.horizon * n_envs * task.params.n_regions / (time.perf_counter() - t0)


@pytest.mark.parametrize("n_envs", RICE_SIZES)
@pytest.mark.parametrize("protocol", list(RICE_IDS))
def test_rice_region_steps(benchmark: Any, protocol: str, n_envs: int) -> None:
    """Region-steps/s of RICE-N's batched core (27 regions; float64 state, float32 observations)."""
    episodes = RICE_EPISODES[n_envs]
    benchmark.group = f"RICECooperation ({protocol}) batched core, {n_envs} envs x {episodes} episodes per round"
    rates: list[float] = []
    _rice_region_steps(protocol, n_envs, 1)  # warm-up: allocations, caches
    benchmark.pedantic(
        lambda: rates.append(_rice_region_steps(protocol, n_envs, episodes)),
        rounds=RICE_ROUNDS,
        warmup_rounds=0,
        iterations=1,
    )
    RICE_RATES[(protocol, n_envs)] = rate = float(np.median(rates))
    benchmark.extra_info["region_steps_per_sec"] = rate
    assert rate > 0


@pytest.mark.parametrize("protocol", list(RICE_IDS))
def test_rice_against_the_reference(protocol: str) -> None:
    """The reference's region-steps/s in the same session, and econbench's ratio at 1 and 1,024 envs (reported)."""
    ref = _rice_reference_rate(protocol)
    for n in RICE_RATIO_GOALS:
        if (protocol, n) not in RICE_RATES:
            RICE_RATES[(protocol, n)] = float(
                np.median([_rice_region_steps(protocol, n, RICE_EPISODES[n]) for _ in range(RICE_ROUNDS)])
            )
    assert ref > 0 and RICE_RATES[(protocol, 1)] > ref  # a floor: the goals are printed, not gated (noisy machines)


# ---------------------------------------------------------------------------- PPO end to end
PPO_IDS = [RBC_ID, "econbench/InvestmentOligopoly-v0", "econbench/EVCharging-v0"]
# RICE in the full mode only: an update at its settings (221,184 region rows, minibatches of 27,648) takes 1-2
# minutes here, and a shorter rollout is not the same measurement: with minibatches that fit the caches, 16 steps
# per update ran 2.5x faster per agent-step than 128 on the trainer before issue 19.
if not SHORT:
    PPO_IDS.append("econbench/RICECooperation-Bilateral-v0")
PPO_UPDATES = 2 if SHORT else 5  # measured updates, each of the task's own batch (n_envs x num_steps)
PPO_FEWER = {"econbench/RICECooperation-Bilateral-v0": 1}  # measured updates of a task whose update takes minutes
PPO_ROUNDS = 1 if SHORT else 3
# Agent-steps/s of the trainer before issue 19: commit 90b0c75 with today's hyperparameter tables, on this 2-core
# machine idle (RICE: one other process), one torch thread, medians of 2 rounds alternating with the new code
# (RBC 124k, oligopoly 104k, EV 414k, RICE-Bilateral 15.0k in the same rounds). The issue's own figures (RBC 73k,
# oligopoly 56k) were taken under load; these are the stricter baseline of its 3x goal, printed beside each rate.
PPO_BEFORE = {
    RBC_ID: 100_000.0,
    "econbench/InvestmentOligopoly-v0": 79_000.0,
    "econbench/RICECooperation-Bilateral-v0": 7_900.0,  # at its table since the RICE baselines (16 x 60, 8,192 rows)
    "econbench/EVCharging-v0": 395_000.0,
}

PPO_RATES: dict[str, dict[str, Any]] = {}  # task -> env-steps/s, agent-steps/s, batch, simulation share, bound
MATMUL: dict[int, float] = {}  # torch threads -> measured dense float32 matmul FLOP/s


@pytest.mark.parametrize("task_id", PPO_IDS)
def test_ppo_end_to_end(benchmark: Any, task_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Agent-steps/s of shared-PPO training (econbench.learn.shared_ppo: simulation, inference and learning) with
    the task's settings, against the bound of its arithmetic on this machine's measured matmul rate.

    The packaged hyperparameters for the task (``SharedPPOConfig.for_task``), a budget of
    ``PPO_UPDATES`` updates after a one-update warm-up run, no evaluation. The
    batched core's share of the wall time is timed alongside. The bound:
    matmul FLOP/s (:func:`econbench.learn.flops.matmul_flops_per_sec`, same
    threads) over the networks' FLOPs per agent-step (:func:`econbench.learn.flops.per_agent_step`). Beside it
    the shape bound (:func:`econbench.learn.flops.shape_bound`): the same products timed at their own shapes.
    """
    pytest.importorskip("torch")
    from econbench.core import BatchedEnv
    from econbench.learn import flops
    from econbench.learn import shared_ppo as sppo
    from econbench.learn.config import SharedPPOConfig
    from econbench.registry import make_task

    def args(updates: int, run: str) -> Any:
        a = SharedPPOConfig.for_task(task_id, skip_eval=True, out=str(tmp_path), run_name=run)
        a.total_timesteps = updates * a.n_envs * a.num_steps
        return a

    sim = [0.0]

    def timed(method: Any) -> Any:
        def wrapper(self: Any, *a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(self, *a, **k)
            finally:
                sim[0] += time.perf_counter() - t0

        return wrapper

    for name in ("step", "reset", "action_masks"):
        monkeypatch.setattr(BatchedEnv, name, timed(getattr(BatchedEnv, name)))
    sppo.train(args(1, "warmup"))
    measured = args(PPO_FEWER.get(task_id, PPO_UPDATES), "measured")
    sim[0] = 0.0
    benchmark.group = "shared_ppo end to end (simulation + inference + learning)"
    benchmark.pedantic(lambda: sppo.train(measured), rounds=PPO_ROUNDS, warmup_rounds=0, iterations=1)
    if benchmark.enabled and benchmark.stats is not None:
        stats = benchmark.stats.stats
        task = make_task(task_id)
        agents = sum(g.n_agents for g in task.groups)
        if measured.threads not in MATMUL:
            MATMUL[measured.threads] = flops.matmul_flops_per_sec(measured.threads)
        work = flops.per_agent_step(task, measured)
        rate = measured.total_timesteps / stats.median
        bound = MATMUL[measured.threads] / work
        shaped = flops.shape_bound(task, measured, measured.threads)
        info = {
            "env_steps_per_sec": rate,
            "agent_steps_per_sec": rate * agents,
            "n_envs": measured.n_envs,
            "num_steps": measured.num_steps,
            "threads": measured.threads,
            "simulation_share": sim[0] / (stats.mean * stats.rounds),
            "flops_per_agent_step": work,
            "matmul_flops_per_sec": MATMUL[measured.threads],
            "bound_agent_steps_per_sec": bound,
            "fraction_of_bound": rate * agents / bound,
            "shape_bound_agent_steps_per_sec": shaped,
            "fraction_of_shape_bound": rate * agents / shaped,
            "before_agent_steps_per_sec": PPO_BEFORE[task_id],
        }
        benchmark.extra_info.update(info)
        PPO_RATES[task_id] = info
        assert rate > 0 and 0 < info["fraction_of_bound"] < 1  # above the bound: the FLOP count is wrong
        assert 0 < info["fraction_of_shape_bound"] < 1  # faster than its own products: a product is missing


# ---------------------------------------------------------------------------- EV charging: one city of N drivers
EV_ID = "econbench/EVCharging-LargeCity-v0"
EV_SIZES = [1_000, 10_000, 100_000] + ([] if SHORT else [1_000_000])  # a million in the full mode only
EV_DRIVERS_PER_STATION = 100  # the large city's density at every size
EV_PEAK = 216  # 18:00: the evening commute and the charging peak, the busiest steps of the day
EV_STEPS = 12 if SHORT else 24
EV_GOAL = 20.0  # the EV issue's goal: steps/s of one economy of 1,000,000 drivers on this machine, NumPy
EV_FLOOR = 0.5  # CI gate (noisy shared machines): steps/s at 100,000 drivers
EV_MEMORY_GOAL = 1024.0  # bytes per driver
EV_RATES: dict[int, float] = {}  # drivers -> median env-steps/s
EV_MEMORY: dict[int, dict[str, float]] = {}  # drivers -> {"state": bytes/driver, "peak": bytes/driver}


def _ev_city(n: int, backend: str = "numpy", device: Any = None) -> tuple[Any, Any]:
    """The large city at ``n`` drivers, float32, rolled to the evening peak under the shortest-wait rule
    (on ``backend``: ci/bench_gpu.py steps it on a GPU)."""
    from econbench.core import BatchedEnv
    from econbench.registry import make_task

    task = make_task(EV_ID, n_drivers=n, n_stations=max(3, n // EV_DRIVERS_PER_STATION))
    env = BatchedEnv(task, 1, backend, dtype="float32", device=device, seed=0)
    obs = env.reset()
    rule = task.policy("shortest_wait", env.backend)["drivers"]
    for _ in range(EV_PEAK):
        obs, *_ = env.step({"drivers": rule(obs["drivers"])})
    return env, rule


def _state_bytes(env: Any) -> int:
    import dataclasses

    return sum(int(getattr(env.state, f.name).nbytes) for f in dataclasses.fields(env.state))


@pytest.mark.parametrize("n", EV_SIZES)
def test_ev_driver_steps(benchmark: Any, n: int) -> None:
    """Env-steps/s of ``BatchedEnv.step`` (validation, queues, observations) for one city of ``n`` drivers at the
    evening peak; the rule's actions are computed between steps, outside the timed calls. Memory: the state's
    bytes per driver and the peak of what one step allocates (tracemalloc), per driver."""
    import tracemalloc

    env, rule = _ev_city(n)
    start = copy_state(env)
    benchmark.group = f"EVCharging large city, one economy, {EV_STEPS} steps from 18:00 (float32)"
    obs = env.observe()

    def run() -> float:
        nonlocal obs
        env.state, env.t = start
        obs = env.observe()
        spent = 0.0
        for _ in range(EV_STEPS):
            act = {"drivers": rule(obs["drivers"])}
            t0 = time.perf_counter()
            obs, *_ = env.step(act)
            spent += time.perf_counter() - t0
        return spent

    times: list[float] = []
    benchmark.pedantic(lambda: times.append(run()), rounds=ROUNDS, warmup_rounds=0, iterations=1)
    rate = EV_STEPS / float(np.median(times))
    env.state, env.t = start
    act = {"drivers": rule(env.observe()["drivers"])}
    tracemalloc.start()
    env.step(act)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    EV_RATES[n] = rate
    EV_MEMORY[n] = {"state": _state_bytes(env) / n, "peak": peak / n}
    benchmark.extra_info.update({"env_steps_per_sec": rate, "driver_steps_per_sec": rate * n, **EV_MEMORY[n]})
    assert EV_MEMORY[n]["state"] <= EV_MEMORY_GOAL
    if n == 100_000:
        assert rate >= EV_FLOOR, f"{rate:.2f} steps/s at 100,000 drivers (floor {EV_FLOOR})"


def copy_state(env: Any) -> tuple[Any, Any]:
    """A snapshot to restart every round from the same peak (steps never write into their input state)."""
    return env.state, env.t
