"""Array backends: one namespace, device, float dtype and random generator per env.

Dynamics are written once against the array API (``array_api_compat``); a
:class:`Backend` supplies the namespace ``xp`` they receive. NumPy is the
default; torch (CPU or CUDA) and CuPy are chosen by name; array-api-strict
exists for tests, where its simulated ``device1`` catches silent conversions
to NumPy that would fail on a GPU.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

BACKENDS = ("numpy", "torch", "cupy", "array_api_strict")
DTYPES = ("float64", "float32")


class BackendUnavailableError(RuntimeError):
    """A backend was asked for by name but cannot run on this machine."""


class _ModuleByName:
    """A module in a pickle: imported again by name when loaded (or deep-copied), as modules do not pickle."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Callable[[str], ModuleType], tuple[str]]:
        return importlib.import_module, (self.name,)


class PicklesNamespaces:
    """Mixin for objects that keep an array namespace (``self.xp``) or other modules among their attributes.

    Their pickles (and deep copies) name each module instead, so envs travel to subprocesses and Ray workers,
    which import the namespace themselves.
    """

    def __getstate__(self) -> dict[str, Any]:
        return {k: _ModuleByName(v.__name__) if isinstance(v, ModuleType) else v for k, v in self.__dict__.items()}


class BufferPool:
    """NumPy output arrays recycled once no caller holds them.

    A fresh array of more than 32 MB is a fresh ``mmap`` in glibc, so filling it costs a page fault per
    4 KB: at a million agents a sixth of an EV step. Every NumPy view (and ``torch.from_numpy``) keeps a
    reference to the array owning its memory, so a buffer whose only references are the pool's own cannot
    be seen by anyone and may be overwritten. The usual loop holds the previous observation while the next
    is made, so two buffers alternate; a caller that keeps every observation gets fresh arrays.
    """

    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self._bufs: list[np.ndarray] = []
        self._free_refs = next(self._refcounts([np.empty(0)]))[1]  # the same code path on a buffer nobody holds

    def __getstate__(self) -> dict[str, Any]:
        """A copy starts empty: its buffers are scratch space, and the views a caller holds do not travel with them."""
        return {"keep": self.keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["keep"])  # type: ignore[misc]

    @staticmethod
    def _refcounts(bufs: list[np.ndarray]) -> Iterator[tuple[int, int]]:
        for i, buf in enumerate(bufs):
            yield i, sys.getrefcount(buf)

    def _free(self) -> list[int]:
        return [i for i, refs in self._refcounts(self._bufs) if refs <= self._free_refs]

    def empty(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        dtype = np.dtype(dtype)
        free = self._free()
        for i in free:
            if self._bufs[i].shape == shape and self._bufs[i].dtype == dtype:
                return self._bufs[i]
        out = np.empty(shape, dtype=dtype)
        if len(self._bufs) >= self.keep:
            if not free:
                return out  # the caller keeps them all: a fresh array, not pooled
            self._bufs.pop(free[0])  # a free buffer of another shape
        self._bufs.append(out)
        return out


@dataclass(frozen=True)
class Backend:
    """An array namespace with its device and float dtype.

    ``xp`` is the array-api-compat namespace (so ``xp.clip``, ``xp.where`` and
    friends behave the same everywhere).
    """

    name: str
    xp: Any
    dtype: Any
    device: Any = None
    dtype_name: str = "float64"
    _native: Any = field(default=None, repr=False)

    def __reduce__(self) -> tuple[Callable[..., Backend], tuple[Any, ...]]:
        """Pickled (and deep-copied) by name, dtype and device: modules do not pickle, and a process that
        loads an env resolves its own namespace (and fails clearly where the backend cannot run)."""
        return get_backend, (self.name, self.dtype_name, self.device)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Move host data (or another backend's array) onto this backend."""
        dtype = self.dtype if dtype is None else dtype
        if self.name == "torch" and not isinstance(x, (self._native.Tensor,)):
            x = np.asarray(x)
            if not x.flags.writeable:
                x = x.copy()
            return self._native.as_tensor(x, device=self.device).to(dtype)
        if self.name == "cupy":
            return self._native.asarray(x, dtype=dtype)
        if self.name == "array_api_strict" and isinstance(x, np.ndarray | float | int | list):
            return self.xp.asarray(np.asarray(x), dtype=dtype, device=self.device)
        if self.name == "numpy":
            return np.asarray(x, dtype=dtype)
        return self.xp.asarray(x, dtype=dtype, device=self.device)

    def zeros(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        return self.xp.zeros(shape, dtype=self.dtype if dtype is None else dtype, device=self.device)

    def full(self, shape: tuple[int, ...], value: Any, dtype: Any) -> Any:
        return self.xp.full(shape, value, dtype=dtype, device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Copy an array of this backend to host memory as a NumPy array."""
        if self.name == "numpy":
            return np.asarray(x)
        if self.name == "torch":
            return x.detach().cpu().numpy()
        if self.name == "cupy":
            return self._native.asnumpy(x)
        cpu = self.xp.asarray(x, device=self._native.Device("CPU_DEVICE")) if self.device else x
        return np.asarray(cpu)

    def put(self, x: Any, index: Any, values: Any) -> Any:
        """``x`` (1-D) with ``x[index] = values``; may write in place, so use the result.

        The array API has no scatter; NumPy, torch and CuPy write in place,
        array-api-strict goes through the host explicitly (it is a test backend).
        """
        if self.name != "array_api_strict":
            x[index] = values
            return x
        host = self.to_numpy(x).copy()
        host[self.to_numpy(index)] = self.to_numpy(values) if hasattr(values, "shape") else values
        return self.xp.asarray(host, dtype=x.dtype, device=self.device)

    def rng(self, seed: int | None) -> BackendRNG:
        return BackendRNG(self, seed)


class BackendRNG:
    """Seeded generator producing arrays on a backend.

    NumPy, CuPy and torch use their own generators (so a GPU never waits on
    the host); array-api-strict draws with NumPy and copies, so its streams
    equal NumPy's exactly. Same seed, same backend: same numbers.
    """

    def __init__(self, backend: Backend, seed: int | None) -> None:
        self.backend = backend
        self.seed = seed
        if backend.name == "torch":
            torch = backend._native
            self._gen = torch.Generator(device=backend.device)
            self._gen.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        elif backend.name == "cupy":
            self._gen = backend._native.random.default_rng(seed)
        else:
            self._gen = np.random.default_rng(seed)

    def __getstate__(self) -> dict[str, Any]:
        """The generator's position travels with it, so a copy draws the numbers the original would have drawn.

        NumPy's and torch's generators pickle with their state; CuPy's bit generator holds a lock, so its state
        array (``_state``, on the device) is copied to the host instead.
        """
        state = dict(self.__dict__)
        if self.backend.name == "cupy":
            bits = self._gen.bit_generator
            state["_gen"] = (type(bits).__name__, getattr(bits, "_size", -1), self.backend.to_numpy(bits._state))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.backend.name == "cupy":
            kind, size, host = state["_gen"]
            cupy = self.backend._native
            bits = getattr(cupy.random, kind)(self.seed, size=size)
            bits._state[...] = cupy.asarray(host)
            self._gen = cupy.random.Generator(bits)

    def uniform(self, shape: tuple[int, ...], low: float = 0.0, high: float = 1.0) -> Any:
        b = self.backend
        if b.name == "torch":
            u = b._native.rand(shape, generator=self._gen, device=b.device, dtype=b.dtype)
        elif b.name == "cupy":
            u = self._gen.random(shape, dtype=b.dtype)
        else:
            u = b.asarray(self._gen.random(shape))
        return u if (low, high) == (0.0, 1.0) else low + (high - low) * u

    def normal(self, shape: tuple[int, ...]) -> Any:
        b = self.backend
        if b.name == "torch":
            return b._native.randn(shape, generator=self._gen, device=b.device, dtype=b.dtype)
        if b.name == "cupy":
            return self._gen.standard_normal(shape, dtype=b.dtype)
        return b.asarray(self._gen.standard_normal(shape))


class SharedDrawsRNG:
    """Common random numbers: a draw for ``n_envs`` economies is drawn for ``n_envs / group`` and repeated, so
    each run of ``group`` consecutive economies sees the same numbers (initial states, shocks).

    Wraps the dynamics' generator in :class:`econbench.core.BatchedEnv` (``shared_draws``): members of a group then
    differ only by what their agents do, and a learner can take what the shocks did out of its advantages by
    comparing them (:mod:`econbench.learn.shared_ppo`'s ``shared_draws``). Draws whose first axis is not the
    economies' (none today) are the generator's own.
    """

    def __init__(self, rng: BackendRNG, n_envs: int, group: int) -> None:
        if group < 1 or n_envs % group:
            raise ValueError(f"shared draws: {n_envs} economies do not split into groups of {group}")
        self.rng, self.n_envs, self.group = rng, n_envs, group
        self.backend = rng.backend

    def _shared(self, draw: Any, shape: tuple[int, ...]) -> Any:
        if not shape or shape[0] != self.n_envs:
            return draw(shape)
        xp = self.backend.xp
        return xp.repeat(draw((self.n_envs // self.group, *shape[1:])), self.group, axis=0)

    def uniform(self, shape: tuple[int, ...], low: float = 0.0, high: float = 1.0) -> Any:
        return self._shared(lambda s: self.rng.uniform(s, low, high), tuple(shape))

    def normal(self, shape: tuple[int, ...]) -> Any:
        return self._shared(self.rng.normal, tuple(shape))


def _cupy_usable() -> tuple[bool, str]:
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        return False, "CuPy is not installed: pip install 'econbench[gpu-cuda12]' (or gpu-cuda13)"
    try:
        ok = bool(cupy.cuda.is_available())
    except Exception as exc:
        return False, f"CuPy is installed but CUDA is unusable: {exc}"
    if not ok:
        return False, "CuPy is installed but no CUDA device is available (cupy.cuda.is_available() is False)"
    return True, ""


def cupy_available() -> bool:
    return _cupy_usable()[0]


def get_backend(name: str | Backend = "numpy", dtype: str = "float64", device: Any = None) -> Backend:
    """Resolve a backend by name: ``numpy`` (default), ``torch``, ``cupy``, ``array_api_strict``.

    ``device`` is backend specific: ``"cuda"``/``"cpu"`` for torch (default:
    CUDA when available), a device id for CuPy, a ``Device`` name such as
    ``"device1"`` for array-api-strict.
    """
    if isinstance(name, Backend):
        return name
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {DTYPES}")
    if name == "numpy":
        from array_api_compat import numpy as xp

        return Backend("numpy", xp, getattr(np, dtype), None, dtype, np)
    if name == "torch":
        try:
            torch = importlib.import_module("torch")
        except ImportError as exc:
            raise BackendUnavailableError(
                "the torch backend needs PyTorch: pip install 'econbench[baselines]'"
            ) from exc
        from array_api_compat import torch as xp

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise BackendUnavailableError("torch backend asked for CUDA, but torch.cuda.is_available() is False")
        return Backend("torch", xp, getattr(torch, dtype), dev, dtype, torch)
    if name == "cupy":
        ok, why = _cupy_usable()
        if not ok:
            raise BackendUnavailableError(why)
        cupy = importlib.import_module("cupy")
        from array_api_compat import cupy as xp

        if device is not None:
            cupy.cuda.Device(int(device)).use()
        return Backend("cupy", xp, getattr(cupy, dtype), None, dtype, cupy)
    if name == "array_api_strict":
        try:
            xps = importlib.import_module("array_api_strict")
        except ImportError as exc:
            raise BackendUnavailableError("pip install array-api-strict (the dev extra)") from exc
        dev = device if isinstance(device, xps.Device) else xps.Device(device or "device1")
        return Backend("array_api_strict", xps, getattr(xps, dtype), dev, dtype, xps)
    raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
