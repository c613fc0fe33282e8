"""The SB3 PPO baseline: a tiny end-to-end run of the script, and the shipped checkpoints.

The tiny run checks the contract between ``baselines/sb3_ppo.py`` and
econbench's policy folders (folder layout, meta.json, the observation
statistics exported as data) rather than learning; the shipped checkpoints must
beat the card's reference policy and still reproduce the numbers in their
``eval.json`` (which baselines/README.md quotes).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import econbench
from econbench.metrics import optimality_gap
from econbench.metrics.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "baselines" / "sb3_ppo.py"
LQ = "econbench/InvestmentLQ-Planner-v0"
META_KEYS = {
    "task_id",
    "algo",
    "normalize_actions",
    "seed",
    "total_timesteps",
    "timesteps",
    "n_envs",
    "gamma",
    "hyperparameters",
    "train_time_s",
    "econbench_version",
    "command",
}
EVAL_KEYS = {
    "task_id",
    "score",
    "score_ci95",
    "v_star",
    "v_reference",
    "reference",
    "gap",
    "gap_ci95",
    "normalized_regret",
    "normalized_regret_ci95",
    "train_time_s",
    "eval_seeds",
    "episodes_per_seed",
}


def load_script() -> ModuleType:
    """Import the script by path (``baselines`` is not a package)."""
    spec = importlib.util.spec_from_file_location("econbench_baseline_sb3_ppo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


def test_tiny_training_run_writes_a_loadable_checkpoint(tmp_path: Path) -> None:
    script = load_script()
    folder = script.main(
        [
            "--task",
            LQ,
            "--seed",
            "3",
            "--total-timesteps",
            "2048",
            "--n-envs",
            "8",
            "--hp",
            "n_steps=64",
            "--hp",
            "batch_size=256",
            "--hp",
            "n_epochs=2",
            "--out",
            str(tmp_path),
        ]
    )
    assert folder == tmp_path / "InvestmentLQ-Planner-v0" / "ppo_seed3"
    names = {p.name for p in folder.iterdir()}
    assert names >= {"policy.json", "policy.safetensors", "meta.json", "eval.json"}
    assert not any(n.endswith((".pkl", ".zip", ".pt")) for n in names)  # nothing that runs code when loaded

    meta = json.loads((folder / "meta.json").read_text())
    assert META_KEYS <= meta.keys()
    assert (meta["task_id"], meta["algo"], meta["normalize_actions"], meta["seed"]) == (LQ, "ppo", True, 3)
    assert meta["timesteps"] >= 2048 and meta["n_envs"] == 8 and meta["gamma"] == 0.95
    assert meta["hyperparameters"]["n_steps"] == 64 and "gamma" not in meta["hyperparameters"]
    assert meta["econbench_version"] == econbench.__version__

    from econbench import policies

    pf = policies.load(folder)
    norm = pf.spec.groups["planner"].obs_norm
    assert norm is not None and norm.clip == 10.0 and pf.spec.provenance["seed"] == 3
    assert pf.arrays["planner/obs_mean"][0] > 500.0  # statistics of Y (1000-2500), not the fresh defaults

    result = json.loads((folder / "eval.json").read_text())
    assert EVAL_KEYS <= result.keys()
    for key in ("score", "gap", "normalized_regret"):
        lo, hi = result[f"{key}_ci95"]
        assert math.isfinite(result[key]) and lo <= result[key] <= hi
    again = evaluate(LQ, str(folder))  # the checkpoint as econbench loads it
    assert again.scores.shape == (5, 64)
    assert again.mean == pytest.approx(result["score"], rel=1e-9)


def test_hyperparameters_merge_default_task_and_overrides(tmp_path: Path) -> None:
    from econbench.learn.config import sb3_hyperparams
    from econbench.learn.sb3 import ppo_kwargs

    path = tmp_path / "hp.toml"
    path.write_text(
        "[default]\nn_steps = 8\nlearning_rate = 1e-3\n"
        "policy_kwargs = { log_std_init = -1.0, net_arch = [8] }\n"
        '["InvestmentLQ-Planner-v0"]\nn_steps = 16\npolicy_kwargs = { log_std_init = -2.0 }\n'
    )
    hp = sb3_hyperparams(path, LQ, ["learning_rate=5e-4", "lr_schedule=linear"])
    assert hp == {
        "n_steps": 16,
        "learning_rate": 5e-4,
        "lr_schedule": "linear",
        "policy_kwargs": {"log_std_init": -2.0, "net_arch": [8]},
    }
    kw = ppo_kwargs(hp)
    assert "lr_schedule" not in kw and kw["learning_rate"](0.5) == pytest.approx(2.5e-4)
    path.write_text("[default]\ngamma = 0.99\n")
    with pytest.raises(ValueError, match="discount"):
        sb3_hyperparams(path, LQ)


def shipped_checkpoints() -> list[Path]:
    root = ROOT / "baselines" / "checkpoints"
    return sorted(p.parent for p in root.glob("*/*/meta.json")) if root.is_dir() else []


@pytest.mark.skipif(not shipped_checkpoints(), reason="no shipped checkpoints in baselines/checkpoints")
@pytest.mark.parametrize("folder", shipped_checkpoints(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_checkpoint_beats_the_reference_and_matches_its_eval_json(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    gap = optimality_gap(meta["task_id"], str(folder))
    assert gap.normalized_ci[1] < 1.0, f"{folder}: normalized regret {gap.normalized} {gap.normalized_ci}"
    assert gap.v_policy > gap.v_reference
    # The numbers baselines/README.md quotes come from eval.json; a changed task or protocol makes them stale.
    recorded = json.loads((folder / "eval.json").read_text())
    np.testing.assert_allclose(
        [gap.v_policy, gap.normalized], [recorded["score"], recorded["normalized_regret"]], rtol=1e-6, atol=1e-9
    )
