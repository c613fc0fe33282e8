"""The econbench command: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from econbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "econbench/InvestmentLQ-v0" in out and "10 firms" in out and "single-agent" in out


def test_solve_prints_the_ree_law(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "solve", "--task", "econbench/InvestmentLQ-Planner-v0")
    assert code == 0 and "95.08187459" in out and "0.9524590627" in out


def test_solve_with_parameter_override(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "solve", "--task", "InvestmentOligopoly-v0", "--param", "n_firms=10")
    assert (
        code == 0 and "4.824556" in out
    )  # MPE steady-state output with 10 firms (docs/models/investment_oligopoly.md §4)


def test_evaluate_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "evaluate",
        "--task",
        "InvestmentLQ-Planner-v0",
        "--policy",
        "reference",
        "--seeds",
        "1",
        "2",
        "--episodes",
        "4",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["seeds"] == [1, 2] and data["episodes_per_seed"] == 4
    assert data["normalized_regret"] == pytest.approx(1.0)
    assert data["ci95"][0] <= data["score"] <= data["ci95"][1]


def test_gap_multi_agent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "gap",
        "--task",
        "InvestmentOligopoly-v0",
        "--policy",
        "competitive",
        "--seeds",
        "0",
        "--episodes",
        "4",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["kind"] == "equilibrium"
    assert data["groups"][0]["method"].startswith("exact") and data["groups"][0]["epsilon"] > 1.0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "--task", "econbench/Nope-v0"], "unknown task 'Nope-v0'"),
        (["evaluate", "--task", "InvestmentLQ-v0", "--policy", "no_such_policy"], "neither a named policy"),
        (["evaluate", "--task", "InvestmentLQ-v0", "--param", "n_firms"], "--param expects KEY=VALUE"),
        (["evaluate", "--task", "InvestmentLQ-v0", "--param", "nfirms=3"], "unknown parameter"),
    ],
)
def test_bad_arguments_give_one_line_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bench_on_one_task_is_resumable(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv = [
        "bench",
        "--quick",
        "--task",
        "econbench/InvestmentOligopoly-v0",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--no-page",
        "--no-wandb",
    ]
    code, out, err = run(capsys, *argv)
    assert code == 0 and "3 entries measured, 0 already stored" in err
    rows = [
        [c.strip() for c in line.split("|")[1:-1]]
        for line in out.splitlines()
        if line.startswith("| InvestmentOligopoly-v0")
    ]
    assert sorted(r[2] for r in rows) == ["competitive", "exact", "freeze"]
    exact = next(r for r in rows if r[2] == "exact")
    assert exact[-1] == "yes" and exact[-2] == "exact" and abs(float(exact[-3].split()[-1])) < 1e-9
    code, out, err = run(capsys, *argv)
    assert code == 0 and "0 entries measured, 3 already stored" in err
    assert f"output folder (runs): {tmp_path / 'leaderboard'}" in out  # beside the store, never the checkout


def test_publish_writes_entries_figures_and_page(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from econbench.leaderboard.store import Store

    store = tmp_path / "s.sqlite"
    code, _, _ = run(
        capsys,
        "bench",
        "--quick",
        "--task",
        "econbench/InvestmentLQ-v0",
        "--store",
        str(store),
        "--no-page",
        "--no-wandb",
    )
    (tmp_path / "leaderboard" / "figures").mkdir(parents=True)  # what `bench` leaves in its output folder
    (tmp_path / "leaderboard" / "figures" / "InvestmentLQ-v0-rollout.png").write_bytes(b"\x89PNG fake")
    published = tmp_path / "repo" / "leaderboard"
    (published / "entries").mkdir(parents=True)
    (published / "entries" / "0123456789abcdef0123.json").write_text("{}")  # an entry of an older definition
    code, out, err = run(capsys, "publish", "--store", str(store), "--to", str(published))
    keys = sorted(r.key() + ".json" for r in Store(store).results())
    assert code == 0 and len(keys) == 2, err
    assert sorted(p.name for p in (published / "entries").iterdir()) == sorted([*keys, "0123456789abcdef0123.json"])
    assert "1 published entries the store does not hold: kept" in out
    assert (published / "figures" / "InvestmentLQ-v0-rollout.png").read_bytes() == b"\x89PNG fake"
    page = (published / "index.html").read_text()
    assert 'data-task="econbench/InvestmentLQ-v0"' in page and "figures/InvestmentLQ-v0-rollout.png" in page
    assert (published / "LEADERBOARD.md").is_file()
    code, out, _ = run(capsys, "publish", "--store", str(store), "--to", str(published), "--prune")
    assert code == 0 and sorted(p.name for p in (published / "entries").iterdir()) == keys and "removed" in out


def test_publish_refuses_bad_input_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "leaderboard"
    target.write_text("keep me")
    for argv, message in (
        (["publish", "--store", str(tmp_path / "missing" / "s.sqlite"), "--to", str(tmp_path / "out")], "s.sqlite"),
        (["publish", "--store", str(tmp_path / "s.sqlite"), "--to", str(target)], "is a file"),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert target.read_text() == "keep me"


def test_console_script_and_argparse_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "econbench.cli", "gap"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--task" in proc.stderr


def test_evaluate_plot_writes_a_png(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "traj.png"
    code, out, _ = run(
        capsys,
        "evaluate",
        "--task",
        "InvestmentLQ-Planner-v0",
        "--policy",
        "freeze",
        "--seeds",
        "0",
        "--episodes",
        "2",
        "--plot",
        str(target),
    )
    assert code == 0 and f"plot: {target}" in out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000


def test_list_json_gives_every_id_with_its_identity(capsys: pytest.CaptureFixture[str]) -> None:
    from econbench.leaderboard.schema import task_fingerprint, task_version
    from econbench.registry import task_ids

    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == task_ids()
    by_id = {r["id"]: r for r in rows}
    for task_id, row in by_id.items():
        assert row["fingerprint"] == task_fingerprint(task_id) and row["version"] == task_version(task_id)
    lq = by_id["econbench/InvestmentLQ-v0"]
    assert lq["groups"]["firms"]["n_agents"] == 10 and lq["groups"]["firms"]["action"]["kind"] == "box"
    assert lq["discount"] == pytest.approx(0.95) and lq["single_agent"] is False and lq["role"] is None
    assert by_id["econbench/InvestmentLQ-Planner-v0"]["single_agent"] is True
    assert by_id["econbench/RICECooperation-v0"]["groups"]["regions"]["action"]["kind"] == "discrete"


def test_a_page_folder_that_is_a_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "page.html"
    target.write_text("keep me")
    store = str(tmp_path / "s.sqlite")
    for argv in (
        ["leaderboard", "render", "--out", str(target), "--store", store],
        ["bench", "--quick", "--task", "econbench/InvestmentLQ-v0", "--out", str(target), "--store", store],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "is a file" in err and err.count("\n") == 1
    assert target.read_text() == "keep me"


def test_bench_wandb_flags_are_unambiguous() -> None:
    """``--wandb`` was an ambiguous prefix of --wandb-project and --wandb-entity; both spellings now parse."""
    from econbench.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["bench", "--wandb"]).wandb is True
    assert parse(["bench", "--no-wandb"]).wandb is False
    assert parse(["bench"]).wandb is True
    assert parse(["bench", "--wandb", "--wandb-project", "p"]).wandb_project == "p"
