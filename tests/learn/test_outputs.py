"""Training writes to ``runs/`` by default and never into the shipped checkpoints without ``--ship``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from econbench.learn import SharedPPOConfig
from econbench.learn.config import SB3PPOConfig
from econbench.learn.outputs import is_shipped, run_dir
from tests.conftest import baseline_script

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RUN = ROOT / "baselines" / "checkpoints" / "InvestmentLQ-Planner-v0" / "ppo_seed0"
LQ = "econbench/InvestmentLQ-Planner-v0"
SB3_TINY = ["--task", LQ, "--total-timesteps", "512", "--n-envs", "4", "--hp", "n_steps=128", "--hp", "batch_size=256"]
SB3_TINY += ["--hp", "n_epochs=1", "--no-eval"]
SHARED_TINY = ["--task", "econbench/InvestmentOligopoly-v0", "--total-timesteps", "64", "--n-envs", "4"]
SHARED_TINY += ["--num-steps", "16", "--skip-eval"]


def test_shipped_means_inside_a_baselines_checkpoints_folder(tmp_path: Path) -> None:
    assert is_shipped(SHIPPED_RUN) and is_shipped(tmp_path / "baselines" / "checkpoints")
    assert is_shipped(tmp_path / "baselines" / "runs" / ".." / "checkpoints" / "X")  # as resolved
    assert not is_shipped(tmp_path / "runs" / "baselines") and not is_shipped(tmp_path / "checkpoints")
    assert not is_shipped(ROOT / "baselines" / "runs") and not is_shipped(ROOT / "runs")
    with pytest.raises(SystemExit, match="--ship"):
        run_dir(tmp_path / "baselines" / "checkpoints", "T", "r")
    assert not (tmp_path / "baselines").exists()  # refused before anything was made
    assert run_dir(tmp_path / "baselines" / "checkpoints", "T", "r", ship=True).is_dir()


def test_every_default_is_runs_under_the_current_directory() -> None:
    tyro = pytest.importorskip("tyro")
    pytest.importorskip("stable_baselines3")
    outs = [SB3PPOConfig().out, SharedPPOConfig().out, SharedPPOConfig.for_task("econbench/RBCTax-v0").out]
    outs += [tyro.cli(baseline_script("sb3_ppo").Args, args=[]).out, baseline_script("shared_ppo").parse_args([]).out]
    assert all(Path(o) == Path("runs") for o in outs), outs
    assert not SB3PPOConfig().ship and not SharedPPOConfig().ship


def test_scripts_write_to_runs_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("stable_baselines3")
    monkeypatch.chdir(tmp_path)
    sb3 = baseline_script("sb3_ppo").main(SB3_TINY)
    shared = baseline_script("shared_ppo").main(SHARED_TINY)
    assert sb3.resolve() == tmp_path.resolve() / "runs" / "InvestmentLQ-Planner-v0" / "ppo_seed0"
    assert shared.resolve() == tmp_path.resolve() / "runs" / "InvestmentOligopoly-v0" / "shared_ppo_seed0"
    assert (sb3 / "policy.json").is_file() and (shared / "policy.json").is_file()


@pytest.mark.skipif(not SHIPPED_RUN.is_dir(), reason="no shipped checkpoints in this checkout")
def test_a_shipped_checkpoint_is_replaced_only_with_ship(tmp_path: Path) -> None:
    """On a copy of a shipped run (the shipped folder itself is never written by a test)."""
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "baselines" / "checkpoints"
    shutil.copytree(SHIPPED_RUN, out / SHIPPED_RUN.parent.name / SHIPPED_RUN.name)
    before = {p.name: p.read_bytes() for p in (out / SHIPPED_RUN.parent.name / SHIPPED_RUN.name).iterdir()}
    sb3 = baseline_script("sb3_ppo")
    with pytest.raises(SystemExit, match="--ship"):
        sb3.main([*SB3_TINY, "--seed", "0", "--out", str(out)])
    with pytest.raises(SystemExit, match="--ship"):
        baseline_script("shared_ppo").main([*SHARED_TINY, "--out", str(out)])
    after = {p.name: p.read_bytes() for p in (out / SHIPPED_RUN.parent.name / SHIPPED_RUN.name).iterdir()}
    assert after == before and sorted(p.name for p in out.iterdir()) == [SHIPPED_RUN.parent.name]

    folder = sb3.main([*SB3_TINY, "--seed", "0", "--out", str(out), "--ship"])
    assert folder == out / SHIPPED_RUN.parent.name / SHIPPED_RUN.name
    assert (folder / "policy.safetensors").read_bytes() != before["policy.safetensors"]  # replaced, as asked
