"""The main job writes only into its output folder: a fresh checkout stays as it was until `econbench publish`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TASK = "econbench/InvestmentLQ-Planner-v0"  # exact, reference and the shipped PPO checkpoints: every kind of job


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A fresh repository holding this checkout's files as they are now (tracked and new, not ignored)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a source checkout")
    names = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    clone = tmp_path / "checkout"
    for name in filter(None, names):
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    _git(clone, "init", "-q")
    _git(clone, "add", "-A")
    _git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "snapshot")
    return clone


def _econbench(checkout: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECONBENCH_", "WANDB_"))}
    env.update(
        PYTHONPATH=str(checkout),
        PYTHONDONTWRITEBYTECODE="1",
        XDG_DATA_HOME=str(home / "data"),  # the default store: ~/.local/share/econbench/leaderboard.sqlite
        HOME=str(home),
        MPLCONFIGDIR=str(home / "mpl"),
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        NETRC=str(home / "no-netrc"),
    )
    return subprocess.run(
        [sys.executable, "-m", "econbench.cli", *argv], cwd=checkout, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_bench_leaves_the_checkout_untouched_and_publish_writes_the_leaderboard(checkout: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    bench = _econbench(checkout, home, "bench", "--quick", "--task", TASK)  # default flags, default store
    assert bench.returncode == 0, bench.stderr[-2000:]
    assert _git(checkout, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
    out = home / "data" / "econbench" / "leaderboard"
    assert f"output folder (page, table, figures and runs): {out}" in bench.stdout
    assert (out / "index.html").is_file() and (out / "LEADERBOARD.md").is_file()
    assert (out / "figures" / "InvestmentLQ-Planner-v0-rollout.png").is_file()
    assert (out / "figures" / "InvestmentLQ-Planner-v0-learning.png").is_file()

    published = _econbench(checkout, home, "publish", "--to", "leaderboard")
    assert published.returncode == 0, published.stderr[-2000:]
    changed = [line[3:] for line in _git(checkout, "status", "--porcelain", "--untracked-files=all").splitlines()]
    assert changed and all(path.startswith("leaderboard/") for path in changed), changed
    page = (checkout / "leaderboard" / "index.html").read_text()
    assert f'data-task="{TASK}"' in page and 'id="overview"' in page
    assert "5 entries in leaderboard/entries" in published.stdout
    assert "figures from" in published.stdout
