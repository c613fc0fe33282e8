"""No code named by a policy file runs, in any command that takes a policy or a run folder.

Each crafted file carries a live payload (shown live by loading it the unsafe
way first): loading it would create a marker file. Every loader path must
refuse it with one line and leave the marker absent and the store untouched.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest

from econbench.cli import main as cli
from econbench.leaderboard.results import measure
from econbench.leaderboard.store import Store
from econbench.policies import PolicyFileError
from tests.conftest import baseline_script

ROOT = Path(__file__).resolve().parents[2]
LQ = "econbench/InvestmentLQ-Planner-v0"
OLIGOPOLY = "econbench/InvestmentOligopoly-v0"


class Payload:
    """Unpickling calls ``open(marker, "w")``: the file appearing is the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


def _live(data: bytes, marker: Path) -> None:
    """The payload works when the bytes are unpickled (so its absence later means it was never unpickled)."""
    pickle.loads(data)
    assert marker.exists()
    marker.unlink()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PAYLOAD_RAN"


def _sb3_folder(folder: Path, marker: Path) -> Path:
    """An SB3 checkpoint folder of the old layout: a pickled VecNormalize and a model.zip whose data carries a
    serialized object, as SB3's cloudpickle fields do."""
    folder.mkdir(parents=True)
    data = pickle.dumps(Payload(marker))
    _live(data, marker)
    (folder / "vecnormalize.pkl").write_bytes(data)
    with zipfile.ZipFile(folder / "model.zip", "w") as z:
        z.writestr(
            "data",
            json.dumps({"policy_class": {":type:": "<class 'type'>", ":serialized:": base64.b64encode(data).decode()}}),
        )
    (folder / "meta.json").write_text(json.dumps({"task_id": LQ, "normalize_actions": True, "train_time_s": 1.0}))
    return folder


def _torch_folder(folder: Path, marker: Path, task_id: str = OLIGOPOLY) -> Path:
    """A shared-PPO run folder of the old kind: ``checkpoint.pt`` with a pickled object among the tensors."""
    torch = pytest.importorskip("torch")
    folder.mkdir(parents=True)
    buf = io.BytesIO()
    torch.save({"agents": {"firms": Payload(marker)}, "args": {}, "task_id": task_id, "step": 0}, buf)
    torch.load(io.BytesIO(buf.getvalue()), weights_only=False)  # live: the unsafe loader runs it
    assert marker.exists()
    marker.unlink()
    (folder / "checkpoint.pt").write_bytes(buf.getvalue())
    return folder


def _one_line_refusal(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "error" in err, err
    return err


# ---------------------------------------------------------------------------- the library and its CLI
@pytest.mark.parametrize("kind", ["sb3", "torch", "file"])
def test_evaluate_and_gap_refuse_code_formats(
    tmp_path: Path, marker: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "sb3":
        task, policy = LQ, _sb3_folder(tmp_path / "run", marker)
    elif kind == "torch":
        task, policy = OLIGOPOLY, _torch_folder(tmp_path / "run", marker)
    else:  # the pickle given directly as the policy path
        task, policy = LQ, _sb3_folder(tmp_path / "run", marker) / "vecnormalize.pkl"
    from econbench.metrics import evaluate

    with pytest.raises(PolicyFileError, match="never opens them"):
        evaluate(task, str(policy))
    for command in (["evaluate"], ["gap"]):
        err = _one_line_refusal(capsys, cli([*command, "--task", task, "--policy", str(policy)]))
        assert "never opens them" in err
    if kind == "torch":
        err = _one_line_refusal(
            capsys, cli(["gap", "--task", task, "--policy", str(policy), "--method", "trained", "--budget", "64"])
        )
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["sb3", "torch"])
def test_submit_refuses_a_code_policy_and_stores_nothing(
    tmp_path: Path, marker: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    task = LQ if kind == "sb3" else OLIGOPOLY
    policy = _sb3_folder(tmp_path / "run", marker) if kind == "sb3" else _torch_folder(tmp_path / "run", marker)
    claim = measure(task, "exact" if kind == "sb3" else "freeze", "my method", ["someone"])
    # a claim above the exact optimum, which only a patched verifier would confirm
    better = [s + abs(s) for s in claim.per_seed_scores]
    claim = claim.model_copy(update={"per_seed_scores": better, "score": sum(better) / len(better), "gaps": []})
    path = tmp_path / "claim.json"
    path.write_text(claim.model_dump_json())
    store = tmp_path / "s.sqlite"
    err = _one_line_refusal(capsys, cli(["submit", str(path), "--policy", str(policy), "--store", str(store)]))
    assert "nothing stored" in err and "never opens them" in err
    assert not marker.exists()
    assert Store(store).count() == 0


def test_bench_jobs_refuse_a_code_checkpoint(tmp_path: Path, marker: Path) -> None:
    from econbench.bench import Job, run_job

    folder = _sb3_folder(tmp_path / "ppo_seed0", marker)
    job = Job(LQ, "SB3 PPO (shipped checkpoint)", str(folder), "ppo_seed0")
    with pytest.raises(PolicyFileError):
        run_job(job, str(tmp_path / "s.sqlite"), "numpy")
    assert not marker.exists()


def test_an_onnx_name_on_a_pickle_is_not_unpickled(tmp_path: Path, marker: Path) -> None:
    pytest.importorskip("onnx")
    from econbench import policies
    from econbench.registry import make_task

    data = pickle.dumps(Payload(marker))
    _live(data, marker)
    (tmp_path / "firms.onnx").write_bytes(data)
    policies.onnx_policy(tmp_path, OLIGOPOLY, {"firms": "firms.onnx"}, policies.BoxAction())
    with pytest.raises(PolicyFileError, match="ONNX"):
        policies.group_policies(policies.load(tmp_path), make_task(OLIGOPOLY))
    assert not marker.exists()


# ---------------------------------------------------------------------------- the scripts that take runs
def test_shared_ppo_reads_checkpoints_as_data_only(tmp_path: Path, marker: Path) -> None:
    from econbench.learn.runs import load_profile

    sppo = baseline_script("shared_ppo")
    run = _torch_folder(tmp_path / "runs" / "InvestmentOligopoly-v0" / "x", marker)
    with pytest.raises(ValueError, match="refused") as info:
        load_profile(run)  # capital_goods.py --runs, ev_report.py --sampled, rbc_reproduce.py
    assert "\n" not in str(info.value)
    base = ["--task", OLIGOPOLY, "--total-timesteps", "64", "--n-envs", "2", "--num-steps", "32", "--skip-eval"]
    for extra in (
        ["--init", str(run)],
        ["--learn", "firms", "--fixed", str(run), "--deviate", "0"],
        ["--out", str(tmp_path / "runs"), "--run-name", "x", "--resume"],
    ):
        with pytest.raises((ValueError, SystemExit)):
            sppo.main([*base, "--out", str(tmp_path / "out"), *extra] if "--resume" not in extra else [*base, *extra])
    assert not marker.exists()


def test_sb3_rescore_and_ev_report_refuse_code_formats(tmp_path: Path, marker: Path) -> None:
    pytest.importorskip("stable_baselines3")
    sb3 = baseline_script("sb3_ppo")
    folder = _sb3_folder(tmp_path / "ppo_seed0", marker)
    with pytest.raises(PolicyFileError):
        sb3.main(["--rescore", str(folder)])
    from econbench.learn.sb3_score import checkpoint_profile
    from econbench.registry import make_task

    with pytest.raises(PolicyFileError):
        checkpoint_profile(make_task("econbench/EVCharging-Driver-v0"), folder, deterministic=False)
    report = baseline_script("ev_report")
    run = _torch_folder(tmp_path / "run", marker, "econbench/EVCharging-Steady-v0")
    with pytest.raises(ValueError, match="refused"):
        report.main(["steady", "--policy", str(run), "--sampled", "--no-gap", "--out", str(tmp_path / "out")])
    with pytest.raises(PolicyFileError):
        report.main(["steady", "--policy", str(run), "--no-gap", "--out", str(tmp_path / "out")])
    assert not marker.exists()
