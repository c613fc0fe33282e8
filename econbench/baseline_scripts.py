"""Access to the readable baseline scripts in ``baselines/`` of a source checkout.

They stay plain files a researcher edits (CleanRL style), not package modules;
the main job and the trained best-response gap import them from there.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def load_baseline(name: str) -> ModuleType:
    """``baselines/<name>.py`` as a module (registered in ``sys.modules``: its dataclasses need that)."""
    path = REPO / "baselines" / f"{name}.py"
    key = f"econbench_baseline_{name}"
    if key in sys.modules:
        return sys.modules[key]
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the baselines need a source checkout of econbench")
    spec = importlib.util.spec_from_file_location(key, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module
