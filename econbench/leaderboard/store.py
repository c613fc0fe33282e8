"""The local leaderboard store: SQLite in WAL mode, one transaction per write.

WAL plus ``BEGIN IMMEDIATE`` means a writer killed mid-transaction leaves the
database as it was before that transaction, and concurrent writers queue on
the lock (``busy_timeout``) instead of failing or overwriting each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Iterator

from econbench.leaderboard.schema import Result, parse_result

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    method TEXT NOT NULL,
    policy TEXT NOT NULL,
    score REAL NOT NULL,
    verified INTEGER NOT NULL,
    created TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_task ON entries(task_id);
"""


def default_store_path() -> Path:
    """``$ECONBENCH_STORE``, else the user data directory (XDG): ``~/.local/share/econbench/leaderboard.sqlite``."""
    if os.environ.get("ECONBENCH_STORE"):
        return Path(os.environ["ECONBENCH_STORE"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "econbench" / "leaderboard.sqlite"


class DuplicateEntryError(ValueError):
    """An entry with the same key (task definition, method, policy, protocol, backend) is stored already."""


class Store:
    """Leaderboard entries keyed by :meth:`Result.key`."""

    def __init__(self, path: str | Path | None = None, timeout: float = 60.0) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        con.execute("PRAGMA synchronous=FULL")
        return con

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error (or by SQLite, if the process dies)."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def add(self, result: Result, replace: bool = False) -> str:
        key = result.key()
        row = (key, result.task.id, result.method, result.policy, result.score, int(result.verified),
               result.date.isoformat(), result.model_dump_json())
        with self.transaction() as con:
            exists = con.execute("SELECT 1 FROM entries WHERE key = ?", (key,)).fetchone()
            if exists and not replace:
                raise DuplicateEntryError(f"entry {key} ({result.task.id}, {result.method!r}) is stored already")
            con.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        return key

    def has(self, key: str) -> bool:
        with contextlib.closing(self._connect()) as con:
            return con.execute("SELECT 1 FROM entries WHERE key = ?", (key,)).fetchone() is not None

    def get(self, key: str) -> Result:
        with contextlib.closing(self._connect()) as con:
            row = con.execute("SELECT json FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no entry {key!r} in {self.path}")
        return parse_result(row[0])

    def results(self, task_id: str | None = None) -> list[Result]:
        """All entries (of one task), best score first within each task."""
        query = "SELECT json FROM entries" + (" WHERE task_id = ?" if task_id else "") + " ORDER BY task_id, score DESC"
        with contextlib.closing(self._connect()) as con:
            rows = con.execute(query, (task_id,) if task_id else ()).fetchall()
        return [parse_result(r[0]) for r in rows]

    def count(self) -> int:
        with contextlib.closing(self._connect()) as con:
            return int(con.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def integrity_ok(self) -> bool:
        with contextlib.closing(self._connect()) as con:
            return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def export(self, folder: str | Path, key: str) -> Path:
        """Write one entry as a reviewed-file candidate ``<folder>/<key>.json`` (the published leaderboard)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.json"
        path.write_text(json.dumps(json.loads(self.get(key).model_dump_json()), indent=2, sort_keys=True) + "\n")
        return path

    def rebuild(self, folder: str | Path) -> int:
        """Add every ``*.json`` entry of a published folder (replacing same keys); returns how many."""
        files = sorted(Path(folder).glob("*.json"))
        results = [parse_result(f.read_bytes()) for f in files]  # validate all before writing any
        for r in results:
            self.add(r, replace=True)
        return len(results)
