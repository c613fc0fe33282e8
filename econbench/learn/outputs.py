"""Where a training run writes: ``<out>/<TaskName>/<run>/``, by default under ``runs/`` of the current directory.

The checkpoints a source checkout ships (``baselines/checkpoints/``) are what
``econbench bench --quick``, the tests and baselines/README.md quote; a run that
lands there by accident replaces them. So writing anywhere inside a
``baselines/checkpoints`` folder needs ``ship=True`` (the scripts' ``--ship``).
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_OUT = Path("runs")
SHIPPED = ("baselines", "checkpoints")


def is_shipped(path: str | Path) -> bool:
    """Whether ``path`` lies inside a ``baselines/checkpoints`` folder (by name, so a second checkout counts too)."""
    parts = Path(path).expanduser().resolve().parts
    return any(parts[i : i + len(SHIPPED)] == SHIPPED for i in range(len(parts) - len(SHIPPED) + 1))


def run_dir(out: str | Path, task_name: str, run_name: str, ship: bool = False) -> Path:
    """The run folder, created; refuses the shipped checkpoints unless ``ship``."""
    folder = Path(out) / task_name / run_name
    if is_shipped(folder) and not ship:
        raise SystemExit(
            f"{folder} is inside baselines/checkpoints/, the shipped runs: pass --ship (ship=True) to write there, "
            f"or an --out elsewhere (default: {DEFAULT_OUT}/)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
