"""The same dynamics on NumPy, torch (CPU) and array-api-strict's simulated ``device1``.

array-api-strict on a non-CPU device raises on any silent conversion to NumPy,
as a GPU would; feeding all three backends identical inputs checks that the
dynamics and the named policies are written against the array API alone.
``ECONBENCH_TEST_DEVICES=cuda`` (tests/conftest.py; ci/gpu.sh) runs the same checks
on torch's CUDA device and on CuPy too, on every task ID: the large city at a small size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from econbench.backend import Backend, BackendUnavailableError, cupy_available, get_backend
from econbench.core import BatchedEnv, BoxSpec
from econbench.registry import make_task
from tests.conftest import ALL_IDS, LARGE_IDS, TEST_DEVICE_BACKENDS

BACKENDS = ["numpy", "torch", "array_api_strict", *TEST_DEVICE_BACKENDS]
# A large task's parameters in the device runs: its core at a size the NumPy reference traces in a second.
SMALL = {"econbench/EVCharging-LargeCity-v0": {"n_drivers": 2_000, "n_stations": 20}}
assert set(LARGE_IDS) <= set(SMALL), f"give the large task(s) {sorted(set(LARGE_IDS) - set(SMALL))} a small size"


def _cases(names: list[str]) -> list[tuple[str, str]]:
    """(backend, task) pairs: every ordinary ID on each backend; the device backends get the large IDs too."""
    return [(n, t) for n in names for t in ALL_IDS + (LARGE_IDS if n in TEST_DEVICE_BACKENDS else [])]


def _backend(spec: str) -> Backend:
    """A backend spec, ``name`` or ``name:device``; skips where the machine cannot run it (no CuPy, no CUDA)."""
    name, _, device = spec.partition(":")
    pytest.importorskip(name)
    try:
        return get_backend(name, device=device or None)
    except BackendUnavailableError as exc:
        pytest.skip(f"{spec}: {exc}")


def _task(task_id: str) -> object:
    return make_task(task_id, **SMALL.get(task_id, {}))


def _move(state: object, src: Backend, dst: Backend) -> object:
    fields = {}
    for f in dataclasses.fields(state):  # type: ignore[arg-type]
        host = src.to_numpy(getattr(state, f.name))
        dtype = dst.xp.int64 if host.dtype.kind == "i" else None
        fields[f.name] = dst.asarray(host, dtype=dtype)
    return type(state)(**fields)


def _named(task: object) -> str:
    """The exact solution where there is one, else the card's reference policy."""
    return "exact" if "exact" in task.policies else task.card["protocol"]["reference_policy"]  # type: ignore[attr-defined]


def _allowed_random(
    rng: np.random.Generator, nvec: tuple[int, ...], mask: np.ndarray | None, lead: tuple[int, int]
) -> np.ndarray:
    """Uniform indices per head among the actions the (flat) mask allows."""
    heads = []
    offset = 0
    for n in nvec:
        allowed = np.ones(lead + (n,), bool) if mask is None else np.asarray(mask)[..., offset : offset + n]
        scores = rng.random(lead + (n,)) * allowed
        heads.append(scores.argmax(-1))
        offset += n
    return np.stack(heads, -1)


def _trace(
    task_id: str, name: str, steps: int = 25, n_envs: int = 6, states: list[object] | None = None
) -> tuple[list[np.ndarray], list[object]]:
    """Step ``name``'s backend with inputs drawn once on the host (state, actions, shocks).

    With ``states`` (host states returned by another run), every step starts from
    that run's state: the backends are compared on the same inputs step by step,
    so a task whose dynamics amplify rounding (RICE's debt ratio, docs/models/rice.md §9.2)
    is not blamed for the amplification. Returns the outputs and the host input states.
    """
    task = _task(task_id)
    host = get_backend("numpy")
    b = _backend(name)
    ref = BatchedEnv(task, n_envs, "numpy", seed=0)
    ref.reset()
    dyn = task.dynamics(task.params, b)
    state = _move(ref.state, host, b)
    rng = np.random.default_rng(1)
    t = b.asarray(np.zeros(n_envs, dtype=np.int64), dtype=b.xp.int64)
    policies = task.policy(_named(task), b)
    out_trace: list[np.ndarray] = []
    inputs: list[object] = []
    for step in range(steps):
        if states is not None:
            state = _move(states[step], host, b)
        inputs.append(_move(state, b, host))
        obs = dyn.observe(state)
        acts = {}
        masks = {k: b.to_numpy(v) for k, v in dyn.action_masks(state).items()}
        for g in task.groups:
            # half the steps random actions, half a named policy: both must agree across backends
            if step % 2 == 0:
                acts[g.name] = policies[g.name](obs[g.name])
            elif isinstance(g.action, BoxSpec):
                low, high = g.action.bounds()
                acts[g.name] = b.asarray(rng.uniform(low, high, (n_envs, g.n_agents, *g.action.shape)))
            else:
                acts[g.name] = b.asarray(
                    _allowed_random(rng, g.action.nvec, masks.get(g.name), (n_envs, g.n_agents)), dtype=b.xp.int64
                )
        noise_host = ref.dynamics.draw_noise(ref._rng, n_envs)
        noise = None if noise_host is None else b.asarray(noise_host)
        out = dyn.step(state, acts, noise, t)
        state = out.state
        t = t + 1
        out_trace += [b.to_numpy(v) for v in obs.values()]
        out_trace += [b.to_numpy(v) for v in out.rewards.values()]
        out_trace.append(b.to_numpy(out.welfare))
        out_trace += [b.to_numpy(getattr(state, f.name)) for f in dataclasses.fields(state)]
    return out_trace, inputs


@pytest.mark.parametrize(("name", "task_id"), _cases(["torch", "array_api_strict", *TEST_DEVICE_BACKENDS]))
def test_backends_agree_on_the_same_inputs(task_id: str, name: str) -> None:
    _backend(name)
    reference, inputs = _trace(task_id, "numpy")
    other, _ = _trace(task_id, name, states=inputs)
    assert len(reference) == len(other)
    for a, b in zip(reference, other):
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-9)  # summation order differs across backends


@pytest.mark.parametrize(("name", "task_id"), _cases(BACKENDS))
def test_whole_episode_runs_on_each_backend(task_id: str, name: str) -> None:
    env = BatchedEnv(_task(task_id), 3, _backend(name), seed=5)
    obs = env.reset()
    policy = env.task.policy(_named(env.task), env.backend)
    for _ in range(env.horizon):
        obs, out, term, trunc = env.step({g: f(obs[g]) for g, f in policy.items()})
    assert bool(env.backend.xp.all(trunc | term))


@pytest.mark.parametrize("name", BACKENDS)
def test_same_seed_same_trajectory_on_a_backend(name: str) -> None:
    backend = _backend(name)

    def run(seed: int) -> np.ndarray:
        env = BatchedEnv(make_task("InvestmentStochastic-v0"), 4, backend, seed=seed)
        obs = env.reset()
        policy = env.task.policy("exact", env.backend)["firms"]
        rows = []
        for _ in range(50):
            obs, out, *_ = env.step({"firms": policy(obs["firms"])})
            rows.append(env.backend.to_numpy(out.welfare))
        return np.stack(rows)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_strict_backend_draws_the_numpy_stream() -> None:
    a = BatchedEnv(make_task("InvestmentStochastic-v0"), 4, "numpy", seed=2)
    b = BatchedEnv(make_task("InvestmentStochastic-v0"), 4, "array_api_strict", seed=2)
    np.testing.assert_array_equal(b.backend.to_numpy(b.reset()["firms"]), a.reset()["firms"])


@pytest.mark.parametrize("name", ["numpy", "torch", *TEST_DEVICE_BACKENDS])
def test_float32_mode(name: str) -> None:
    backend = _backend(name)
    env64 = BatchedEnv(make_task("InvestmentLQ-Planner-v0"), 2, backend.name, "float64", backend.device, seed=0)
    env32 = BatchedEnv(make_task("InvestmentLQ-Planner-v0"), 2, backend.name, "float32", backend.device, seed=0)
    env64.reset()
    o32 = env32.reset()
    assert "float32" in str(o32["planner"].dtype)
    policy = env32.task.policy("exact", env32.backend)["planner"]
    _, out, *_ = env32.step({"planner": policy(o32["planner"])})
    assert "float32" in str(out.welfare.dtype)


def test_cupy_without_a_gpu_gets_a_clear_error() -> None:
    if cupy_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(BackendUnavailableError, match="CuPy"):
        get_backend("cupy")


def test_torch_cuda_request_without_cuda_is_refused() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(BackendUnavailableError, match="CUDA"):
        get_backend("torch", device="cuda")


def test_buffer_pool_recycles_only_what_nobody_holds() -> None:
    """A buffer is overwritten only when no view of it (nor a torch tensor sharing it) is alive."""
    from econbench.backend import BufferPool

    pool = BufferPool(keep=2)
    first = pool.empty((3, 4), np.float32)
    address = first.ctypes.data
    view = first.T[1:]  # holds the buffer
    del first
    held = pool.empty((3, 4), np.float32)
    assert held.ctypes.data != address
    del view
    again = pool.empty((3, 4), np.float32)
    assert again.ctypes.data == address  # recycled once its view is gone
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(again)
    del again
    assert pool.empty((3, 4), np.float32).ctypes.data != address
    del tensor, held
    assert len({pool.empty((3, 4), np.float32).ctypes.data for _ in range(3)}) == 1
    assert pool.empty((5,), np.float32).shape == (5,)  # another shape replaces a free buffer
    assert len(pool._bufs) <= 2
