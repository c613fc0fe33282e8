"""Task identity: a fingerprint of a task's card and of every econbench module its factory imports.

A leaderboard result carries the fingerprint of the task it was measured on,
so a score from an older definition is refused instead of compared with new
ones. What defines a task is its card and the code that builds and steps it,
wherever that code lives (a parent class in a sibling package, a helper
module, the generic core), so the fingerprint hashes the card and the import
closure of the card's factory module, found by reading the imports in the
source (``ast``), never by guessing module names and never by executing code.

Covered:

* the card, minus its prose and its measured scores (``_CARD_PROSE``);
* every ``econbench`` module reached from the factory's module by ``import``
  and ``from ... import`` statements, absolute or relative, at any depth of
  the code (tasks import lazily inside functions), except those under
  ``if TYPE_CHECKING:`` (never executed). ``from P import x`` counts ``P.x``
  when ``x`` is a submodule, else ``P`` (whose namespace defines ``x``);
* the packages that contain those modules (their ``__init__`` runs on
  import), except the root ``econbench`` package: it holds the version and
  re-exports, and a version bump must not invalidate every result;
* each module as the dump of its syntax tree without docstrings, so comments,
  docstrings and layout do not count; any change to the code does;
* the data files a covered package ships: every non-Python file in its folder
  and in its non-package subfolders (e.g. ``envs/rbc/trained/*.npz``, the
  learned profiles that are named policies of the RBC tasks), by content.

Not covered: code imported by a string (``importlib.import_module``, e.g. the
registry building another task from its card, or ``solve`` finding a
package's ``solution``), files read from outside the package (``baselines/``
scripts, checkpoints given by path), other tasks' cards a factory reads by ID,
and third-party libraries (numpy, torch) whose versions the result records.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from econbench.cards import load_card

PACKAGE = "econbench"
PACKAGE_DIR = Path(__file__).resolve().parent
_CARD_PROSE = ("reference_scores", "learned_scores", "baselines", "summary", "description")
_NOT_DATA = (".py", ".pyc", ".pyo", ".pyi")

Reader = Callable[[Path], bytes]
"""Reads a file's bytes; tests pass one that substitutes edited source without touching the tree."""

RawImport = tuple[int, str | None, tuple[str, ...]]  # (level, module, names); names == () for ``import module``


def _read(path: Path) -> bytes:
    return path.read_bytes()


def strip_docstrings(tree: ast.AST) -> ast.AST:
    """Drop the leading string statement of every body, so that prose edits leave the dump unchanged."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


@functools.cache
def module_file(name: str) -> Path | None:
    """The source file of an ``econbench`` module, as the import system would pick it, or None if there is none.

    Resolved from the package folder rather than ``importlib.util.find_spec``,
    which would execute the parents' ``__init__``. As Python does, a package
    (``x/__init__.py``) wins over a module ``x.py``, which wins over a folder
    without ``__init__.py`` (``envs/rbc/trained.py`` next to ``envs/rbc/trained/``).
    """
    parts = name.split(".")
    if parts[0] != PACKAGE or not all(p.isidentifier() for p in parts):
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if len(parts) > 1 and base.with_name(base.name + ".py").is_file():
        return base.with_name(base.name + ".py")
    return None


def _is_package(name: str) -> bool:
    path = module_file(name)
    return path is not None and path.name == "__init__.py"


class _Imports(ast.NodeVisitor):
    """Every import statement of a module, at any depth, skipping ``if TYPE_CHECKING:`` bodies."""

    def __init__(self) -> None:
        self.found: list[RawImport] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((0, alias.name, ()) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node.level, node.module, tuple(alias.name for alias in node.names)))

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for stmt in node.orelse:
                self.visit(stmt)
        else:
            self.generic_visit(node)


@functools.lru_cache(maxsize=1024)
def _analyse(source: bytes) -> tuple[bytes, tuple[RawImport, ...]]:
    """The digest of a module's docstring-free syntax tree and its import statements (cached on the source)."""
    tree = ast.parse(source)
    visitor = _Imports()
    visitor.visit(tree)
    digest = hashlib.sha256(ast.dump(strip_docstrings(tree)).encode()).digest()
    return digest, tuple(visitor.found)


def _resolve(name: str, imports: Iterable[RawImport]) -> set[str]:
    """The ``econbench`` modules that the import statements of module ``name`` read names from."""
    out: set[str] = set()
    for level, module, names in imports:
        if level:  # relative: from the module's own package, one folder up per extra dot
            package = name if _is_package(name) else name.rpartition(".")[0]
            anchor = package.rsplit(".", level - 1)[0] if level > 1 else package
            base = f"{anchor}.{module}" if module else anchor
        else:
            base = module or ""
        if base.split(".")[0] != PACKAGE:
            continue
        if not names:  # import econbench.a.b (as c)
            out.add(base)
            continue
        for alias in names:
            submodule = f"{base}.{alias}"
            out.add(submodule if alias != "*" and module_file(submodule) is not None else base)
    return {m for m in out if module_file(m) is not None}


def _parents(name: str) -> list[str]:
    """The packages whose ``__init__`` runs when ``name`` is imported, the root ``econbench`` excepted."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def _walk(module: str, read: Reader) -> dict[str, bytes]:
    """Module name -> source digest, for the import closure of ``module``."""
    if module_file(module) is None:
        raise ModuleNotFoundError(f"{module!r} is not a module of the {PACKAGE} package")
    digests: dict[str, bytes] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in digests:
            continue
        path = module_file(name)
        assert path is not None
        digest, imports = _analyse(read(path))
        digests[name] = digest
        todo.extend(m for m in (*_resolve(name, imports), *_parents(name)) if m not in digests)
    return digests


@functools.cache
def _cached_walk(module: str) -> dict[str, bytes]:
    return _walk(module, _read)


def import_closure(module: str, read: Reader | None = None) -> tuple[str, ...]:
    """The sorted names of the ``econbench`` modules that ``module`` depends on through its imports, itself included."""
    digests = _cached_walk(module) if read is None else _walk(module, read)
    return tuple(sorted(digests))


def data_files(modules: Iterable[str]) -> tuple[Path, ...]:
    """The non-Python files shipped by the packages among ``modules`` (their folders and non-package subfolders)."""
    found: set[Path] = set()
    for name in modules:
        if name == PACKAGE or not _is_package(name):
            continue
        folder = module_file(name).parent  # type: ignore[union-attr]
        stack = [folder]
        while stack:
            current = stack.pop()
            for entry in current.iterdir():
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                if entry.is_dir():
                    if not (entry / "__init__.py").is_file():  # a subpackage is covered only if imported
                        stack.append(entry)
                elif entry.suffix not in _NOT_DATA:
                    found.add(entry)
    return tuple(sorted(found))


def factory_module(task_id: str) -> str:
    """The module named by the card's ``factory`` (``module:function``)."""
    return str(load_card(task_id)["factory"]).partition(":")[0]


def task_fingerprint(task_id: str, read: Reader | None = None) -> str:
    """SHA-256 (first 16 hex digits) of the task's card without prose and scores, the code of the factory's import
    closure without comments and docstrings, and the data files its packages ship.

    Cached per process for the installed sources; pass ``read`` to hash edited
    sources instead (tests), which bypasses the per-task cache.
    """
    if read is None:
        return _cached_fingerprint(task_id)
    return _fingerprint(task_id, read)


@functools.cache
def _cached_fingerprint(task_id: str) -> str:
    return _fingerprint(task_id, _read)


def _fingerprint(task_id: str, read: Reader) -> str:
    card = {k: v for k, v in load_card(task_id).items() if k not in _CARD_PROSE}
    h = hashlib.sha256(json.dumps(card, sort_keys=True, default=str).encode())
    module = factory_module(task_id)
    digests = _cached_walk(module) if read is _read else _walk(module, read)
    for name in sorted(digests):
        h.update(f"\0module {name}\0".encode() + digests[name])
    for path in data_files(digests):
        h.update(f"\0data {path.relative_to(PACKAGE_DIR).as_posix()}\0".encode() + hashlib.sha256(read(path)).digest())
    return h.hexdigest()[:16]
