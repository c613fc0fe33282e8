"""Result schema, submission refusals and a store that loses nothing (killed writers, concurrency)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from econbench.cli import main
from econbench.leaderboard.results import measure
from econbench.leaderboard.schema import MAX_FILE_BYTES, parse_result
from econbench.leaderboard.store import Store
from econbench.leaderboard.submit import SubmissionError, submit

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = ROOT / "baselines" / "checkpoints" / "InvestmentLQ-Planner-v0" / "ppo_seed0"


@pytest.fixture(scope="module")
def base() -> dict:
    """A genuine entry: the 'freeze' reference policy of the oligopoly, measured under its card's protocol."""
    return json.loads(measure("InvestmentOligopoly-v0", "freeze", method="freeze", authors=["econbench"]).model_dump_json())


@pytest.fixture(scope="module")
def ppo() -> dict:
    pytest.importorskip("stable_baselines3")
    return json.loads(measure("InvestmentLQ-Planner-v0", str(CHECKPOINT), method="SB3 PPO", authors=["a"],
                              policy_label="ppo_seed0").model_dump_json())


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
        "unknown": ({**base, "task": {**base["task"], "id": "econbench/Nope-v0", "version": 0}}, "unknown task 'Nope-v0'"),
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
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(store.path), str(tmp_path / "result.json"), str(marker)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
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
    procs = [subprocess.Popen([sys.executable, "-c", _SUBMITTER, str(store.path), str(src), str(tmp_path), str(i)], cwd=ROOT, env=env)
             for i in range(16)]
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


def test_cli_submit_and_show_escape_submitted_strings(tmp_path: Path, base: dict, capsys: pytest.CaptureFixture[str]) -> None:
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


def _entry(base: dict, **changes: object) -> dict:
    return {**json.loads(json.dumps(base)), **changes}


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(score_iqm=float("inf")),
    lambda d: d.update(score_ci95=[float("nan"), 1.0]),
    lambda d: d["per_seed_scores"].__setitem__(0, float("-inf")),
    lambda d: d["gaps"][0].update(value=float("nan")),
    lambda d: d["gaps"][0].update(relative=float("inf")),
    lambda d: d["gaps"][0].update(normalized=float("nan")),
    lambda d: d["gaps"][0].update(ci95=[0.0, float("inf")]),
], ids=["iqm", "score_ci95", "per_seed", "gap value", "gap relative", "gap normalized", "gap ci95"])
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
    r = parse_result(_entry(base, per_seed_scores=[1e308] * n, score=1e308, score_ci95=[-1e308, 1e308],
                            score_iqm=-1e308))
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


@pytest.mark.parametrize("field, value, message", [
    ("method", "PPO\u202egnp.exe", "U+202E"),          # right-to-left override
    ("method", "PP\u200bO", "U+200B"),                  # zero-width space
    ("method", "PPO\u2066x\u2069", "U+2066"),           # isolate
    ("policy", "a\tb", "U+0009"),                       # C0 control in a single-line field
    ("hardware", "cpu\x85", "U+0085"),                  # C1 control
    ("method", "two\nlines", "U+000A"),                 # a newline only in notes
    ("notes", "bell\x07", "U+0007"),
    ("notes", "\ufeffhidden", "U+FEFF"),
    ("authors", ["ok", "\u200dzwj"], "U+200D"),
    ("code_url", "https://example.org/\x01", "U+0001"),
    ("econbench_version", "0.1\u061c", "U+061C"),
    ("method", "   ", "must not be blank"),
], ids=lambda v: v if isinstance(v, str) and v.isidentifier() else None)
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
