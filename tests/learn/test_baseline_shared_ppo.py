"""Shared-parameter PPO: trains on every multi-agent task, checkpoints, resumes, and is scored by econbench."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import MULTI_IDS

torch = pytest.importorskip("torch")
pytest.importorskip("tyro")
from econbench.learn import runs  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "baselines" / "shared_ppo.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("econbench_shared_ppo_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("task_id", MULTI_IDS)
def test_short_run_on_every_multi_agent_task(task_id: str, tmp_path: Path) -> None:
    sppo = _module()
    run = sppo.main(
        [
            "--task",
            task_id,
            "--total-timesteps",
            "512",
            "--n-envs",
            "8",
            "--num-steps",
            "32",
            "--out",
            str(tmp_path),
            "--eval-episodes",
            "2",
        ]
    )
    result = json.loads((run / "eval.json").read_text())
    assert np.isfinite(result["score"])
    assert (run / "checkpoint.pt").is_file() and (run / "curve.csv").read_text().startswith("timesteps,")
    task, profile = runs.load_profile(run)
    obs = {g.name: np.zeros((3, g.n_agents, *g.observation.shape)) for g in task.groups}
    for g in task.groups:
        assert profile[g.name](obs[g.name]).shape[:2] == (3, g.n_agents)


def test_per_group_initial_log_std(tmp_path: Path) -> None:
    """--log-std sets one group's exploration apart (the capital-goods game's firms); others keep log_std_init."""
    sppo = _module()
    common = [
        "--task",
        "econbench/CapitalGoodsGame-v0",
        "--n-envs",
        "4",
        "--num-steps",
        "16",
        "--total-timesteps",
        "64",
        "--out",
        str(tmp_path),
        "--skip-eval",
        "--critic-warmup",
        "1000",
        "--log-std-init",
        "-3",
    ]
    run = sppo.main(common + ["--log-std", "firms=-0.5"])  # actors frozen during the critic warm-up
    agents = torch.load(run / "checkpoint.pt", weights_only=True)["agents"]
    assert agents["firms"]["log_std"].tolist() == [-0.5] and agents["households"]["log_std"].tolist() == [-3.0]
    with pytest.raises(SystemExit, match="workers"):
        sppo.main(common + ["--log-std", "workers=-1"])


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    sppo = _module()
    common = [
        "--task",
        "econbench/InvestmentOligopoly-v0",
        "--n-envs",
        "8",
        "--num-steps",
        "32",
        "--out",
        str(tmp_path),
        "--eval-episodes",
        "2",
    ]
    run = sppo.main(common + ["--total-timesteps", "512"])
    first = torch.load(run / "checkpoint.pt", weights_only=True)
    run = sppo.main(common + ["--total-timesteps", "1024", "--resume"])
    second = torch.load(run / "checkpoint.pt", weights_only=True)
    assert first["step"] == 512 and second["step"] == 1024
    w1, w2 = first["agents"]["firms"]["actor.0.weight"], second["agents"]["firms"]["actor.0.weight"]
    assert not torch.equal(w1, w2)


def test_learning_improves_the_duopoly_profile(tmp_path: Path) -> None:
    """A modest budget already moves the firms well away from the initial (near-zero) actions toward the MPE."""
    sppo = _module()
    run = sppo.main(
        [
            "--task",
            "econbench/InvestmentOligopoly-v0",
            "--total-timesteps",
            "65536",
            "--n-envs",
            "32",
            "--num-steps",
            "64",
            "--out",
            str(tmp_path),
            "--eval-episodes",
            "8",
            "--learning-rate",
            "1e-3",
        ]
    )
    curve = np.loadtxt(run / "curve.csv", delimiter=",", skiprows=1, ndmin=2)
    assert curve[-1, 1] > curve[0, 1]  # mean episode return of the firms rose


def _tiny_rbc_run(sppo: Any, out: Path, *extra: str) -> Path:
    """Two updates of 4 RBC economies x 10 quarters, unscored."""
    args = ["--task", "econbench/RBCTax-v0", "--total-timesteps", "80", "--n-envs", "4", "--num-steps", "10"]
    return sppo.main([*args, "--out", str(out), "--skip-eval", *extra])


def test_run_folders_are_policies_for_econbench_metrics_and_can_sample(tmp_path: Path) -> None:
    from econbench.metrics import evaluate

    sppo = _module()
    run = _tiny_rbc_run(sppo, tmp_path)
    task, argmax = runs.load_profile(run)
    by_folder = evaluate("econbench/RBCTax-v0", str(run), episodes=2)  # a run folder is a policy spec
    assert by_folder.mean == pytest.approx(evaluate(task, argmax, episodes=2).mean, rel=1e-12)
    _, sampling = runs.load_profile(run, deterministic=False)
    obs = np.zeros((2, 100, *task.group("consumers").observation.shape))
    torch.manual_seed(3)
    a = sampling["consumers"](obs)
    torch.manual_seed(3)
    np.testing.assert_array_equal(a, sampling["consumers"](obs))  # seeded sampling repeats
    assert not np.array_equal(a, sampling["consumers"](obs))  # and it does sample
    assert np.array_equal(argmax["consumers"](obs), argmax["consumers"](obs))
    # a best response trains against the others as measured: --fixed-sampled makes a run's fixed groups sample
    fixed = runs.fixed_policies(task, str(run), ["government"], deterministic=False)
    assert set(fixed) == {"consumers", "firms"} and not np.array_equal(fixed["consumers"](obs), fixed["consumers"](obs))
    assert sppo.parse_args(["--task", "econbench/RBCTax-v0", "--fixed-sampled"]).fixed_sampled
    with pytest.raises(ValueError, match="no policy.json"):
        evaluate("econbench/RBCTax-v0", str(tmp_path), episodes=1)


def test_the_end_of_an_undiscounted_game_is_not_bootstrapped() -> None:
    """RBC (gamma 1) ends after 10 quarters; the investment tasks (gamma < 1) are infinite games truncated."""
    from econbench.learn.shared_ppo import no_future

    term, done = torch.tensor([False, False, True]), torch.tensor([False, True, True])
    assert no_future(term, done, 1.0).tolist() == [False, True, True]
    assert no_future(term, done, 0.95).tolist() == [False, False, True]


def test_a_fixed_tax_acts_from_the_start_of_the_curriculum(tmp_path: Path) -> None:
    """Upstream's fixed-rate baselines: consumers and firms learn under the curriculum while the government keeps
    its flat rate, which the curriculum's early government mask (no tax yet) would forbid a learner."""
    from econbench.curriculum import from_task
    from econbench.registry import make_task

    task = make_task("econbench/RBCTax-v0")
    assert from_task(task).at(0.0).params["government_mask_progress"] == 0.0  # the mask allows only no tax
    run = _tiny_rbc_run(_module(), tmp_path, "--learn", "consumers", "firms", "--fixed", "flat_tax_20")
    assert json.loads((run / "policy.json").read_text())["groups"]["government"] == {"named": "flat_tax_20"}


@pytest.mark.parametrize("every, saves", [(0.0, 4), (1e9, 1)])
def test_checkpoints_at_most_every_interval_and_at_the_end(
    every: float, saves: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from econbench.learn import shared_ppo
    from econbench.learn.config import SharedPPOConfig

    steps: list[int] = []
    real = torch.save
    monkeypatch.setattr(shared_ppo.torch, "save", lambda obj, f: (steps.append(obj["step"]), real(obj, f)))
    cfg = SharedPPOConfig.for_task(
        "econbench/InvestmentOligopoly-v0",
        total_timesteps=4 * 8 * 16,
        n_envs=8,
        num_steps=16,
        out=str(tmp_path),
        skip_eval=True,
        checkpoint_every_s=every,
    )
    shared_ppo.train(cfg)
    assert len(steps) == saves and steps[-1] == 4 * 8 * 16


def test_the_group_baseline_removes_what_the_shocks_did() -> None:
    """Advantages = a part common to a group of common random numbers (the shocks) + each member's own part:
    relative to the others' mean, the common part is gone and each member keeps its own part less the others'
    mean, whatever the group's size."""
    from econbench.learn.shared_ppo import relative_to_group

    gen = torch.Generator().manual_seed(0)
    common = 100.0 * torch.randn(5, 3, 1, 2, generator=gen, dtype=torch.float64)  # (steps, groups, 1, agents)
    own = torch.randn(5, 3, 4, 2, generator=gen, dtype=torch.float64)  # groups of 4 economies
    adv = (common + own).reshape(5, 12, 2)
    out = relative_to_group(adv, 4).reshape(5, 3, 4, 2)
    others = (own.sum(2, keepdim=True) - own) / 3
    torch.testing.assert_close(out, own - others)
    assert float(out.abs().max()) < 10.0 < float(adv.abs().max())


def test_shared_draws_train_and_a_bad_group_size_is_refused(tmp_path: Path) -> None:
    sppo = _module()
    common = ["--task", "econbench/CapitalGoods-Planner-4-v0", "--total-timesteps", "256", "--num-steps", "16"]
    common += ["--out", str(tmp_path), "--eval-episodes", "2"]
    run = sppo.main([*common, "--n-envs", "8", "--shared-draws", "4"])
    assert json.loads((run / "checkpoint.pt").with_name("policy.json").read_text())
    assert torch.load(run / "checkpoint.pt", weights_only=True)["args"]["shared_draws"] == 4
    with pytest.raises(SystemExit, match="--shared-draws must divide --n-envs"):
        sppo.main([*common, "--n-envs", "6", "--shared-draws", "4"])
