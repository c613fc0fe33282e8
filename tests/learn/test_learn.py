"""econbench.learn: the library owns the training its metrics need; the baseline scripts are typed leaves on top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from econbench.learn import HYPERPARAMS, SharedPPOConfig
from econbench.learn.config import sb3_hyperparams
from econbench.learn.track import write_curve
from tests.conftest import baseline_script

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "econbench"


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_no_module_of_the_package_imports_the_baseline_scripts() -> None:
    """An installed wheel ships only econbench/: nothing in it may reach for baselines/ (by import or by path)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        names = _imports(path)
        if any(n == "baselines" or n.startswith("baselines.") or n == "econbench.baseline_scripts" for n in names):
            offenders.append(str(path.relative_to(ROOT)))
        if "spec_from_file_location" in path.read_text():
            offenders.append(f"{path.relative_to(ROOT)} (loads a file by path)")
    assert offenders == []


def test_hyperparameter_files_are_package_data() -> None:
    assert (HYPERPARAMS / "shared_ppo.toml").is_file() and (HYPERPARAMS / "ppo.toml").is_file()
    assert HYPERPARAMS.parent == PACKAGE / "learn"
    rbc = SharedPPOConfig.for_task("econbench/RBCTax-v0")
    assert (rbc.hidden, rbc.activation, rbc.anneal_lr, rbc.lr_scale) == (128, "relu", False, {"government": 1.0})
    closed = SharedPPOConfig.for_task("econbench/RBCTax-Closed-v0")  # like = "RBCTax-v0"
    assert (closed.hidden, closed.num_steps) == (128, 10)
    assert sb3_hyperparams(HYPERPARAMS / "ppo.toml", "econbench/InvestmentLQ-Planner-v0")["lr_schedule"] == "linear"


def test_config_merges_defaults_file_and_given_settings() -> None:
    cfg = SharedPPOConfig.for_task("econbench/RBCTax-v0", hidden=32, lr_scale={"firms": 2.0}, params={"x": 1})
    assert cfg.hidden == 32 and cfg.learning_rate == 1e-3  # given wins; the file's table otherwise
    assert cfg.lr_scale == {"government": 1.0, "firms": 2.0} and cfg.params == {"x": 1}  # keyed settings merge
    assert SharedPPOConfig.for_task("econbench/InvestmentOligopoly-v0").hidden == 64  # [default]
    with pytest.raises(SystemExit, match="unknown setting"):
        SharedPPOConfig.for_task("econbench/RBCTax-v0", no_such_setting=1)


def test_curve_csv_format(tmp_path: Path) -> None:
    path = write_curve(tmp_path / "curve.csv", ["timesteps", "r"], [(2048, 1.0 / 3.0), (4096, -2.5)])
    assert path.read_text() == "timesteps,r\n2048,0.3333333333\n4096,-2.5\n"


def test_shared_ppo_boolean_flags_parse_as_tyro_makes_them() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("tyro")
    sppo = baseline_script("shared_ppo")
    assert sppo.parse_args([]).anneal_lr is True
    assert sppo.parse_args(["--no-anneal-lr"]).anneal_lr is False
    assert sppo.parse_args(["--anneal-lr"]).anneal_lr is True
    # RBC's table sets anneal_lr = false: the file beats the default, a flag given beats the file
    assert sppo.parse_args(["--task", "econbench/RBCTax-v0"]).anneal_lr is False
    assert sppo.parse_args(["--task", "econbench/RBCTax-v0", "--anneal-lr"]).anneal_lr is True
    cfg = sppo.parse_args(
        [
            "--task",
            "econbench/RBCTax-v0",
            "--hidden",
            "16",
            "--lr-scale",
            "firms=3",
            "--param",
            'obs_encoding="raw"',
            "--param",
            "n_consumers=10",
            "--learn",
            "firms",
            "government",
        ]
    )
    assert cfg.hidden == 16 and cfg.num_steps == 10 and cfg.lr_scale == {"government": 1.0, "firms": 3}
    assert cfg.params == {"obs_encoding": "raw", "n_consumers": 10} and cfg.learn == ["firms", "government"]
    assert sppo.parse_args(["--resume", "--track", "--skip-eval"]).resume
    with pytest.raises(SystemExit):
        sppo.parse_args(["--anneal-lr", "false"])
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        sppo.parse_args(["--param", "oops"])


def test_sb3_script_flags_parse() -> None:
    pytest.importorskip("stable_baselines3")
    tyro = pytest.importorskip("tyro")
    args = tyro.cli(
        baseline_script("sb3_ppo").Args,
        args=["--no-eval", "--hp", "n_steps=64", "--hp", "n_epochs=2", "--total-timesteps", "100", "--track"],
    )
    assert args.no_eval and args.track and args.hp == ["n_steps=64", "n_epochs=2"] and args.total_timesteps == 100
    assert tyro.cli(baseline_script("sb3_ppo").Args, args=[]).n_envs is None  # None: the hyperparameter file's
