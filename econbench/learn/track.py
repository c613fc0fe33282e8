"""What a training run reports as it goes: Weights & Biases when asked for, and the learning curve as CSV.

One tracker for every trainer here. W&B runs online where credentials are
configured and offline otherwise (an offline run in the run folder; ``wandb
sync`` uploads it later); without the ``track`` extra the run continues
untracked after saying so once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class Tracker:
    """A W&B run (``enabled``), or a no-op; ``log``, ``summary`` and ``finish`` are safe either way."""

    def __init__(
        self,
        enabled: bool,
        *,
        project: str,
        name: str,
        config: dict[str, Any],
        folder: Path,
        entity: str = "",
        group: str | None = None,
        job_type: str | None = None,
    ) -> None:
        self.run = None
        if not enabled:
            return
        try:
            import wandb
        except ImportError:
            print(
                "--track: wandb is not installed (pip install 'econbench[track]'); continuing without it",
                file=sys.stderr,
            )
            return
        from econbench.leaderboard.wandb_sync import WandbConfig

        mode = WandbConfig(mode="auto").resolved_mode()
        if mode == "disabled":
            return
        self.run = wandb.init(
            project=project,
            entity=entity or None,
            dir=str(folder),
            mode=mode,
            name=name,
            group=group,
            job_type=job_type,
            config=config,
            reinit="create_new",
        )
        if mode == "offline":
            print(f"W&B offline run in {self.run.settings.sync_dir} (upload with `wandb sync`)")

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if self.run is not None and metrics:
            self.run.log(metrics, step=step)

    def summary(self, values: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.summary.update(values)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


def write_curve(path: Path, columns: Sequence[str], rows: Sequence[Sequence[float]]) -> Path:
    """The learning curve as CSV: one row per point (timesteps first), values to 10 significant digits."""

    def cell(v: float) -> str:
        return str(v) if isinstance(v, int) else f"{v:.10g}"

    path.write_text(",".join(columns) + "\n" + "".join(",".join(cell(v) for v in row) + "\n" for row in rows))
    return path
