"""Weights & Biases mirror of the leaderboard: one run per entry, a table run, sync and pull.

The local store is the source of truth. W&B is a mirror that may be offline,
misconfigured or down, so every W&B call here is wrapped: a failure warns and
returns ``None`` and never touches (or waits on) the store, which the caller
has written first. A run never stalls on W&B: ``wandb.init`` gets a short
timeout, and after the first failure the rest of the run (everything logged
with the same :class:`WandbConfig`) stops trying, with one warning. Offline
runs queue in a ``wandb/`` folder beside the store, where ``sync`` finds them.

Each entry's run carries the full entry JSON in its summary
(``econbench_result``), so :func:`pull` can rebuild the exact entry (stored
unverified: a run cannot vouch for itself), and uses fixed run/config/metric
names so runs can be filtered like Open RL Benchmark projects (``tags``,
``jobType``, ``config.<key>``).

``wandb`` is an optional dependency (the ``track`` extra); it is imported lazily.
"""

from __future__ import annotations

import json
import logging
import math
import netrc
import os
import re
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from econbench.cards import short_name
from econbench.leaderboard.schema import Result, parse_result
from econbench.leaderboard.store import DuplicateEntryError, Store, Verifier, default_store_path, reverified, unverified

log = logging.getLogger(__name__)

Mode = Literal["auto", "online", "offline", "disabled"]

ENTRY_JOB_TYPE = "leaderboard-entry"
TABLE_JOB_TYPE = "leaderboard-table"
RESULT_KEY = "econbench_result"
TABLE_KEY = "leaderboard"
TABLE_COLUMNS = [
    "task",
    "method",
    "policy",
    "score",
    "ci_low",
    "ci_high",
    "iqm",
    "gap_kind",
    "gap",
    "verified",
    "entry_key",
]
CONFIG_KEYS = (
    "task_id",
    "task_version",
    "task_fingerprint",
    "method",
    "policy",
    "authors",
    "code_url",
    "seeds",
    "episodes_per_seed",
    "backend",
    "econbench_version",
    "entry_key",
    "schema_version",
)
PULL_FILTERS: dict[str, Any] = {"$and": [{"tags": {"$in": ["leaderboard"]}}, {"jobType": ENTRY_JOB_TYPE}]}
_MAX_TAG = 64  # W&B rejects longer tags


class WandbSyncError(RuntimeError):
    """Queued offline runs could not be uploaded (no credentials, or ``wandb sync`` failed); they stay queued."""


@dataclass
class WandbConfig:
    """Where and how entries are mirrored, for one run (a bench, a submit). ``mode="auto"`` goes online only with
    credentials, so a fresh machine never blocks on a login prompt: it queues offline runs for :func:`sync` instead.

    The config also remembers a failure: after the first one, later calls with it return ``None`` at once.
    """

    entity: str | None = None
    project: str = "econbench-leaderboard"
    mode: Mode = "auto"
    dir: str | Path | None = None  # parent of the ``wandb/`` folder; None: $WANDB_DIR, else the store's folder
    store: str | Path | None = None  # the store mirrored (None: the default store); its folder holds the queue
    init_timeout: float = 30.0  # seconds for wandb.init (W&B's default is 90)
    sync_timeout: float = 600.0  # seconds for `wandb sync`
    failed: bool = field(default=False, init=False, repr=False, compare=False)

    def resolved_dir(self) -> Path:
        if self.dir is not None:
            return Path(self.dir).expanduser()
        if os.environ.get("WANDB_DIR"):
            return Path(os.environ["WANDB_DIR"]).expanduser()
        store = Path(self.store).expanduser() if self.store is not None else default_store_path()
        return store.absolute().parent  # beside the store: <store folder>/wandb/

    def wandb_folder(self) -> Path:
        """The ``wandb/`` folder where offline runs are queued."""
        return self.resolved_dir() / "wandb"

    def resolved_mode(self) -> Literal["online", "offline", "disabled"]:
        if self.mode != "auto":
            return self.mode
        env = os.environ.get("WANDB_MODE", "").strip().lower()
        if env in ("disabled", "dryrun") or os.environ.get("WANDB_DISABLED", "").lower() in ("true", "1"):
            return "disabled"
        if env == "offline" or not api_key_available():
            return "offline"
        return "online"


def api_key_available() -> bool:
    """Whether W&B credentials exist (``WANDB_API_KEY`` or a netrc entry for the W&B host); reads no network."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlsplit(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").hostname
    if not host:
        return False
    if os.environ.get("NETRC"):
        candidates = [Path(os.environ["NETRC"]).expanduser()]
    else:
        candidates = [Path("~/.netrc").expanduser(), Path("~/_netrc").expanduser()]
    for path in candidates:
        try:
            creds = netrc.netrc(str(path)).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            continue
        if creds and creds[2]:
            return True
    return False


def method_slug(method: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", method.lower()).strip("-")
    return slug[:40].rstrip("-") or "method"


def run_name(result: Result) -> str:
    return f"{short_name(result.task.id)}__{method_slug(result.method)}__{result.key()}"


def entry_tags(result: Result) -> list[str]:
    return [
        "econbench",
        "leaderboard",
        short_name(result.task.id)[:_MAX_TAG],
        "verified" if result.verified else "unverified",
    ]


def entry_config(result: Result) -> dict[str, Any]:
    return {
        "task_id": result.task.id,
        "task_version": result.task.version,
        "task_fingerprint": result.task.fingerprint,
        "method": result.method,
        "policy": result.policy,
        "authors": list(result.authors),
        "code_url": result.code_url,
        "seeds": list(result.seeds),
        "episodes_per_seed": result.episodes_per_seed,
        "backend": result.backend,
        "econbench_version": result.econbench_version,
        "entry_key": result.key(),
        "schema_version": result.schema_version,
    }


def _gap_base(kind: str, group: str | None) -> str:
    # a "/" or blank inside a group name would add a level to W&B's metric grouping
    return f"gap/{kind}" + ("/" + re.sub(r"[/\s]+", "_", group) if group else "")


def entry_metrics(result: Result) -> dict[str, float]:
    """The numbers of an entry under fixed names, so W&B charts and filters line up across entries."""
    metrics: dict[str, float] = {
        "score": result.score,
        "score_ci95_low": result.score_ci95[0],
        "score_ci95_high": result.score_ci95[1],
        "score_iqm": result.score_iqm,
    }
    for seed, s in zip(result.seeds, result.per_seed_scores):
        metrics[f"score/seed_{seed}"] = s
    for gap in result.gaps:
        base = _gap_base(gap.kind, gap.group)
        if base in metrics:  # two methods measured the same gap: keep both, the later one qualified
            base = f"{base}/{method_slug(gap.method)}"
        metrics[base] = gap.value
        if gap.relative is not None:
            metrics[f"{base}/relative"] = gap.relative
        if gap.normalized is not None:
            metrics[f"{base}/normalized"] = gap.normalized
        if gap.ci95 is not None:
            metrics[f"{base}/ci95_low"], metrics[f"{base}/ci95_high"] = gap.ci95
    return {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(v)}


def headline_gap(result: Result) -> tuple[str | None, float | None]:
    """The gap a table row shows (:meth:`Result.headline_gap`): its kind and epsilon."""
    gap = result.headline_gap()
    return (gap.kind, gap.value) if gap is not None else (None, None)


def table_rows(results: Iterable[Result]) -> list[list[Any]]:
    rows = []
    for r in results:
        kind, gap = headline_gap(r)
        rows.append(
            [
                r.task.id,
                r.method,
                r.policy,
                r.score,
                r.score_ci95[0],
                r.score_ci95[1],
                r.score_iqm,
                kind,
                gap,
                r.verified,
                r.key(),
            ]
        )
    return rows


def _fail(cfg: WandbConfig, what: str, exc: BaseException) -> None:
    """Warn once and switch W&B off for the rest of the run: a mirror that failed once would likely fail (or
    stall) again on every entry."""
    cfg.failed = True
    msg = (
        f"W&B: {what} failed ({type(exc).__name__}: {exc}); the local leaderboard is unaffected, "
        "and W&B logging is off for the rest of this run"
    )
    log.warning(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def _guarded_init(init: Any, timeout: float, **kwargs: Any) -> Any:
    """``init(**kwargs)`` in a daemon thread, given up on after ``timeout`` seconds whatever W&B does
    (its own ``init_timeout`` does not cover every wait); a run that starts after that is finished at once."""
    box: dict[str, Any] = {}
    abandoned = threading.Event()

    def target() -> None:
        try:
            box["run"] = init(**kwargs)
        except BaseException as exc:
            box["error"] = exc
            return
        if abandoned.is_set():
            _finish(box["run"], failed=True)

    thread = threading.Thread(target=target, name="econbench-wandb-init", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        abandoned.set()
        raise TimeoutError(f"wandb.init did not return within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["run"]


def _init(cfg: WandbConfig, mode: str, **kwargs: Any) -> Any:
    import wandb

    folder = cfg.resolved_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:  # no console capture, code, git or system metrics: an entry run records the entry, not this process
        settings = wandb.Settings(
            silent=True,
            console="off",
            save_code=False,
            disable_git=True,
            disable_job_creation=True,
            x_disable_stats=True,
            x_disable_machine_info=True,
            init_timeout=cfg.init_timeout,
        )
    except Exception:
        settings = wandb.Settings(silent=True, console="off", init_timeout=cfg.init_timeout)
    # W&B's own timeout first; ours, a little later, for waits it does not cover
    return _guarded_init(
        wandb.init,
        cfg.init_timeout + min(cfg.init_timeout, 10.0),
        entity=cfg.entity,
        project=cfg.project,
        dir=str(folder),
        mode=mode,
        reinit="create_new",  # never finish or hijack a run the caller has open
        settings=settings,
        **kwargs,
    )


def _run_location(run: Any, mode: str) -> str:
    if mode == "offline":
        return str(run.settings.sync_dir)
    return str(run.path)


def _finish(run: Any, failed: bool) -> None:
    try:
        run.finish(exit_code=1 if failed else 0)
    except Exception as exc:
        log.debug("W&B: finishing the run failed: %s", exc)


def log_entry(result: Result, cfg: WandbConfig | None = None) -> str | None:
    """Mirror one stored entry as its own W&B run.

    Returns the run path (``entity/project/run_id``), the offline run directory,
    or ``None`` when disabled, when anything in W&B failed (with a warning), or when W&B failed earlier in this run.
    """
    cfg = cfg or WandbConfig()
    mode = cfg.resolved_mode()
    if mode == "disabled" or cfg.failed:
        return None
    run = None
    try:
        run = _init(
            cfg,
            mode,
            name=run_name(result),
            group=result.task.id,
            job_type=ENTRY_JOB_TYPE,
            tags=entry_tags(result),
            config=entry_config(result),
        )
        run.log(entry_metrics(result))
        run.summary[RESULT_KEY] = result.model_dump_json()
        location = _run_location(run, mode)
        run.finish()
        return location
    except Exception as exc:
        if run is not None:
            _finish(run, failed=True)
        _fail(cfg, f"logging entry {result.key()} ({result.task.id}, {result.method!r})", exc)
        return None


def log_table(results: Iterable[Result], cfg: WandbConfig | None = None) -> str | None:
    """Log the whole leaderboard as one ``wandb.Table`` run (a snapshot to browse, not the source of truth).

    Returns the run path / offline run directory, or ``None`` when disabled or on failure (now or earlier in the run).
    """
    cfg = cfg or WandbConfig()
    mode = cfg.resolved_mode()
    if mode == "disabled" or cfg.failed:
        return None
    results = list(results)
    run = None
    try:
        import wandb

        from econbench import __version__

        run = _init(
            cfg,
            mode,
            name="leaderboard-table",
            job_type=TABLE_JOB_TYPE,
            tags=["econbench", "leaderboard"],
            config={"n_entries": len(results), "econbench_version": __version__},
        )
        table = wandb.Table(columns=TABLE_COLUMNS, data=table_rows(results), allow_mixed_types=True)
        run.log({TABLE_KEY: table})
        location = _run_location(run, mode)
        run.finish()
        return location
    except Exception as exc:
        if run is not None:
            _finish(run, failed=True)
        _fail(cfg, f"logging the leaderboard table ({len(results)} entries)", exc)
        return None


def wandb_command() -> list[str]:
    """The ``wandb`` CLI of this interpreter's environment (the pinned one), not whatever is first on PATH."""
    exe = Path(sys.executable).parent / ("wandb.exe" if os.name == "nt" else "wandb")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("wandb")
    return [found] if found else [sys.executable, "-m", "wandb"]


def queued_runs(cfg: WandbConfig | None = None) -> list[Path]:
    """Offline run directories not yet uploaded (no ``run-<id>.wandb.synced`` marker), oldest first."""
    folder = (cfg or WandbConfig()).wandb_folder()
    if not folder.is_dir():
        return []
    runs = []
    for d in sorted(folder.glob("offline-run-*")):
        logs = list(d.glob("run-*.wandb"))
        if d.is_dir() and logs and not all(f.with_name(f.name + ".synced").exists() for f in logs):
            runs.append(d)
    return runs


def sync(cfg: WandbConfig | None = None) -> list[str]:
    """Upload queued offline runs with ``wandb sync``; returns the run directories synced.

    Raises :class:`WandbSyncError` without credentials, when the upload fails or when it takes longer than
    ``cfg.sync_timeout`` (then ``wandb sync`` is killed); nothing is deleted, so the runs stay queued for
    the next attempt.
    """
    cfg = cfg or WandbConfig()
    pending = queued_runs(cfg)
    if not api_key_available():
        raise WandbSyncError(
            f"no W&B API key: set WANDB_API_KEY or run `wandb login` (or add a netrc entry); "
            f"{len(pending)} offline run(s) stay queued in {cfg.wandb_folder()}"
        )
    if not pending:
        return []
    cmd = [*wandb_command(), "sync", "--project", cfg.project]
    if cfg.entity:
        cmd += ["--entity", cfg.entity]
    cmd += [str(p) for p in pending]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cfg.sync_timeout)
    except subprocess.TimeoutExpired:
        raise WandbSyncError(
            f"`wandb sync` did not finish within {cfg.sync_timeout:g} s and was stopped; "
            f"{len(pending)} run(s) stay queued"
        ) from None
    except OSError as exc:
        raise WandbSyncError(f"could not run `wandb sync` ({exc}); {len(pending)} run(s) stay queued") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip()[-2000:]
        raise WandbSyncError(f"`wandb sync` exited with {proc.returncode}; {len(pending)} run(s) stay queued:\n{tail}")
    return [str(p) for p in pending]


class _ApiRun(Protocol):
    summary: Any
    config: Any
    tags: Any


class RunSource(Protocol):
    """What :func:`pull` needs from ``wandb.Api``; tests pass a fake."""

    def runs(self, path: str, filters: dict[str, Any] | None = None) -> Iterable[_ApiRun]: ...


def _run_label(run: Any) -> str:
    for attr in ("path", "id", "name"):
        value = getattr(run, attr, None)
        if value:
            return "/".join(value) if isinstance(value, (list, tuple)) else str(value)
    return repr(run)


def pull(cfg: WandbConfig | None, store: Store, api: RunSource | None = None, verify: Verifier | None = None) -> int:
    """Rebuild entries in ``store`` from the entry runs of a W&B project (replacing same keys).

    A run's ``verified`` mark is dropped: anyone can write a run. An entry is stored verified only if ``verify``
    (re-measurement) returns it so. Runs whose ``econbench_result`` is missing or fails validation, and entries
    whose method nearly duplicates a stored one, are skipped and reported in one warning.
    Returns the number of distinct entries written.
    """
    cfg = cfg or WandbConfig()
    if api is None:
        import wandb

        api = wandb.Api()
    path = f"{cfg.entity}/{cfg.project}" if cfg.entity else cfg.project
    written: set[str] = set()
    bad: list[str] = []
    for run in api.runs(path, filters=PULL_FILTERS):
        label = _run_label(run)
        try:
            raw = run.summary[RESULT_KEY]
        except (KeyError, TypeError):
            bad.append(f"{label}: no {RESULT_KEY} in its summary")
            continue
        try:
            result = unverified(parse_result(raw if isinstance(raw, (str, bytes, dict)) else dict(raw)))
        except (ValueError, TypeError) as exc:
            bad.append(f"{label}: {exc}")
            continue
        if verify is not None:
            result = reverified(verify, result)
        try:
            written.add(store.add(result, replace=True))
        except DuplicateEntryError as exc:  # a near-duplicate method name
            bad.append(f"{label}: {exc}")
    if bad:
        msg = f"W&B pull skipped {len(bad)} run(s) of {path}: " + "; ".join(bad)
        log.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return len(written)


def read_offline_run(run_dir: str | Path) -> dict[str, Any]:
    """An offline run as W&B itself reads it back (``wandb leet inspect --summary --json``), plus the
    ``group`` and ``job_type`` from its run record, which the summary view leaves out.

    ``leet`` is a beta surface of wandb 0.31 and later (the tests' reader; training and sync need only ``wandb>=0.20``);
    there is no Python-side reader.
    """
    cmd = [*wandb_command(), "leet", "inspect"]
    env = {**os.environ, "WANDB_SILENT": "true"}
    proc = subprocess.run(
        [*cmd, "--summary", "--json", str(run_dir)], capture_output=True, text=True, env=env, timeout=120
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`wandb leet inspect` failed on {run_dir} ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    data: dict[str, Any] = json.loads(proc.stdout)
    records = subprocess.run([*cmd, "--json", str(run_dir)], capture_output=True, text=True, env=env, timeout=120)
    for line in records.stdout.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("type") == "run":
            data.setdefault("group", rec["run"].get("run_group"))
            data.setdefault("job_type", rec["run"].get("job_type"))
            break
    return data
