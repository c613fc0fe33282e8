"""The local leaderboard store: SQLite in WAL mode, one transaction per write.

WAL plus ``BEGIN IMMEDIATE`` means a writer killed mid-transaction leaves the
database as it was before that transaction, and concurrent writers queue on
the lock (``busy_timeout``) instead of failing or overwriting each other.

A store is checked (``PRAGMA quick_check``) before anything touches it, and a
corrupt one is never written to. Every SQLite or file-system failure (corrupt,
read-only, full disk, a folder where the file should be, a lock held too long)
becomes a one-line :class:`StoreError`; a failed write leaves what was stored
as it was. Read-only use (``readonly=True``) creates nothing: no folder, no
schema, no WAL files where they cannot be created.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from econbench.leaderboard.schema import MAX_FILE_BYTES, Result, parse_result

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

Verifier = Callable[[Result], Result]


def default_store_path() -> Path:
    """``$ECONBENCH_STORE``, else the user data directory (XDG): ``~/.local/share/econbench/leaderboard.sqlite``."""
    if os.environ.get("ECONBENCH_STORE"):
        return Path(os.environ["ECONBENCH_STORE"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "econbench" / "leaderboard.sqlite"


class StoreError(ValueError):
    """The store could not be opened, read or written; the message is one line and nothing stored was lost."""


class CorruptStoreError(StoreError):
    """The file is not an intact SQLite store. It is refused when opened and never written to."""


class DuplicateEntryError(ValueError):
    """An entry with the same key (task definition, method, policy, protocol, backend) is stored already."""


class NearDuplicateError(DuplicateEntryError):
    """The method name differs from a stored one of the same task only in case or spacing, which readers
    of the page could not tell apart."""


def method_fold(method: str) -> str:
    """A method name as readers compare it: case-folded, NFKC, whitespace runs collapsed."""
    return " ".join(unicodedata.normalize("NFKC", method.casefold()).split())


def unverified(result: Result) -> Result:
    """The entry without a ``verified`` mark: only re-measurement by econbench may set it."""
    return result.model_copy(update={"verified": False}) if result.verified else result


def reverified(verify: Verifier, result: Result) -> Result:
    """``verify(result)``, checked to be the same entry (the verifier may only set ``verified``)."""
    checked = verify(result)
    if not isinstance(checked, Result) or checked.key() != result.key():
        raise ValueError(f"the verifier returned another entry for {result.key()} ({result.task.id})")
    return checked


def _errorname(exc: sqlite3.Error) -> str:
    """SQLite's error class (``sqlite_errorname`` from Python 3.11; matched by message before that)."""
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        return str(name)
    text = str(exc).lower()
    for needle, code in (
        ("not a database", "SQLITE_NOTADB"),
        ("malformed", "SQLITE_CORRUPT"),
        ("readonly", "SQLITE_READONLY"),
        ("disk is full", "SQLITE_FULL"),
        ("locked", "SQLITE_BUSY"),
        ("unable to open", "SQLITE_CANTOPEN"),
    ):
        if needle in text:
            return code
    return "SQLITE_ERROR"


class Store:
    """Leaderboard entries keyed by :meth:`Result.key`.

    ``readonly=True`` opens the file with ``mode=ro`` (falling back to ``immutable=1`` where the WAL index
    cannot be created, as in a read-only folder) and reads a missing store as an empty one.
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 60.0, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout = timeout
        self.readonly = readonly
        self._immutable = False
        self._empty = False  # read-only and nothing there yet
        if self.path.is_dir():
            raise StoreError(
                f"the store {self.path} is a folder; give the path of a file (e.g. {self.path / 'leaderboard.sqlite'})"
            )
        if readonly:
            if not self.path.exists():
                self._empty = True
                return
            self._check()
            self._empty = not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'")
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the store {self.path}: {exc.strerror or exc}") from None
        self._check()  # before anything is written
        with self._errors("preparing"), contextlib.closing(self._connect()) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    # ------------------------------------------------------------------ connections and errors

    def _uri(self, immutable: bool) -> str:
        return f"file:{urllib.parse.quote(str(self.path.absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            return self._connect_readonly()
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        con.execute("PRAGMA synchronous=FULL")
        return con

    def _connect_readonly(self) -> sqlite3.Connection:
        """``mode=ro``; where a WAL store cannot be read that way (no ``-shm`` and no right to create one),
        ``immutable=1``, which reads the main file only (complete once the last writer has closed)."""
        for immutable in (True,) if self._immutable else (False, True):
            con = sqlite3.connect(self._uri(immutable), uri=True, timeout=self.timeout, isolation_level=None)
            try:
                con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                con.close()
                if immutable or not _errorname(exc).startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")):
                    raise
                continue
            self._immutable = immutable
            return con
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        name, why = _errorname(exc), str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return CorruptStoreError(
                f"the store {self.path} is corrupt ({why}); it was not modified: restore a copy "
                "or rebuild it elsewhere with `econbench leaderboard rebuild`"
            )
        if name.startswith("SQLITE_READONLY"):
            return StoreError(
                f"the store {self.path} is read-only ({why}); nothing was written "
                "(`econbench leaderboard show` still reads it)"
            )
        if name.startswith("SQLITE_FULL"):
            return StoreError(
                f"the disk holding the store {self.path} is full; nothing was written and the stored entries are intact"
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreError(
                f"the store {self.path} stayed locked by another writer for {self.timeout:g} s; nothing was written"
            )
        if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
            return StoreError(f"cannot open the store {self.path} ({why})")
        return StoreError(f"{doing} the store {self.path} failed ({why})")

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """SQLite and file-system failures as one-line :class:`StoreError`s."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(doing, exc) from None
        except OSError as exc:
            raise StoreError(f"{doing} the store {self.path} failed: {exc.strerror or exc}") from None

    def _check(self) -> None:
        """``PRAGMA quick_check`` before anything is read or written: a damaged store is refused, not used.

        Checked through a read-only connection, whose closing cannot checkpoint a WAL into a damaged file.
        """
        if not self.path.exists():
            return  # created empty by the first write
        with self._errors("opening"), contextlib.closing(self._connect_readonly()) as con:
            found = [str(row[0]) for row in con.execute("PRAGMA quick_check(3)")]
        if found != ["ok"]:
            what = " ".join(" ".join(found).replace("*** in database main ***", "").split())[:300] or "no answer"
            raise CorruptStoreError(
                f"the store {self.path} is corrupt (quick_check: {what}); it was not modified: "
                "restore a copy or rebuild it elsewhere with `econbench leaderboard rebuild`"
            )

    def _query(self, query: str, params: tuple[object, ...] = ()) -> list[tuple]:
        if self._empty:
            return []
        with self._errors("reading"), contextlib.closing(self._connect()) as con:
            return con.execute(query, params).fetchall()

    def _parse(self, key: str, text: str) -> Result:
        try:
            return parse_result(text)
        except ValueError as exc:
            raise StoreError(
                f"the stored entry {key} no longer validates ({exc}); take it out with "
                f"`econbench leaderboard remove --key {key}`"
            ) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error (or by SQLite, if the process dies)."""
        if self.readonly:
            raise StoreError(f"the store {self.path} was opened read-only")
        with self._errors("writing to"):
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    if con.in_transaction:  # SQLite rolls back by itself on some errors (a full disk)
                        con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    # ------------------------------------------------------------------ entries

    def _insert(self, con: sqlite3.Connection, result: Result, replace: bool) -> str:
        """Insert (or replace) one entry inside ``con``'s transaction. An unverified copy of an entry this store
        holds verified, identical otherwise, leaves the stored one as it is: re-reading it does not un-verify it."""
        key = result.key()
        exists = con.execute("SELECT json FROM entries WHERE key = ?", (key,)).fetchone()
        if exists and not replace:
            raise DuplicateEntryError(f"entry {key} ({result.task.id}, {result.method!r}) is stored already")
        if exists and not result.verified:
            with contextlib.suppress(ValueError):
                if parse_result(exists[0]) == result.model_copy(update={"verified": True}):
                    return key
        folded = method_fold(result.method)
        for (method,) in con.execute("SELECT DISTINCT method FROM entries WHERE task_id = ?", (result.task.id,)):
            if method != result.method and method_fold(method) == folded:
                raise NearDuplicateError(
                    f"method {result.method!r} differs from the stored {method!r} of "
                    f"{result.task.id} only in case or spacing; submit it as {method!r}"
                )
        row = (
            key,
            result.task.id,
            result.method,
            result.policy,
            result.score,
            int(result.verified),
            result.date.isoformat(),
            result.model_dump_json(),
        )
        con.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        return key

    def add(self, result: Result, replace: bool = False) -> str:
        """Store one entry; ``DuplicateEntryError`` (or ``NearDuplicateError``) when its key or method is taken."""
        with self.transaction() as con:
            return self._insert(con, result, replace)

    def remove(self, key: str) -> tuple[str, str]:
        """Take one entry out (under the write lock); returns its (task, method). ``KeyError`` when absent.

        Reads only the indexed columns, so an entry that no longer validates can be removed too.
        """
        with self.transaction() as con:
            row = con.execute("SELECT task_id, method FROM entries WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(f"no entry {key!r} in {self.path}")
            con.execute("DELETE FROM entries WHERE key = ?", (key,))
        return row[0], row[1]

    def has(self, key: str) -> bool:
        return bool(self._query("SELECT 1 FROM entries WHERE key = ?", (key,)))

    def get(self, key: str) -> Result:
        rows = self._query("SELECT json FROM entries WHERE key = ?", (key,))
        if not rows:
            raise KeyError(f"no entry {key!r} in {self.path}")
        return self._parse(key, rows[0][0])

    def results(self, task_id: str | None = None) -> list[Result]:
        """All entries (of one task), best score first within each task."""
        query = (
            "SELECT key, json FROM entries"
            + (" WHERE task_id = ?" if task_id else "")
            + " ORDER BY task_id, score DESC"
        )
        return [self._parse(key, text) for key, text in self._query(query, (task_id,) if task_id else ())]

    def count(self) -> int:
        rows = self._query("SELECT COUNT(*) FROM entries")
        return int(rows[0][0]) if rows else 0

    def integrity_ok(self) -> bool:
        rows = self._query("PRAGMA integrity_check")
        return not rows or rows[0][0] == "ok"

    def export(self, folder: str | Path, key: str) -> Path:
        """Write one entry as a reviewed-file candidate ``<folder>/<key>.json`` (the published leaderboard)."""
        text = json.dumps(json.loads(self.get(key).model_dump_json()), indent=2, sort_keys=True) + "\n"
        path = Path(folder) / f"{key}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path

    def rebuild(self, folder: str | Path, verify: Verifier | None = None) -> int:
        """Add every ``*.json`` entry of a published folder (replacing same keys) in one transaction; returns how many.

        Every file is read and validated first, so a malformed one writes nothing. A file's ``verified`` mark is
        dropped: an entry is stored verified only if ``verify`` (re-measurement) returns it so; an exception
        from ``verify`` also writes nothing.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise StoreError(f"{folder}: no such folder" if not folder.exists() else f"{folder} is not a folder")
        results = []
        for f in sorted(folder.glob("*.json")):
            try:
                if f.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError(f"over the {MAX_FILE_BYTES:,}-byte limit for a result file")
                results.append(unverified(parse_result(f.read_bytes())))
            except (ValueError, OSError) as exc:
                raise ValueError(f"{f}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        if verify is not None:
            results = [reverified(verify, r) for r in results]
        with self.transaction() as con:
            for r in results:
                self._insert(con, r, replace=True)
        return len(results)
