"""``--track`` with the real wandb library, offline: both learners log CleanRL's metric names against
``global_step``, grouped and tagged by task, and what they log is their ``curve.csv``.

The offline run is read back from its ``.wandb`` file: W&B's record log (LevelDB's log format, one
protobuf ``Record`` each, parsed with the ``wandb.proto`` messages the library ships), the same file
``wandb sync`` uploads. No network, no mock of wandb.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

wandb = pytest.importorskip("wandb")
pytest.importorskip("stable_baselines3")
pytest.importorskip("tyro")
from wandb.proto import wandb_internal_pb2  # noqa: E402

from tests.conftest import baseline_script  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CLEANRL = {
    "charts/episodic_return",
    "charts/episodic_length",
    "charts/discounted_episodic_return",
    "charts/learning_rate",
    "charts/SPS",
    "losses/value_loss",
    "losses/policy_loss",
    "losses/entropy",
    "losses/approx_kl",
    "losses/clipfrac",
    "losses/explained_variance",
}


def read_records(path: Path) -> list[Any]:
    """Every ``Record`` of a ``.wandb`` file: a 7-byte header (``:W&B``, magic, version), then 32 KiB blocks of
    chunks, each ``crc32 (4) | length (2) | type (1)``: FULL = 1, or FIRST = 2, MIDDLE = 3, LAST = 4 pieces."""
    data, block, pos = path.read_bytes(), 32768, 7
    assert data[:4] == b":W&B", f"{path}: not a W&B record log"
    records, pieces = [], b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if pos + 7 + length > len(data):  # a chunk still being written
            break
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 0:  # zero padding at the end of a block
            pos += (block - pos % block) % block
            continue
        pieces = chunk if kind in (1, 2) else pieces + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pieces)
            records.append(record)
    return records


def offline_run(folder: Path, wait: float = 60.0) -> dict[str, Any]:
    """The run's metadata, metric definitions and history rows (key -> number) from its one offline run.

    W&B's service process writes the file; ``finish()`` may return before its last records (the exit) are on disk,
    so the file is read again until they are (or ``wait`` seconds have passed)."""
    (log,) = folder.glob("wandb/offline-run-*/run-*.wandb")
    deadline = time.monotonic() + wait
    records = read_records(log)
    while not any(r.WhichOneof("record_type") == "exit" for r in records) and time.monotonic() < deadline:
        time.sleep(0.2)
        records = read_records(log)
    out: dict[str, Any] = {"history": [], "metrics": {}, "exit": None}
    for rec in records:
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            out |= {"group": rec.run.run_group, "job_type": rec.run.job_type, "tags": list(rec.run.tags)}
        elif kind == "metric":
            out["metrics"][rec.metric.name or rec.metric.glob_name] = rec.metric.step_metric
        elif kind == "history":
            row = {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in rec.history.item}
            out["history"].append(row)
        elif kind == "exit":
            out["exit"] = rec.exit.exit_code
    return out


def logged(run: dict[str, Any], name: str) -> dict[int, float]:
    return {row["global_step"]: row[name] for row in run["history"] if name in row}


def curve(folder: Path) -> dict[str, np.ndarray]:
    header, *rows = (folder / "curve.csv").read_text().splitlines()
    data = np.array([[float(v) for v in r.split(",")] for r in rows])
    return {name: data[:, i] for i, name in enumerate(header.split(","))}


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every file W&B writes stays under tmp_path; no API key, no netrc: ``--track`` must go offline by itself."""
    for var, sub in (("WANDB_DIR", "wandb-dir"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config")):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_DISABLED", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_RUN_ID"):
        monkeypatch.delenv(var, raising=False)


def test_sb3_ppo_tracks_offline_without_a_key(tmp_path: Path) -> None:
    args = ["--task", "econbench/InvestmentLQ-Planner-v0", "--seed", "1", "--total-timesteps", "4096", "--n-envs", "4"]
    args += ["--hp", "n_steps=512", "--hp", "batch_size=512", "--hp", "n_epochs=1", "--no-eval"]
    sb3 = baseline_script("sb3_ppo")
    folder = sb3.main([*args, "--out", str(tmp_path / "tracked"), "--track"])
    run = offline_run(folder)
    assert run["exit"] == 0 and run["group"] == "econbench/InvestmentLQ-Planner-v0" and run["job_type"] == "sb3_ppo"
    assert {"InvestmentLQ-Planner-v0", "sb3_ppo", "seed1"} <= set(run["tags"])
    assert run["metrics"]["*"] == "global_step"  # every metric's x axis
    names = set().union(*run["history"])
    assert CLEANRL <= names and all("global_step" in row for row in run["history"])

    c = curve(folder)  # what W&B got is the learning curve: the scored return, and the undiscounted one apart
    assert logged(run, "charts/discounted_episodic_return") == pytest.approx(
        dict(zip(c["timesteps"].astype(int), c["mean_discounted_return"])), rel=1e-9
    )
    assert logged(run, "charts/episodic_return") == pytest.approx(
        dict(zip(c["timesteps"].astype(int), c["mean_episode_return"])), rel=1e-9
    )
    assert np.all(c["mean_discounted_return"] < 0.2 * c["mean_episode_return"])  # beta = 0.95 over 270 steps
    assert all(0.0 <= v <= 1.0 for v in logged(run, "losses/clipfrac").values())
    assert all(v > 0.0 for v in logged(run, "losses/entropy").values())  # CleanRL's sign: the entropy, not its loss

    untracked = sb3.main([*args, "--out", str(tmp_path / "untracked")])  # tracking reads, never changes, training
    assert (untracked / "policy.safetensors").read_bytes() == (folder / "policy.safetensors").read_bytes()


def test_shared_ppo_tracks_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    task = "econbench/InvestmentOligopoly-v0"
    folder = baseline_script("shared_ppo").main(
        ["--task", task, "--total-timesteps", "2048", "--n-envs", "4", "--num-steps", "128"]
        + ["--out", str(tmp_path), "--skip-eval", "--track"]
    )
    run = offline_run(folder)
    assert run["exit"] == 0 and run["group"] == task and run["job_type"] == "shared_ppo"
    assert {"InvestmentOligopoly-v0", "shared_ppo", "numpy", "cpu"} <= set(run["tags"])
    assert run["metrics"]["*"] == "global_step"  # every metric's x axis
    names = set().union(*run["history"])
    per_group = {
        n for n in CLEANRL if n.startswith("losses/") or n in ("charts/episodic_return", "charts/learning_rate")
    }
    assert {f"{n}/firms" for n in per_group} | (CLEANRL - per_group) <= names

    c = curve(folder)
    assert list(c) == ["timesteps", "mean_episode_return_firms", "mean_discounted_return"]
    assert logged(run, "charts/discounted_episodic_return") == pytest.approx(
        dict(zip(c["timesteps"].astype(int), c["mean_discounted_return"])), rel=1e-9
    )
    assert sorted(logged(run, "losses/value_loss/firms")) == [512, 1024, 1536, 2048]
