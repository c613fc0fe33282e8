"""Count device-to-host copies in a shared-PPO run: the step of ci/gpu.sh that shows what still leaves the GPU.

    python ci/host_copies.py [--json OUT] -- <baselines/shared_ppo.py flags>
    python ci/host_copies.py --json out.json -- --task econbench/RBCTax-v0 --device cuda --backend torch --skip-eval

A run with the economies and the networks on the GPU (``--device cuda --backend torch``) should keep its
rollout there: every copy to the host waits for the GPU to finish what is queued. :class:`HostCopies` wraps,
for the run, what copies a tensor to the host (``.cpu()``, ``.to(cpu)``, ``.item()``, ``.tolist()``,
``.numpy()``, ``np.asarray(t)``, ``float(t)``, ``int(t)``, ``bool(t)``, ``t.__index__``, and a backend's
``to_numpy``), counts each outermost call once, by kind and by the line that made it, and divides by the
number of ``BatchedEnv.step`` calls (one per rollout step, each moving every economy).

On a CUDA device a call counts when its tensor is on the device; ``torch.cuda.set_sync_debug_mode("warn")``
counts every synchronizing operation besides (``cuda_syncs``: copies are some of them). On the CPU
(``--device cpu --backend torch``, the same code path) every call counts, as it would copy on a GPU,
except those torch makes itself (its optimizers read step counters kept on the host) and ``.numpy()``
of a tensor that ``.cpu()`` returned (the second half of ``x.cpu().numpy()``, one copy). CuPy arrays
are not counted (their methods cannot be wrapped). The trainer is measured, not changed.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import sys
import time
import warnings
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch

from econbench.backend import Backend
from econbench.core import BatchedEnv

TORCH_DIR = str(Path(torch.__file__).resolve().parent)
SYNC_WARNING = "synchroniz"  # torch's sync debug mode: "called a synchronizing CUDA operation"


class HostCopies:
    """While active, counts device-to-host copies (see the module's docstring) and ``BatchedEnv.step`` calls.

    ``device_only``: count only tensors on an accelerator (a CUDA run); otherwise every call counts as
    the copy it would be on a GPU (the CPU stand-in). Copies before the first env step are ``setup``.
    """

    def __init__(self, device_only: bool) -> None:
        self.device_only = device_only
        self.kinds: Counter[str] = Counter()
        self.sites: Counter[str] = Counter()
        self.setup = 0
        self.steps = 0
        self._depth = 0
        self._host: dict[int, weakref.ref[torch.Tensor]] = {}  # tensors a counted .cpu() returned
        self._undo: list[tuple[Any, str, Any, bool]] = []

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def __enter__(self) -> HostCopies:
        T = torch.Tensor
        on_device = self._on_device
        self._wrap(T, "cpu", "Tensor.cpu", lambda a, r: on_device(a[0]), mark=True)
        self._wrap(T, "to", "Tensor.to(cpu)", lambda a, r: self._to_host(a[0], r), mark=True)
        for name in ("item", "tolist", "__bool__", "__int__", "__float__", "__index__"):
            self._wrap(T, name, f"Tensor.{name}", lambda a, r: on_device(a[0]))
        for name in ("numpy", "__array__"):
            self._wrap(T, name, f"Tensor.{name}", lambda a, r: on_device(a[0]) and not self._moved(a[0]))
        self._wrap(Backend, "to_numpy", "Backend.to_numpy", lambda a, r: self._backend_copy(a[0], a[1]))
        original_step = BatchedEnv.step

        @functools.wraps(original_step)
        def step(env: BatchedEnv, *args: Any, **kwargs: Any) -> Any:
            self.steps += 1
            return original_step(env, *args, **kwargs)

        self._set(BatchedEnv, "step", step)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for owner, name, original, own in reversed(self._undo):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)
        self._undo.clear()

    def _set(self, owner: Any, name: str, value: Any) -> None:
        own = name in vars(owner)
        self._undo.append((owner, name, vars(owner)[name] if own else None, own))
        setattr(owner, name, value)

    def _wrap(
        self, owner: Any, name: str, kind: str, copies: Callable[[tuple[Any, ...], Any], bool], mark: bool = False
    ) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # inside a counted call (to_numpy's .cpu().numpy()): already counted
                return original(*args, **kwargs)
            self._depth += 1
            try:
                result = original(*args, **kwargs)
            finally:
                self._depth -= 1
            caller = sys._getframe(1)
            if (self.device_only or not caller.f_code.co_filename.startswith(TORCH_DIR)) and copies(args, result):
                self._count(kind, caller)
                if mark and isinstance(result, torch.Tensor):
                    self._host[id(result)] = weakref.ref(result, functools.partial(self._forget, id(result)))
            return result

        self._set(owner, name, wrapper)

    def _forget(self, key: int, _: weakref.ref[torch.Tensor]) -> None:
        self._host.pop(key, None)

    def _on_device(self, t: Any) -> bool:
        return not self.device_only or (isinstance(t, torch.Tensor) and t.device.type != "cpu")

    def _to_host(self, t: torch.Tensor, result: Any) -> bool:
        """``.to(...)`` copies to the host when it leaves a device for the CPU; on the CPU stand-in ``.to(device)``
        keeps the tensor where it is, so it never counts there."""
        return isinstance(result, torch.Tensor) and result.device.type == "cpu" and t.device.type != "cpu"

    def _moved(self, t: torch.Tensor) -> bool:
        ref = self._host.get(id(t))
        return ref is not None and ref() is t

    def _backend_copy(self, backend: Backend, x: Any) -> bool:
        if backend.name == "numpy":
            return False
        if backend.name == "torch":
            return self._on_device(x)
        return True

    def _count(self, kind: str, frame: FrameType) -> None:
        if self.steps == 0:
            self.setup += 1
            return
        self.kinds[kind] += 1
        self.sites[f"{_where(frame.f_code.co_filename)}:{frame.f_lineno}"] += 1


def _where(filename: str) -> str:
    path = Path(filename).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return "/".join(path.parts[-2:])


def _shared_ppo_script() -> Any:
    spec = importlib.util.spec_from_file_location("econbench_shared_ppo_script", ROOT / "baselines" / "shared_ppo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(argv: Sequence[str]) -> dict[str, Any]:
    """Train with ``baselines/shared_ppo.py``'s flags ``argv`` under the counters; the figures as a dict."""
    script = _shared_ppo_script()
    config = script.parse_args(list(argv))
    device = torch.device(config.device)
    on_cuda = device.type == "cuda"
    with warnings.catch_warnings(record=True) as caught, HostCopies(device_only=device.type != "cpu") as counter:
        warnings.simplefilter("always")
        if on_cuda:
            torch.cuda.set_sync_debug_mode("warn")
        t0 = time.perf_counter()
        try:
            script.main(list(argv))
        finally:
            if on_cuda:
                torch.cuda.synchronize(device)
                torch.cuda.set_sync_debug_mode("default")
        seconds = time.perf_counter() - t0
    syncs = sum(SYNC_WARNING in str(w.message) for w in caught) if on_cuda else None
    steps = max(counter.steps, 1)
    return {
        "task": config.task,
        "device": str(device),
        "backend": config.backend,
        "n_envs": config.n_envs,
        "num_steps": config.num_steps,
        "env_steps": counter.steps,  # BatchedEnv.step calls, each of n_envs economies
        "train_seconds": seconds,
        "env_steps_per_sec": counter.steps * config.n_envs / seconds,
        "counted": "tensors on the device" if counter.device_only else "every call (CPU stand-in for a GPU run)",
        "setup_host_copies": counter.setup,
        "host_copies": counter.total,
        "host_copies_per_step": counter.total / steps,
        "by_kind": dict(counter.kinds.most_common()),
        "sites_per_step": {site: n / steps for site, n in counter.sites.most_common()},
        "cuda_syncs": syncs,
        "cuda_syncs_per_step": None if syncs is None else syncs / steps,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("train", nargs=argparse.REMAINDER, help="-- then baselines/shared_ppo.py's flags")
    args = parser.parse_args(argv)
    train = args.train[1:] if args.train[:1] == ["--"] else args.train
    result = measure(train)
    print(
        f"host copies: {result['host_copies_per_step']:.2f} per env step ({result['host_copies']} over "
        f"{result['env_steps']} steps of {result['n_envs']} envs; {result['counted']}; setup {result['setup_host_copies']})"
    )
    for site, rate in list(result["sites_per_step"].items())[:12]:
        print(f"  {rate:8.3f}  {site}")
    if result["cuda_syncs"] is not None:
        print(f"CUDA synchronizations: {result['cuda_syncs_per_step']:.2f} per env step")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
