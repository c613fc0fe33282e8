"""Where the main job writes, and publishing a store as the repository's leaderboard.

``econbench bench`` writes only into an output folder (by default ``leaderboard/`` beside the store, outside
any checkout): the page, the table, the figures and, in full mode, the trained runs. The repository's
``leaderboard/`` changes only when a maintainer publishes a store into it on purpose (:func:`publish`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from econbench.leaderboard.render import render
from econbench.leaderboard.store import Store, StoreError


def default_output(store_path: str | Path) -> Path:
    """The main job's output folder for a store: ``leaderboard/`` beside it."""
    return Path(store_path).parent / "leaderboard"


def runs_folder(out: str | Path) -> Path:
    """Where the main job trains its runs (full mode): ``<out>/runs/<Task>/<run>/``."""
    return Path(out) / "runs"


@dataclass
class Published:
    entries: list[Path]
    figures: list[Path]
    page: Path
    table: Path
    stale: list[Path] = field(default_factory=list)  # published entries the store no longer has
    removed: bool = False  # whether ``stale`` were removed (prune)


def publish(store: Store, to: str | Path, figures_from: str | Path | None = None, prune: bool = False) -> Published:
    """Export every entry of ``store`` as ``<to>/entries/<key>.json``, copy the figures of ``figures_from``
    (the main job's output folder) into ``<to>/figures/`` and render ``<to>/index.html`` and ``LEADERBOARD.md``.

    Published entries the store does not hold are kept unless ``prune`` (a re-measured task has new keys). A
    missing or empty store is refused before anything is written: it would publish an empty leaderboard.
    """
    to = Path(to)
    if to.exists() and not to.is_dir():
        raise StoreError(f"{to} is a file: publishing writes into a folder (entries/, figures/, index.html)")
    if not store.path.is_file():
        raise StoreError(f"no store at {store.path}: nothing published (run `econbench bench` or give --store)")
    results = store.results()
    if not results:
        raise StoreError(f"the store {store.path} holds no entries: nothing published")
    entries = [store.export(to / "entries", r.key()) for r in results]
    keep = {p.name for p in entries}
    stale = sorted(p for p in (to / "entries").glob("*.json") if p.name not in keep)
    if prune:
        for p in stale:
            p.unlink()
    figures = []
    source = Path(figures_from) / "figures" if figures_from is not None else None
    if source is not None and source.is_dir() and source.resolve() != (to / "figures").resolve():
        (to / "figures").mkdir(parents=True, exist_ok=True)
        for fig in sorted(source.glob("*.png")):
            figures.append(Path(shutil.copyfile(fig, to / "figures" / fig.name)))
    page, table = render(results, to)
    return Published(entries, figures, page, table, stale, prune)
