"""The main job: planning, resumable runs, and the Ray fan-out."""

from __future__ import annotations

from pathlib import Path

import pytest

from econbench.bench import Job, plan, run_bench
from econbench.leaderboard.store import Store


def test_plan_quick_and_full() -> None:
    quick = plan(["InvestmentLQ-Planner-v0"], quick=True)
    assert [j.label for j in quick] == ["exact", "freeze", "ppo_seed0", "ppo_seed1", "ppo_seed2"]
    assert quick[1].method == "reference policy: freeze" and quick[2].kind == "evaluate"
    full = plan(["InvestmentLQ-Planner-v0"], quick=False, runs_dir=Path("/tmp/runs"))
    trains = [j for j in full if j.kind == "train"]
    assert [j.seed for j in trains] == [0, 1, 2] and {j.total_timesteps for j in trains} == {1_000_000}
    assert len({j.key("numpy") for j in quick}) == len(quick)  # keys are distinct and known before running


def test_run_is_resumable_and_entries_are_verified(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    logs: list[str] = []
    first = run_bench(["InvestmentStochastic-v0"], store=store, progress=False, log=logs.append, page=False)
    assert {r.policy for r in first} == {"exact", "maintain"} and all(r.verified for r in first)
    second = run_bench(["InvestmentStochastic-v0"], store=store, progress=False, log=logs.append, page=False)
    assert "0 entries measured, 2 already stored" in logs[-1]
    assert [r.key() for r in second] == [r.key() for r in first]


def test_ray_executor_fans_out_and_the_store_serialises(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}},
    )
    try:
        results = run_bench(
            ["InvestmentOligopoly-v0", "InvestmentLQ-v0"],
            store=tmp_path / "s.sqlite",
            executor="ray",
            progress=False,
            log=lambda m: None,
            page=False,
        )
    finally:
        ray.shutdown()
    assert len(results) == 5 and Store(tmp_path / "s.sqlite").integrity_ok()
    local = run_bench(
        ["InvestmentOligopoly-v0", "InvestmentLQ-v0"],
        store=tmp_path / "local.sqlite",
        progress=False,
        log=lambda m: None,
        page=False,
    )
    assert sorted((r.key(), r.score) for r in results) == sorted((r.key(), r.score) for r in local)


def test_bench_logs_new_entries_to_wandb_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    from econbench.leaderboard.wandb_sync import WandbConfig, queued_runs, read_offline_run

    for var in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    cfg = WandbConfig(mode="offline", dir=tmp_path / "wb")
    results = run_bench(
        ["InvestmentOligopoly-Firm-v0"],
        store=tmp_path / "s.sqlite",
        progress=False,
        wandb=cfg,
        log=lambda m: None,
        page=False,
    )
    runs = queued_runs(cfg)
    assert len(runs) == len(results) + 1  # one run per entry, plus the leaderboard table
    logged = {read_offline_run(r)["config"].get("entry_key") for r in runs}
    assert {r.key() for r in results} <= logged


def test_full_mode_trains_then_measures(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    from econbench.bench import Job, run_job

    folder = tmp_path / "runs" / "InvestmentLQ-Planner-v0" / "ppo_seed0"
    job = Job("econbench/InvestmentLQ-Planner-v0", "SB3 PPO", str(folder), "ppo_seed0", "train", 0, 2048)
    out = run_job(job, str(tmp_path / "s.sqlite"), "numpy")
    assert out["status"] == "done" and (folder / "policy.json").is_file() and (folder / "curve.csv").is_file()
    entry = Store(tmp_path / "s.sqlite").get(out["key"])
    assert entry.policy == "ppo_seed0" and entry.verified and entry.gaps[0].kind == "optimality"
    assert run_job(job, str(tmp_path / "s.sqlite"), "numpy")["status"] == "skipped (stored)"


def test_full_mode_trains_into_the_output_folder_never_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --quick the SB3 runs are trained into <out>/runs (out: beside the store by default)."""
    import econbench.bench as bench

    planned: list[Job] = []

    def capture(tasks: object, quick: bool, runs_dir: Path | None = None) -> list[Job]:
        planned.extend(plan(["InvestmentLQ-Planner-v0"], quick, runs_dir))
        return []

    monkeypatch.setattr(bench, "plan", capture)
    run_bench(
        ["InvestmentLQ-Planner-v0"],
        quick=False,
        store=tmp_path / "s.sqlite",
        progress=False,
        log=lambda m: None,
        page=False,
    )
    run_bench(
        ["InvestmentLQ-Planner-v0"],
        quick=False,
        store=tmp_path / "s.sqlite",
        out_dir=tmp_path / "elsewhere",
        progress=False,
        log=lambda m: None,
        page=False,
    )
    trains = [Path(j.policy) for j in planned if j.kind == "train"]
    assert len(trains) == 6
    assert all(p.parent.parent == tmp_path / "leaderboard" / "runs" for p in trains[:3])
    assert all(p.parent.parent == tmp_path / "elsewhere" / "runs" for p in trains[3:])
    checkpoints = Path(bench.REPO) / "baselines" / "checkpoints"
    assert not any(p.is_relative_to(checkpoints) for p in trains)
    assert all(
        Path(j.policy).is_relative_to(checkpoints) for j in plan(["InvestmentLQ-Planner-v0"]) if "ppo" in j.label
    )


def test_plan_without_a_folder_trains_beside_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECONBENCH_STORE", str(tmp_path / "x" / "store.sqlite"))
    trains = [j for j in plan(["InvestmentLQ-Planner-v0"], quick=False) if j.kind == "train"]
    assert trains and all(Path(j.policy).parent.parent == tmp_path / "x" / "leaderboard" / "runs" for j in trains)
