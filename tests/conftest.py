"""Shared fixtures: every registered ID, split by kind; the device backends asked for; the baseline scripts as modules."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import econbench
from econbench.cards import load_card
from econbench.registry import make_task

# Cards marked large (a city of 100,000 drivers) are stepped by their own tests and the benchmarks;
# the generic checks below run every other ID (they build per-agent dicts and sample every action).
LARGE_IDS = [t for t in econbench.task_ids() if load_card(t).get("large", False)]
ALL_IDS = [t for t in econbench.task_ids() if t not in LARGE_IDS]
SINGLE_IDS = [t for t in ALL_IDS if make_task(t).is_single_agent]
MULTI_IDS = [t for t in ALL_IDS if t not in SINGLE_IDS]

# ECONBENCH_TEST_DEVICES (comma-separated; ci/gpu.sh sets it) adds backends, as "name:device" specs, to the backend
# tests (tests/api/test_backends.py): "cuda" torch on the GPU and CuPy, "cpu" torch pinned to the CPU (ci/gpu.sh --cpu
# runs the same steps without a GPU). A backend this machine cannot run is skipped with its reason. Unset: none added,
# and "torch" keeps get_backend's default device (CUDA where torch sees it).
DEVICE_BACKENDS = {"cuda": ("torch:cuda", "cupy"), "cpu": ("torch:cpu",)}


def _device_backends() -> list[str]:
    asked = [d.strip() for d in os.environ.get("ECONBENCH_TEST_DEVICES", "").split(",") if d.strip()]
    unknown = sorted(set(asked) - set(DEVICE_BACKENDS))
    if unknown:
        raise ValueError(f"ECONBENCH_TEST_DEVICES: unknown device(s) {unknown}; choose from {sorted(DEVICE_BACKENDS)}")
    return [spec for d in asked for spec in DEVICE_BACKENDS[d]]


TEST_DEVICE_BACKENDS = _device_backends()


def unmasked(task_id: str) -> dict[str, str]:
    """Options that let uniformly sampled actions through where action masks can bind.

    A single env's masked spaces sample under its masks, but a batched space
    (``gym.make_vec``'s, SB3's, a loop over PettingZoo agents with a plain space)
    samples without them; masks (RICE's agreements, EV's busy drivers, RBC's
    curricula) reject such actions unless ``mask_violation="execute"`` (advisory
    masks). tests/api/test_masks.py, test_rice.py and test_rbc.py check the default error.
    """
    return {"mask_violation": "execute"} if any(g.masked for g in make_task(task_id).groups) else {}


def baseline_script(name: str) -> ModuleType:
    """``baselines/<name>.py`` as a module (the scripts are not a package: an installed wheel ships none of them)."""
    key = f"econbench_baseline_script_{name}"
    spec = importlib.util.spec_from_file_location(key, Path(__file__).resolve().parents[1] / "baselines" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


# The nightly run (ci/nightly.sh: ECONBENCH_NIGHTLY=1, pytest -m nightly) holds the reproductions of shipped runs
# other than each family's seed 0: the same code paths on other weights, minutes of CI's 20 (docs in README.md).
NIGHTLY = os.environ.get("ECONBENCH_NIGHTLY") == "1"
_LATER_SEED = re.compile(r"seed[1-9]\d*")


def seed_zero_in_ci(values: Iterable[Any], name: Callable[[Any], str] = str) -> list[Any]:
    """Parameters of a reproduction test: a shipped run of seed 1, 2, ... (by ``name``) is marked ``nightly``."""
    return [pytest.param(v, marks=pytest.mark.nightly) if _LATER_SEED.search(name(v)) else v for v in values]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Nightly tests run only with ECONBENCH_NIGHTLY=1; CI's run deselects them (the summary counts them)."""
    if NIGHTLY:
        return
    later = [item for item in items if item.get_closest_marker("nightly") is not None]
    if later:
        config.hook.pytest_deselected(items=later)
        items[:] = [item for item in items if item.get_closest_marker("nightly") is None]


def ci_module(name: str) -> ModuleType:
    """A ci/ file as a module (ci/ is not a package), loaded once per session."""
    key = f"econbench_ci_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).resolve().parents[1] / "ci" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses (gpu_check's Mode) look their module up there
        spec.loader.exec_module(module)
    return sys.modules[key]
