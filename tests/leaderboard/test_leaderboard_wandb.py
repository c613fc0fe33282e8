"""The W&B mirror of the leaderboard, exercised against real offline runs (read back with W&B's own
``wandb leet inspect``) and against a fake public API; no test touches the network or ``wandb.Api()``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

wandb = pytest.importorskip("wandb")

from econbench.cli import main  # noqa: E402
from econbench.leaderboard import wandb_sync as ws  # noqa: E402
from econbench.leaderboard.results import measure  # noqa: E402
from econbench.leaderboard.schema import Result, parse_result  # noqa: E402
from econbench.leaderboard.store import Store  # noqa: E402


def _isolate(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Keep every file W&B writes (runs, staging, caches, settings) under ``root``, offline, without credentials."""
    for var, sub in (
        ("WANDB_DIR", ""),
        ("WANDB_DATA_DIR", "data"),
        ("WANDB_CACHE_DIR", "cache"),
        ("WANDB_CONFIG_DIR", "config"),
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
        mp.setenv(var, str(root / sub))
    mp.setenv("WANDB_MODE", "offline")
    mp.setenv("WANDB_SILENT", "true")
    mp.setenv("NETRC", str(root / "no-netrc"))
    for var in ("WANDB_API_KEY", "WANDB_DISABLED", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_RUN_ID"):
        mp.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _wandb_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return {
        "equilibrium": measure("InvestmentOligopoly-v0", "exact", method="MPE (exact)", authors=["econbench"]),
        "optimality": measure(
            "InvestmentLQ-Planner-v0",
            "freeze",
            method="Freeze baseline",
            authors=["econbench"],
            code_url="https://example.org/econbench",
        ),
    }


@pytest.fixture(scope="module")
def logged(results: dict[str, Result], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both entries logged offline once and read back, shared by the assertions below (offline runs cost ~1 s)."""
    root = tmp_path_factory.mktemp("wandb-module")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)
        cfg = ws.WandbConfig(dir=root)
        out: dict[str, Any] = {"root": root, "cfg": cfg}
        for kind, r in results.items():
            run_dir = ws.log_entry(r, cfg)
            assert run_dir is not None
            out[kind] = {"dir": Path(run_dir), "data": ws.read_offline_run(run_dir)}
        yield out


@pytest.mark.parametrize("kind", ["equilibrium", "optimality"])
def test_entry_run_reads_back(kind: str, results: dict[str, Result], logged: dict[str, Any]) -> None:
    r = results[kind]
    run_dir: Path = logged[kind]["dir"]
    data = logged[kind]["data"]
    assert run_dir.parent == logged["root"] / "wandb" and run_dir.name.startswith("offline-run-")
    assert data["state"] == "finished" and data["exit_code"] == 0
    assert data["project"] == "econbench-leaderboard"
    assert data["name"] == f"{r.task.id.split('/')[-1]}__{ws.method_slug(r.method)}__{r.key()}"
    assert data["group"] == r.task.id and data["job_type"] == "leaderboard-entry"
    assert data["tags"] == ["econbench", "leaderboard", r.task.id.split("/")[-1], "unverified"]

    config = {k: v for k, v in data["config"].items() if not k.startswith("_")}
    assert set(config) == set(ws.CONFIG_KEYS)
    assert config["task_id"] == r.task.id and config["task_fingerprint"] == r.task.fingerprint
    assert config["entry_key"] == r.key() and config["seeds"] == r.seeds and config["authors"] == r.authors
    assert config["code_url"] == r.code_url and config["schema_version"] == 1

    summary = data["summary"]
    assert summary["score"] == pytest.approx(r.score)
    assert (summary["score_ci95_low"], summary["score_ci95_high"]) == pytest.approx(r.score_ci95)
    assert summary["score_iqm"] == pytest.approx(r.score_iqm)
    for seed, s in zip(r.seeds, r.per_seed_scores):
        assert summary[f"score/seed_{seed}"] == pytest.approx(s)
    (gap,) = r.gaps
    base = "gap/equilibrium/firms" if kind == "equilibrium" else "gap/optimality"
    assert summary[base] == pytest.approx(gap.value)
    assert (summary[f"{base}/ci95_low"], summary[f"{base}/ci95_high"]) == pytest.approx(gap.ci95)
    if kind == "equilibrium":
        assert summary[f"{base}/relative"] == pytest.approx(gap.relative) and f"{base}/normalized" not in summary
    else:
        assert summary[f"{base}/normalized"] == pytest.approx(gap.normalized) and f"{base}/relative" not in summary
    assert set(summary) - {"econbench_result"} - {k for k in summary if k.startswith("_")} == set(ws.entry_metrics(r))

    assert parse_result(summary["econbench_result"]) == r


def test_table_run(results: dict[str, Result], tmp_path: Path) -> None:
    no_gap = results["optimality"].model_copy(update={"method": "No gap measured", "gaps": []})
    rs = [*results.values(), no_gap]
    run_dir = ws.log_table(rs, ws.WandbConfig(dir=tmp_path))
    assert run_dir is not None
    (table_file,) = (Path(run_dir) / "files" / "media" / "table").glob("leaderboard_*.table.json")
    table = json.loads(table_file.read_text())
    assert table["columns"] == [
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
    assert [row[-1] for row in table["data"]] == [r.key() for r in rs]
    eq = table["data"][0]
    assert eq[0] == rs[0].task.id and eq[3] == pytest.approx(rs[0].score)
    assert eq[7] == "equilibrium" and eq[8] == pytest.approx(rs[0].gaps[0].value) and eq[9] is False
    assert table["data"][1][7:9] == ["optimality", pytest.approx(rs[1].gaps[0].value)]
    assert table["data"][2][7:9] == [None, None]  # a missing gap is an empty cell, not an error
    data = ws.read_offline_run(run_dir)
    assert data["job_type"] == "leaderboard-table" and data["config"]["n_entries"] == 3
    assert data["summary"]["leaderboard"]["_type"] == "table-file" and data["summary"]["leaderboard"]["nrows"] == 3


def test_wandb_failure_keeps_local_entry(
    results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = results["equilibrium"]
    store = Store(tmp_path / "lb.sqlite")
    store.add(r)  # the bench/submit order: the local store first, then the mirror

    def broken_init(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("W&B is down")

    monkeypatch.setattr(wandb, "init", broken_init)
    with pytest.warns(RuntimeWarning, match="W&B is down"):
        assert ws.log_entry(r, ws.WandbConfig(dir=tmp_path)) is None
    with pytest.warns(RuntimeWarning, match="W&B is down"):
        assert ws.log_table([r], ws.WandbConfig(dir=tmp_path)) is None
    assert store.has(r.key()) and store.get(r.key()) == r


def test_failure_mid_run_finishes_the_run(
    results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_table(*args: Any, **kwargs: Any) -> None:
        raise ValueError("bad table")

    monkeypatch.setattr(wandb, "Table", broken_table)
    with pytest.warns(RuntimeWarning, match="bad table"):
        assert ws.log_table(list(results.values()), ws.WandbConfig(dir=tmp_path)) is None
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    data = ws.read_offline_run(run_dir)
    assert data["state"] == "failed" and data["exit_code"] == 1


def test_disabled_writes_nothing(results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target"
    assert ws.log_entry(results["equilibrium"], ws.WandbConfig(mode="disabled", dir=target)) is None
    assert ws.log_table(list(results.values()), ws.WandbConfig(mode="disabled", dir=target)) is None
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert ws.log_entry(results["equilibrium"], ws.WandbConfig(dir=target)) is None
    assert not target.exists() and not (tmp_path / "wandb").exists()


def test_auto_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_MODE")
    cfg = ws.WandbConfig()
    assert cfg.resolved_mode() == "offline"  # no credentials
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert cfg.resolved_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert cfg.resolved_mode() == "offline"
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    assert cfg.resolved_mode() == "online"
    assert ws.WandbConfig(mode="offline").resolved_mode() == "offline"
    assert ws.WandbConfig(dir=None).wandb_folder() == tmp_path / "wandb"  # $WANDB_DIR


class FakeRun:
    def __init__(self, run_id: str, summary: dict[str, Any]) -> None:
        self.id = run_id
        self.path = ["ent", "econbench-leaderboard", run_id]
        self.summary = summary
        self.config: dict[str, Any] = {}
        self.tags = ["econbench", "leaderboard"]


class FakeApi:
    def __init__(self, runs: list[FakeRun]) -> None:
        self._runs = runs
        self.calls: list[tuple[str, Any]] = []

    def runs(self, path: str, filters: dict[str, Any] | None = None) -> list[FakeRun]:
        self.calls.append((path, filters))
        return self._runs


def test_pull_from_fake_api(results: dict[str, Result], tmp_path: Path) -> None:
    eq, opt = results["equilibrium"], results["optimality"]
    tampered = json.loads(opt.model_dump_json())
    tampered["score"] += 1.0  # no longer the mean of the per-seed scores
    api = FakeApi(
        [
            FakeRun("good1", {"econbench_result": eq.model_dump_json()}),
            FakeRun("bad1", {"econbench_result": json.dumps(tampered)}),
            FakeRun("good2", {"econbench_result": opt.model_dump_json(), "score": opt.score}),
        ]
    )
    store = Store(tmp_path / "fresh.sqlite")
    with pytest.warns(RuntimeWarning, match=r"skipped 1 run.*bad1.*score"):
        assert ws.pull(ws.WandbConfig(entity="ent"), store, api=api) == 2
    assert api.calls == [
        ("ent/econbench-leaderboard", {"$and": [{"tags": {"$in": ["leaderboard"]}}, {"jobType": "leaderboard-entry"}]})
    ]
    assert store.count() == 2
    assert store.get(eq.key()) == eq and store.get(opt.key()) == opt


def test_pull_round_trips_a_logged_run(results: dict[str, Result], logged: dict[str, Any], tmp_path: Path) -> None:
    api = FakeApi([FakeRun("x", logged["equilibrium"]["data"]["summary"]), FakeRun("y", {"score": 1.0})])
    store = Store(tmp_path / "fresh.sqlite")
    with pytest.warns(RuntimeWarning, match="y: no econbench_result"):
        assert ws.pull(ws.WandbConfig(), store, api=api) == 1
    assert api.calls[0][0] == "econbench-leaderboard"
    assert store.results() == [results["equilibrium"]]


def test_sync(logged: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "wandb"
    queued = folder / logged["equilibrium"]["dir"].name
    shutil.copytree(logged["equilibrium"]["dir"], queued, symlinks=True)
    done = folder / "offline-run-20000101_000000-done0000"
    done.mkdir()
    (done / "run-done0000.wandb").write_bytes(b"")
    (done / "run-done0000.wandb.synced").write_bytes(b"")
    cfg = ws.WandbConfig(entity="ent", dir=tmp_path)
    assert ws.queued_runs(cfg) == [queued]

    with pytest.raises(ws.WandbSyncError, match=r"no W&B API key.*1 offline run\(s\) stay queued"):
        ws.sync(cfg)

    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")

    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setattr(ws.subprocess, "run", fake_run)
    assert ws.sync(cfg) == [str(queued)]
    (cmd,) = calls
    assert Path(cmd[0]).name == "wandb" and cmd[1] == "sync"
    assert cmd[2:] == ["--project", "econbench-leaderboard", "--entity", "ent", str(queued)]

    monkeypatch.setattr(
        ws.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, stdout="", stderr="network is unreachable"),
    )
    with pytest.raises(ws.WandbSyncError, match="(?s)stay queued.*network is unreachable"):
        ws.sync(cfg)


# ----------------------------------------------------------------------------- W&B never stalls a run (issue 16)


def _entries(r: Result, n: int) -> list[Result]:
    return [r.model_copy(update={"method": f"method {i}"}) for i in range(n)]


def _runtime_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_failing_init_is_tried_once_per_run(
    results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def broken_init(**kwargs: Any) -> None:
        calls.append(kwargs)
        raise RuntimeError("W&B is down")

    monkeypatch.setattr(wandb, "init", broken_init)
    cfg = ws.WandbConfig(dir=tmp_path, init_timeout=7.0)
    entries = _entries(results["equilibrium"], 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [ws.log_entry(r, cfg) for r in entries] == [None] * 5
        assert ws.log_table(entries, cfg) is None
    assert len(calls) == 1 and calls[0]["settings"].init_timeout == 7.0
    (warning,) = _runtime_warnings(caught)
    assert "W&B is down" in warning and "off for the rest of this run" in warning
    with pytest.warns(RuntimeWarning, match="W&B is down"):  # the next run (a new config) tries again
        assert ws.log_entry(entries[0], ws.WandbConfig(dir=tmp_path)) is None
    assert len(calls) == 2


class _LateRun:
    def __init__(self) -> None:
        self.finished: list[int] = []

    def finish(self, exit_code: int = 0) -> None:
        self.finished.append(exit_code)


def test_a_hanging_init_is_given_up_on(
    results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    late = _LateRun()
    calls: list[dict[str, Any]] = []

    def hanging_init(**kwargs: Any) -> _LateRun:
        calls.append(kwargs)
        release.wait(60)
        return late

    monkeypatch.setattr(wandb, "init", hanging_init)
    cfg = ws.WandbConfig(dir=tmp_path, init_timeout=0.2)
    entries = _entries(results["equilibrium"], 5)
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [ws.log_entry(r, cfg) for r in entries] == [None] * 5
        assert ws.log_table(entries, cfg) is None
    elapsed = time.monotonic() - t0
    assert len(calls) == 1 and elapsed < 5, elapsed
    (warning,) = _runtime_warnings(caught)
    assert "did not return within 0.4 s" in warning
    release.set()  # W&B answers after all: the abandoned run is finished, as failed, not left open
    deadline = time.monotonic() + 10
    while not late.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert late.finished == [1]


def test_the_offline_queue_lives_beside_the_store(
    results: dict[str, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WANDB_DIR")
    store = tmp_path / "boards" / "lb.sqlite"
    entry = tmp_path / "entry.json"
    entry.write_text(results["equilibrium"].model_dump_json())
    assert main(["submit", str(entry), "--store", str(store), "--wandb"]) == 0
    (queued,) = ws.queued_runs(ws.WandbConfig(store=store))
    assert queued.parent == store.parent / "wandb"
    capsys.readouterr()
    assert main(["leaderboard", "sync", "--store", str(store)]) == 2  # no credentials: it says where the queue is
    assert f"1 offline run(s) stay queued in {store.parent / 'wandb'}" in capsys.readouterr().err
    monkeypatch.setenv("ECONBENCH_STORE", str(tmp_path / "default" / "lb.sqlite"))
    assert ws.WandbConfig().wandb_folder() == tmp_path / "default" / "wandb"


def test_sync_gives_up_after_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WANDB_DIR")
    store = tmp_path / "lb.sqlite"
    run = tmp_path / "wandb" / "offline-run-20000101_000000-abc"
    run.mkdir(parents=True)
    (run / "run-abc.wandb").write_bytes(b"")
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setattr(ws, "wandb_command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    t0 = time.monotonic()
    code = main(["leaderboard", "sync", "--store", str(store), "--timeout", "0.5"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "did not finish within 0.5 s" in err and "1 run(s) stay queued" in err
    assert time.monotonic() - t0 < 10
    assert ws.queued_runs(ws.WandbConfig(store=store)) == [run] and not store.exists()  # sync leaves the store be


def test_pull_never_mints_verified(results: dict[str, Result], tmp_path: Path) -> None:
    eq = results["equilibrium"]
    claimed = eq.model_copy(update={"verified": True})
    near = eq.model_copy(update={"method": eq.method.upper()})
    api = FakeApi(
        [
            FakeRun("a", {"econbench_result": claimed.model_dump_json()}),
            FakeRun("b", {"econbench_result": near.model_dump_json()}),
        ]
    )
    store = Store(tmp_path / "s.sqlite")
    with pytest.warns(RuntimeWarning, match=r"skipped 1 run.*b: .*only in case or spacing"):
        assert ws.pull(ws.WandbConfig(), store, api=api) == 1
    assert store.results() == [eq] and not store.get(eq.key()).verified

    seen: list[bool] = []

    def verify(r: Result) -> Result:
        seen.append(r.verified)
        return r.model_copy(update={"verified": True})

    fresh = Store(tmp_path / "t.sqlite")
    assert ws.pull(ws.WandbConfig(), fresh, api=FakeApi(api._runs[:1]), verify=verify) == 1
    assert seen == [False] and fresh.get(eq.key()).verified


def test_bench_queues_beside_its_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from econbench.bench import run_bench

    monkeypatch.delenv("WANDB_DIR")
    folders: list[Path] = []
    monkeypatch.setattr(ws, "log_entry", lambda r, cfg: folders.append(cfg.wandb_folder()))
    monkeypatch.setattr(ws, "log_table", lambda rs, cfg: folders.append(cfg.wandb_folder()))
    store = tmp_path / "bench" / "s.sqlite"
    run_bench(["InvestmentStochastic-v0"], store=store, wandb=ws.WandbConfig(), progress=False, log=lambda m: None)
    assert folders and set(folders) == {store.parent / "wandb"}
