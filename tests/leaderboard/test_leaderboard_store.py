"""Result schema, submission refusals and a store that loses nothing (killed writers, concurrency)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from econbench.cli import main
from econbench.leaderboard.results import measure
from econbench.leaderboard.schema import MAX_FILE_BYTES, Result, parse_result
from econbench.leaderboard.store import CorruptStoreError, NearDuplicateError, Store, StoreError
from econbench.leaderboard.submit import SubmissionError, submit

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "baselines" / "checkpoints" / "InvestmentLQ-Planner-v0" / "ppo_seed0"


@pytest.fixture(scope="module")
def base() -> dict:
    """A genuine entry: the 'freeze' reference policy of the oligopoly, measured under its card's protocol."""
    return json.loads(
        measure("InvestmentOligopoly-v0", "freeze", method="freeze", authors=["econbench"]).model_dump_json()
    )


@pytest.fixture(scope="module")
def ppo() -> dict:
    pytest.importorskip("stable_baselines3")
    return json.loads(
        measure(
            "InvestmentLQ-Planner-v0", str(CHECKPOINT), method="my PPO", authors=["a"], policy_label="ppo_seed0"
        ).model_dump_json()
    )


def _write(tmp_path: Path, data: dict | str, name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("method"), "method: Field required"),
        (lambda d: d.update(score=d["score"] + 1.0), "is not the mean of the per-seed scores"),
        (lambda d: d.update(per_seed_scores=d["per_seed_scores"][:-1]), "per-seed scores for 5 seeds"),
        (lambda d: d.update(unexpected=1), "unexpected: Extra inputs are not permitted"),
        (lambda d: d["task"].update(id="econbench/../../etc-v0"), "task.id: String should match pattern"),
        (lambda d: d.update(date="2026-11-21T12:00:00"), "date needs a time zone"),
        (lambda d: d.update(authors=[]), "authors: List should have at least 1 item"),
        (lambda d: d.update(code_url="javascript:alert(1)"), "code_url: String should match pattern"),
        (lambda d: d["gaps"][0].update(method="vibes"), "gaps.0.method"),
    ],
)
def test_malformed_results_are_refused(base: dict, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(base))
    mutate(data)
    with pytest.raises(ValueError, match=message):
        parse_result(data)


def test_nan_and_non_json_are_refused(base: dict) -> None:
    text = json.dumps(base).replace(str(base["per_seed_scores"][0]), "NaN", 1)
    with pytest.raises(ValueError, match="finite"):
        parse_result(text)
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_result("{not json")
    with pytest.raises(ValueError, match="one JSON object"):
        parse_result("[1, 2]")


def test_submit_refusals_write_nothing(tmp_path: Path, base: dict) -> None:
    store = Store(tmp_path / "s.sqlite")
    cases = {
        "unknown": (
            {**base, "task": {**base["task"], "id": "econbench/Nope-v0", "version": 0}},
            "unknown task 'Nope-v0'",
        ),
        "outdated": ({**base, "task": {**base["task"], "fingerprint": "0" * 16}}, "outdated task definition"),
        "protocol": ({**base, "seeds": [1, 2, 3, 4, 5]}, "not the task's protocol"),
        "verified": ({**base, "verified": True}, "'verified' is set by"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(SubmissionError, match=message):
            submit(_write(tmp_path, data, f"{name}.json"), store)
    big = _write(tmp_path, json.dumps(base) + " " * MAX_FILE_BYTES, "big.json")
    with pytest.raises(SubmissionError, match="over the 1,000,000-byte limit"):
        submit(big, store)
    with pytest.raises(SubmissionError, match="malformed result"):
        submit(_write(tmp_path, {"task": 1}, "bad.json"), store)
    assert store.count() == 0 and store.integrity_ok()


def test_submit_stores_unverified_and_refuses_duplicates(tmp_path: Path, base: dict) -> None:
    store = Store(tmp_path / "s.sqlite")
    result = submit(_write(tmp_path, base), store)
    assert not result.verified and store.count() == 1
    assert store.get(result.key()).score == base["score"]
    with pytest.raises(SubmissionError, match="stored already"):
        submit(_write(tmp_path, base), store)


def test_forged_scores_are_refused_and_genuine_ones_verified(tmp_path: Path, ppo: dict) -> None:
    store = Store(tmp_path / "s.sqlite")
    forged = json.loads(json.dumps(ppo))
    forged["per_seed_scores"] = [x * 1.001 for x in forged["per_seed_scores"]]
    forged["score"] = sum(forged["per_seed_scores"]) / len(forged["per_seed_scores"])
    with pytest.raises(SubmissionError, match="re-evaluation contradicts the claimed numbers: seed 1000"):
        submit(_write(tmp_path, forged, "forged.json"), store, policy=str(CHECKPOINT))
    better_gap = json.loads(json.dumps(ppo))
    better_gap["gaps"][0]["normalized"] = 0.0
    with pytest.raises(SubmissionError, match="optimality gap normalized"):
        submit(_write(tmp_path, better_gap, "gap.json"), store, policy=str(CHECKPOINT))
    assert store.count() == 0
    result = submit(_write(tmp_path, ppo), store, policy=str(CHECKPOINT))
    assert result.verified and store.get(result.key()).verified


_KILLED_WRITER = """
import sys, time, json
from pathlib import Path
from econbench.leaderboard.schema import parse_result
from econbench.leaderboard.store import Store
store, data = Store(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
data["method"] = "killed mid-write"
r = parse_result(data)
with store.transaction() as con:
    con.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (r.key(), r.task.id, r.method, r.policy, r.score, 0, r.date.isoformat(), r.model_dump_json()))
    Path(sys.argv[3]).write_text("inside")
    time.sleep(60)
"""


def test_a_writer_killed_mid_transaction_leaves_the_store_intact(tmp_path: Path, base: dict) -> None:
    store = Store(tmp_path / "s.sqlite")
    kept = submit(_write(tmp_path, base), store)
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(store.path), str(tmp_path / "result.json"), str(marker)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.time() + 60
    while not marker.exists():
        assert proc.poll() is None and time.time() < deadline, "the writer did not reach its transaction"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fresh = Store(store.path)
    assert fresh.integrity_ok()
    assert [r.method for r in fresh.results()] == [kept.method]
    again = {**base, "method": "after the kill"}
    submit(_write(tmp_path, again, "again.json"), fresh)  # the lock died with the writer
    assert fresh.count() == 2


_SUBMITTER = """
import json, sys
from pathlib import Path
from econbench.leaderboard.store import Store
from econbench.leaderboard.submit import submit
base = json.loads(Path(sys.argv[2]).read_text())
path = Path(sys.argv[3]) / f"r{sys.argv[4]}.json"
path.write_text(json.dumps({**base, "method": f"submitter {sys.argv[4]}"}))
submit(path, Store(sys.argv[1]))
"""


def test_sixteen_concurrent_submitters_lose_nothing(tmp_path: Path, base: dict) -> None:
    store = Store(tmp_path / "s.sqlite")
    src = _write(tmp_path, base)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SUBMITTER, str(store.path), str(src), str(tmp_path), str(i)], cwd=ROOT, env=env
        )
        for i in range(16)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * 16
    assert sorted(r.method for r in store.results()) == sorted(f"submitter {i}" for i in range(16))
    assert store.integrity_ok()


def test_export_and_rebuild_round_trip(tmp_path: Path, base: dict) -> None:
    store = Store(tmp_path / "a.sqlite")
    key = submit(_write(tmp_path, base), store).key()
    path = store.export(tmp_path / "entries", key)
    rebuilt = Store(tmp_path / "b.sqlite")
    assert rebuilt.rebuild(tmp_path / "entries") == 1
    assert rebuilt.get(key) == store.get(key) and path.name == f"{key}.json"


def test_cli_submit_and_show_escape_submitted_strings(
    tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "s.sqlite")
    escape = _write(tmp_path, {**base, "method": "<script>alert(1)</script>\x1b[31mred"}, "escape.json")
    assert main(["submit", str(escape), "--store", store]) == 2  # a terminal escape is refused outright
    assert "control character U+001B" in capsys.readouterr().err and Store(store).count() == 0
    path = _write(tmp_path, {**base, "method": "<script>alert(1)</script>\u2028red"})
    assert main(["submit", str(path), "--store", store]) == 0
    assert main(["leaderboard", "show", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "\u2028" not in out and "<script>alert(1)</script>?red" in out  # a line separator cannot break the table
    assert main(["submit", str(path), "--store", store]) == 2
    assert "refused, nothing stored" in capsys.readouterr().err


# ----------------------------------------------------------------------------- what users send (issue 16, part 4)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, message: str) -> None:
    assert code == 2, err
    assert err.startswith("econbench: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err


def _entry(base: dict, **changes: object) -> dict:
    return {**json.loads(json.dumps(base)), **changes}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(score_iqm=float("inf")),
        lambda d: d.update(score_ci95=[float("nan"), 1.0]),
        lambda d: d["per_seed_scores"].__setitem__(0, float("-inf")),
        lambda d: d["gaps"][0].update(value=float("nan")),
        lambda d: d["gaps"][0].update(relative=float("inf")),
        lambda d: d["gaps"][0].update(normalized=float("nan")),
        lambda d: d["gaps"][0].update(ci95=[0.0, float("inf")]),
    ],
    ids=["iqm", "score_ci95", "per_seed", "gap value", "gap relative", "gap normalized", "gap ci95"],
)
def test_every_number_must_be_finite(base: dict, mutate) -> None:  # type: ignore[no-untyped-def]
    data = _entry(base)
    mutate(data)
    with pytest.raises(ValueError, match="finite"):
        parse_result(data)
    text = json.dumps(data)  # NaN / Infinity tokens, as a hand-edited file would carry them
    with pytest.raises(ValueError, match="finite"):
        parse_result(text)


def test_extreme_but_finite_numbers_are_accepted(base: dict) -> None:
    n = len(base["seeds"])
    r = parse_result(
        _entry(base, per_seed_scores=[1e308] * n, score=1e308, score_ci95=[-1e308, 1e308], score_iqm=-1e308)
    )
    assert r.score == 1e308  # the mean is taken without overflowing


def test_dates_must_carry_a_zone_and_be_plausible(base: dict) -> None:
    soon = (datetime.now(timezone.utc) + timedelta(hours=12)).isoformat()
    assert parse_result(_entry(base, date=soon)).date.tzinfo is not None
    assert parse_result(_entry(base, date="2000-01-01T00:00:00+00:00")).date.year == 2000
    for date in ("1999-12-31T23:59:59+00:00", (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()):
        with pytest.raises(ValueError, match="not between 2000-01-01 and tomorrow"):
            parse_result(_entry(base, date=date))
    with pytest.raises(ValueError, match="date needs a time zone"):
        parse_result(_entry(base, date="2026-01-01T00:00:00"))


def test_names_are_nfkc_normalised(base: dict) -> None:
    r = parse_result(_entry(base, method="\uff30\uff30\uff2f \ufb01ne", authors=["A\u00b2"], notes="one\ntwo"))
    assert (r.method, r.authors, r.notes) == ("PPO fine", ["A2"], "one\ntwo")
    assert r.key() == parse_result(_entry(base, method="PPO fine")).key()  # one entry, however it was typed


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("method", "PPO\u202egnp.exe", "U+202E"),  # right-to-left override
        ("method", "PP\u200bO", "U+200B"),  # zero-width space
        ("method", "PPO\u2066x\u2069", "U+2066"),  # isolate
        ("policy", "a\tb", "U+0009"),  # C0 control in a single-line field
        ("hardware", "cpu\x85", "U+0085"),  # C1 control
        ("method", "two\nlines", "U+000A"),  # a newline only in notes
        ("notes", "bell\x07", "U+0007"),
        ("notes", "\ufeffhidden", "U+FEFF"),
        ("authors", ["ok", "\u200dzwj"], "U+200D"),
        ("code_url", "https://example.org/\x01", "U+0001"),
        ("econbench_version", "0.1\u061c", "U+061C"),
        ("method", "   ", "must not be blank"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isidentifier() else None,
)
def test_invisible_and_control_characters_are_refused(base: dict, field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=rf"{field}[.\d]*: .*{re.escape(message)}"):
        parse_result(_entry(base, **{field: value}))


def test_gap_group_and_description_are_checked_too(base: dict) -> None:
    for field, value, code in (("group", "firms\u202e", "U\\+202E"), ("description", "ok\nbut\x1b[2J", "U\\+001B")):
        data = _entry(base)
        data["gaps"][0][field] = value
        with pytest.raises(ValueError, match=f"gaps.0.{field}: .*{code}"):
            parse_result(data)


def test_deep_json_is_refused_in_one_line(base: dict) -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000):
        with pytest.raises(ValueError, match="nested deeper than 32 levels") as info:
            parse_result(text)
        assert "\n" not in str(info.value)
    # brackets inside strings are text, not nesting
    r = parse_result(json.dumps(_entry(base, notes="[" * 500 + '"{\\' * 10)))
    assert r.notes.startswith("[[[")


def test_near_duplicate_methods_are_refused(tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.add(parse_result(_entry(base, method="SB3 PPO")))
    for method in ("sb3 ppo", "SB3  PPO", " SB3 PPO", "\uff33\uff22\uff13 PPO "):
        with pytest.raises(NearDuplicateError, match="differs from the stored 'SB3 PPO'.*only in case or spacing"):
            store.add(parse_result(_entry(base, method=method)))
    store.add(parse_result(_entry(base, method="SB3 PPO", policy="another checkpoint")))  # the same method: fine
    store.add(parse_result(_entry(base, method="SB3 PPO2")))
    other_task = _entry(base, method="sb3 ppo")
    other_task["task"] = {**other_task["task"], "id": "econbench/InvestmentLQ-v0"}
    store.add(parse_result(other_task))  # another task's board
    assert store.count() == 4
    near = _write(tmp_path, _entry(base, method="sb3  PPO"))
    code, _, err = _cli(capsys, "submit", str(near), "--store", str(store.path))
    _one_line_error(code, err, "refused, nothing stored: method 'sb3  PPO' differs from the stored 'SB3 PPO'")
    assert store.count() == 4


# ----------------------------------------------------------------------------- the store under failure


def _filled(path: Path, base: dict, n: int = 3) -> Store:
    store = Store(path)
    for i in range(n):
        store.add(parse_result(_entry(base, method=f"method {i}", notes="x" * 1500)))
    return store


def _methods(path: Path) -> list[str]:
    return sorted(r.method for r in Store(path, readonly=True).results())


def test_a_corrupt_store_is_refused_and_never_written(
    tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base, 12)
    assert not Path(f"{path}-wal").exists()  # checkpointed: every page is in the main file
    data = bytearray(path.read_bytes())
    data[4 * 4096 + 8 : 5 * 4096] = b"\xa5" * (4096 - 8)  # damage one b-tree page of the entries
    path.write_bytes(data)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database\n" * 500)
    new = _write(tmp_path, _entry(base, method="new"))
    for store, what in ((path, "quick_check: On tree page"), (garbage, "file is not a database")):
        before = store.read_bytes()
        with pytest.raises(CorruptStoreError, match=what):
            Store(store)
        with pytest.raises(CorruptStoreError):
            Store(store, readonly=True)
        for argv in (
            ["submit", str(new)],
            ["leaderboard", "show"],
            ["leaderboard", "rebuild", "--dir", str(tmp_path)],
            ["leaderboard", "remove", "--key", "0" * 20],
            ["leaderboard", "render", "--out", str(tmp_path / "o")],
        ):
            code, _, err = _cli(capsys, *argv, "--store", str(store))
            _one_line_error(code, err, f"the store {store} is corrupt")
        assert store.read_bytes() == before


def test_a_full_disk_loses_nothing(
    tmp_path: Path, base: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base)
    kept = _methods(path)
    connect = Store._connect

    def full(self: Store) -> sqlite3.Connection:  # the file may not grow by one page: SQLITE_FULL
        con = connect(self)
        con.execute(f"PRAGMA max_page_count={con.execute('PRAGMA page_count').fetchone()[0]}")
        return con

    monkeypatch.setattr(Store, "_connect", full)
    big = _write(tmp_path, _entry(base, method="too big", notes="y" * 2000))
    code, _, err = _cli(capsys, "submit", str(big), "--store", str(path))
    _one_line_error(code, err, "is full; nothing was written and the stored entries are intact")
    entries = tmp_path / "entries"
    entries.mkdir()
    for i in range(3):
        _write(entries, _entry(base, method=f"rebuilt {i}", notes="z" * 2000), f"{i}.json")
    code, _, err = _cli(capsys, "leaderboard", "rebuild", "--dir", str(entries), "--store", str(path))
    _one_line_error(code, err, "is full")
    monkeypatch.setattr(Store, "_connect", connect)
    assert _methods(path) == kept and Store(path).integrity_ok()  # neither the entry nor part of the rebuild


def test_a_lock_held_too_long_is_one_line(tmp_path: Path, base: dict) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base, 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        with pytest.raises(StoreError, match="stayed locked by another writer for 0.2 s; nothing was written"):
            Store(path, timeout=0.2).add(parse_result(_entry(base, method="waiting")))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _methods(path) == ["method 0"]


def test_wrong_paths_are_one_line_errors(tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base, 1)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    result = str(_write(tmp_path, _entry(base, method="new")))
    cases = [
        (["submit", result, "--store", str(tmp_path)], "is a folder; give the path of a file"),
        (["leaderboard", "show", "--store", str(tmp_path)], "is a folder"),
        (["submit", result, "--store", str(a_file / "s.sqlite")], "cannot create the folder of the store"),
        (
            ["leaderboard", "rebuild", "--store", str(path), "--dir", str(tmp_path / "missing")],
            "missing: no such folder",
        ),
        (["leaderboard", "rebuild", "--store", str(path), "--dir", str(a_file)], "a_file is not a folder"),
        (
            [
                "leaderboard",
                "export",
                "--store",
                str(path),
                "--key",
                Store(path).results()[0].key(),
                "--dir",
                str(a_file),
            ],
            "cannot write",
        ),
        (["leaderboard", "render", "--store", str(path), "--out", str(a_file)], "a_file"),
        (["leaderboard", "remove", "--store", str(path)], "remove needs a KEY"),
    ]
    for argv, message in cases:
        code, _, err = _cli(capsys, *argv)
        _one_line_error(code, err, message)
    assert _methods(path) == ["method 0"]


def test_reading_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "s.sqlite"
    code, out, _ = _cli(capsys, "leaderboard", "show", "--store", str(path))
    assert code == 0 and "no entries" in out
    assert not path.parent.exists()


_UNPRIVILEGED = "import sys; from econbench.cli import main; sys.exit(main(sys.argv[1:]))"


def _cli_without_override(*argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process that file permissions bind: root keeps them only without CAP_DAC_OVERRIDE."""
    cmd = [sys.executable, "-c", _UNPRIVILEGED, *argv]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file permissions would not apply")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *cmd]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )


def test_a_read_only_store_is_shown_and_refuses_writes(tmp_path: Path, base: dict) -> None:
    folder = tmp_path / "ro"
    path = folder / "s.sqlite"
    _filled(path, base, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]  # no -wal or -shm: show must do without
    new = _write(tmp_path, _entry(base, method="new"))
    key = _filled(tmp_path / "copy.sqlite", base, 2).results()[0].key()
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        shown = _cli_without_override("leaderboard", "show", "--store", str(path))
        assert shown.returncode == 0 and "method 0" in shown.stdout and "method 1" in shown.stdout, shown.stderr
        site = tmp_path / "site"
        rendered = _cli_without_override("leaderboard", "render", "--store", str(path), "--out", str(site))
        assert rendered.returncode == 0 and "method 1" in (site / "LEADERBOARD.md").read_text()
        for argv in (["submit", str(new)], ["leaderboard", "remove", "--key", key]):
            proc = _cli_without_override(*argv, "--store", str(path))
            _one_line_error(proc.returncode, proc.stderr, f"the store {path}")
        assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert _methods(path) == ["method 0", "method 1"]


def test_a_read_only_file_in_a_writable_folder(tmp_path: Path, base: dict) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base, 1)
    path.chmod(0o444)
    try:
        proc = _cli_without_override("submit", str(_write(tmp_path, _entry(base, method="new"))), "--store", str(path))
        _one_line_error(proc.returncode, proc.stderr, "is read-only")
        shown = _cli_without_override("leaderboard", "show", "--store", str(path))
        assert shown.returncode == 0 and "method 0" in shown.stdout
    finally:
        path.chmod(0o644)
    assert _methods(path) == ["method 0"]


# ----------------------------------------------------------------------------- remove, rebuild: no minted checkmarks


def test_remove_takes_one_entry_out(tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.sqlite"
    store = _filled(path, base, 3)
    key = next(r.key() for r in store.results() if r.method == "method 1")
    code, out, _ = _cli(capsys, "leaderboard", "remove", key, "--store", str(path))  # as the issue spells it
    assert code == 0 and key in out
    assert _methods(path) == ["method 0", "method 2"]
    code, _, err = _cli(capsys, "leaderboard", "remove", "--key", key, "--store", str(path))
    _one_line_error(code, err, f"no entry '{key}'")
    with pytest.raises(KeyError):
        store.remove(key)


def test_an_entry_that_no_longer_validates_names_itself_and_can_be_removed(
    tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    _filled(path, base, 1)
    bad = _entry(base, method="bad", date="1990-01-01T00:00:00+00:00")  # stored by an older, laxer econbench
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO entries VALUES ('badkey', ?, 'bad', 'p', 0, 0, '', ?)", (base["task"]["id"], json.dumps(bad))
        )
    con.close()
    code, _, err = _cli(capsys, "leaderboard", "show", "--store", str(path))
    _one_line_error(code, err, "the stored entry badkey no longer validates")
    assert "econbench leaderboard remove --key badkey" in err
    assert _cli(capsys, "leaderboard", "remove", "--key", "badkey", "--store", str(path))[0] == 0
    assert _cli(capsys, "leaderboard", "show", "--store", str(path))[0] == 0


def test_rebuild_never_mints_verified(tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "entries"
    folder.mkdir()
    claims = [parse_result(_entry(base, method=f"claim {i}", verified=True)) for i in range(2)]
    for r in claims:
        (folder / f"{r.key()}.json").write_text(r.model_dump_json())
    store = Store(tmp_path / "s.sqlite")
    code, out, _ = _cli(
        capsys, "leaderboard", "rebuild", "--dir", str(folder), "--store", str(store.path), "--no-verify"
    )
    assert code == 0 and "2 entries" in out and "unverified" in out
    assert [r.verified for r in store.results()] == [False, False]
    # by default the CLI re-measures the reference entries (their policies are econbench's): a genuine one is
    # verified, a tampered one is not; the claims of others, whose policies are not at hand, stay unverified
    from econbench.bench import AUTHORS, reference_names

    method = next(m for m, p in reference_names(base["task"]["id"]) if p == "freeze")
    genuine = measure(base["task"]["id"], "freeze", method, AUTHORS, policy_label="freeze")
    tampered = genuine.model_copy(
        update={
            "per_seed_scores": [s * 1.01 for s in genuine.per_seed_scores],
            "score": genuine.score * 1.01,
            "backend": "torch",
        }
    )
    both = tmp_path / "with_reference"
    shutil.copytree(folder, both)
    for r in (genuine, tampered):
        (both / f"{r.key()}.json").write_text(r.model_dump_json())
    measured = Store(tmp_path / "m.sqlite")
    code, out, _ = _cli(capsys, "leaderboard", "rebuild", "--dir", str(both), "--store", str(measured.path))
    assert code == 0 and "1 re-measured and verified, 3 stored unverified" in out
    assert sorted((r.method, r.backend, r.verified) for r in measured.results()) == [
        ("claim 0", "numpy", False),
        ("claim 1", "numpy", False),
        (method, "numpy", True),
        (method, "torch", False),
    ]

    seen: list[bool] = []

    def verify(r: Result) -> Result:  # re-measures claim 0 only (say, the only named policy)
        seen.append(r.verified)
        return r.model_copy(update={"verified": r.method == "claim 0"})

    fresh = Store(tmp_path / "t.sqlite")
    assert fresh.rebuild(folder, verify=verify) == 2
    assert seen == [False, False]  # the verifier never sees the file's own claim
    assert {r.method: r.verified for r in fresh.results()} == {"claim 0": True, "claim 1": False}
    assert fresh.rebuild(folder) == 2  # re-reading the files keeps what this store verified itself
    assert {r.method: r.verified for r in fresh.results()} == {"claim 0": True, "claim 1": False}

    def swap(r: Result) -> Result:
        return r.model_copy(update={"method": "swapped", "verified": True})

    with pytest.raises(ValueError, match="the verifier returned another entry"):
        Store(tmp_path / "u.sqlite").rebuild(folder, verify=swap)
    assert Store(tmp_path / "u.sqlite").count() == 0


def test_rebuild_writes_nothing_when_one_file_is_malformed(
    tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "entries"
    folder.mkdir()
    for i in range(3):
        _write(folder, _entry(base, method=f"good {i}"), f"good{i}.json")
    _write(folder, _entry(base, method="bad\u202e"), "zz-bad.json")
    path = tmp_path / "s.sqlite"
    code, _, err = _cli(capsys, "leaderboard", "rebuild", "--dir", str(folder), "--store", str(path))
    _one_line_error(code, err, "nothing rebuilt: ")
    assert "zz-bad.json" in err and "U+202E" in err
    assert Store(path).count() == 0
