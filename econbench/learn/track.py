"""What a training run reports as it goes: Weights & Biases when asked for, and the learning curve as CSV.

One tracker for every trainer here. W&B runs online where credentials are
configured and offline otherwise (an offline run in ``<run folder>/wandb/``;
``wandb sync`` uploads it later), so ``--track`` never stops at a login prompt;
without the ``track`` extra the run continues untracked after saying so once.

Metrics use CleanRL's names, so runs sit beside CleanRL's in one W&B project:
``charts/episodic_return`` and ``charts/episodic_length`` (undiscounted, as
CleanRL and SB3 report them), ``charts/discounted_episodic_return`` (the return
discounted at the card's rate: the quantity the benchmark scores),
``charts/learning_rate``, ``charts/SPS`` and ``losses/*``, all against
``global_step`` (environment steps; W&B's own step only counts ``log`` calls).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STEP = "global_step"
MAX_TAG = 64  # W&B refuses longer tags


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
        tags: Sequence[str] = (),
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

        mode = WandbConfig(mode="auto").resolved_mode()  # offline without an API key or a netrc entry
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
            tags=[t[:MAX_TAG] for t in tags],
            config=config,
            reinit="create_new",  # keep any run the caller has open
        )
        self.run.define_metric(STEP)
        self.run.define_metric("*", step_metric=STEP)
        if mode == "offline":
            print(f"W&B offline run in {self.run.settings.sync_dir} (upload with `wandb sync`)")

    def log(self, metrics: dict[str, Any], step: int) -> None:
        """``metrics`` at ``step`` environment steps (W&B's x axis, ``global_step``)."""
        if self.run is not None and metrics:
            self.run.log({**metrics, STEP: int(step)})

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
