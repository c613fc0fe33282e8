"""Verified means the verifier measured every number: claims are checked number by number, the stored entry
holds the verifier's own, and names and keys of the reference baselines cannot be taken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from econbench import policies
from econbench.bench import AUTHORS, Job, run_job
from econbench.cli import main as cli
from econbench.leaderboard.results import measure
from econbench.leaderboard.schema import Gap, Result
from econbench.leaderboard.store import Store
from econbench.leaderboard.submit import SubmissionError, submit
from econbench.leaderboard.verify import reverify
from econbench.registry import make_task

LQ = "econbench/InvestmentLQ-Planner-v0"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linear policy near freeze (a small move toward 2000): a real policy, worse than the optimum."""
    task = make_task(LQ)
    g = task.groups[0]
    obs_dim = g.observation.shape[0]
    w = np.zeros((1, obs_dim), np.float32)
    w[0, 0] = -0.02
    layers = [(w, np.array([40.0], np.float32))]
    grp, arrays = policies.mlp_group(g.name, layers, "tanh", policies.BoxAction(scale="natural"))
    return policies.write_policy(tmp_path_factory.mktemp("pol") / "linear", LQ, {g.name: grp}, arrays)


@pytest.fixture(scope="module")
def honest(folder: Path) -> Result:
    return measure(LQ, str(folder), "my method", ["A. Researcher"], policy_label="linear")


def _file(tmp_path: Path, r: Result) -> Path:
    path = tmp_path / "claim.json"
    path.write_text(r.model_dump_json())
    return path


def test_an_honest_claim_is_stored_with_the_verifiers_numbers(tmp_path: Path, folder: Path, honest: Result) -> None:
    claim = honest.model_copy(update={"gaps": [], "hardware": "a supercomputer", "notes": "hello"})
    stored = submit(_file(tmp_path, claim), Store(tmp_path / "s.sqlite"), policy=str(folder))
    assert stored.verified and stored.notes == "hello" and stored.method == "my method"
    assert stored.hardware != "a supercomputer"  # the verifier's machine
    assert [g.kind for g in stored.gaps] == ["optimality"]  # the omitted gap was computed
    assert stored.gaps[0].normalized == pytest.approx(honest.gaps[0].normalized, rel=1e-9)


def _shift_ci(r: Result) -> dict:
    return {"score_ci95": (r.score_ci95[0], r.score_ci95[1] * 1.01 if r.score_ci95[1] > 0 else r.score_ci95[1] * 0.99)}


@pytest.mark.parametrize(
    "edit, match",
    [
        (_shift_ci, "score_ci95 high"),
        (lambda r: {"score_iqm": r.score_iqm * 1.001}, "score_iqm"),
        (lambda r: {"gaps": [r.gaps[0].model_copy(update={"normalized": r.gaps[0].normalized * 0.5})]}, "normalized"),
        (lambda r: {"gaps": [r.gaps[0].model_copy(update={"ci95": (0.0, 0.0)})]}, "ci95"),
        (lambda r: {"gaps": [r.gaps[0].model_copy(update={"method": "dp lower bound"})]}, "method"),
        (
            lambda r: {"gaps": [*r.gaps, Gap(kind="equilibrium", method="exact", group="planner", value=0.0)]},
            "not measured",
        ),
    ],
)
def test_a_claim_that_disagrees_on_any_number_is_refused(
    tmp_path: Path, folder: Path, honest: Result, edit, match: str
) -> None:
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(SubmissionError, match=match):
        submit(_file(tmp_path, honest.model_copy(update=edit(honest))), store, policy=str(folder))
    assert store.count() == 0


def test_a_claim_above_the_exact_optimum_is_never_verified(tmp_path: Path, folder: Path, honest: Result) -> None:
    exact = measure(LQ, "exact", "x", ["x"])
    above = [s + abs(s) * 0.01 for s in exact.per_seed_scores]
    claim = honest.model_copy(
        update={
            "per_seed_scores": above,
            "score": float(np.mean(above)),
            "gaps": [honest.gaps[0].model_copy(update={"value": -0.01, "normalized": -0.5})],
        }
    )
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(SubmissionError, match="contradicts"):
        submit(_file(tmp_path, claim), store, policy=str(folder))
    stored = submit(_file(tmp_path, claim), store)  # as a claim, unverified
    assert not stored.verified and store.count() == 1


@pytest.mark.parametrize(
    "update", [{"authors": ["econbench  Reference baselines"]}, {"method": "Exact solution", "policy": "exact"}]
)
def test_reference_names_are_reserved(
    tmp_path: Path, folder: Path, honest: Result, update: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, honest.model_copy(update=update))
    for extra in ([], ["--policy", str(folder)]):
        assert cli(["submit", str(path), "--store", str(tmp_path / "s.sqlite"), *extra]) == 2
        err = capsys.readouterr().err
        assert "reserved" in err or "reference baseline" in err
    assert Store(tmp_path / "s.sqlite").count() == 0


def test_bench_replaces_an_entry_it_did_not_verify_itself(tmp_path: Path) -> None:
    job = Job(LQ, "exact solution", "exact", "exact")
    store = Store(tmp_path / "s.sqlite")
    forged = measure(LQ, "exact", "exact solution", AUTHORS, policy_label="exact")
    forged = forged.model_copy(
        update={
            "per_seed_scores": [s * 2 for s in forged.per_seed_scores],
            "score": forged.score * 2,
            "verified": False,
        }
    )
    store.add(forged)  # e.g. from a published folder, under the reference key
    assert forged.key() == job.key("numpy")
    out = run_job(job, str(store.path), "numpy")
    assert out["status"] == "done"
    again = store.get(job.key("numpy"))
    assert again.verified and again.score == pytest.approx(forged.score / 2, rel=1e-12)
    assert run_job(job, str(store.path), "numpy")["status"] == "skipped (stored)"


def test_reverify_confirms_reproducible_entries_and_demotes_the_rest(honest: Result) -> None:
    from econbench.bench import reference_names

    method = next(m for m, p in reference_names(LQ) if p == "freeze")
    named = measure(LQ, "freeze", method, AUTHORS, policy_label="freeze")
    assert reverify(named.model_copy(update={"verified": False})).verified
    # the same numbers under someone else's name: the reference's policy is not theirs to be credited with
    assert not reverify(named.model_copy(update={"authors": ["someone"], "method": "my method"})).verified
    bump = abs(named.score) * 1e-3
    tampered = named.model_copy(
        update={
            "per_seed_scores": [s + bump for s in named.per_seed_scores],
            "score": named.score + bump,
            "verified": True,
        }
    )
    assert not reverify(tampered).verified
    # a policy that is not at hand (the label of a folder elsewhere) cannot be re-measured
    assert not reverify(honest.model_copy(update={"verified": True})).verified


def test_groups_that_follow_named_policies_are_said_with_the_entry(tmp_path: Path, honest: Result) -> None:
    from econbench.leaderboard.results import _named_groups_note, verified_copy

    # a two-group task: consumers and firms learned, the government following a named rule
    pf = policies.load(
        Path(__file__).resolve().parents[2] / "econbench" / "envs" / "rbc" / "trained" / "shared_ppo_cpu_seed0"
    )
    groups = {**pf.spec.groups, "government": "no_tax"}
    arrays = {k: v for k, v in pf.arrays.items() if not k.startswith("government/")}
    mixed = policies.write_policy(tmp_path / "mixed", "econbench/RBCTax-v0", groups, arrays)
    note = _named_groups_note(str(mixed))
    assert note == "groups following the task's named policies: government=no_tax"
    assert _named_groups_note(str(pf.folder)) == "" and _named_groups_note("exact") == ""
    measured = honest.model_copy(update={"notes": note})
    assert verified_copy(honest.model_copy(update={"notes": "hello"}), measured).notes == f"hello; {note}"
    assert verified_copy(honest.model_copy(update={"notes": note}), measured).notes == note
