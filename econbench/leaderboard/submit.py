"""``econbench submit``: validate a result file, optionally re-evaluate its policy, store it.

Every refusal raises :class:`SubmissionError` before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from econbench.cards import UnknownTaskError
from econbench.leaderboard.results import disagreements, measure, verified_copy
from econbench.leaderboard.schema import MAX_FILE_BYTES, Result, parse_result, task_fingerprint
from econbench.leaderboard.store import DuplicateEntryError, Store
from econbench.registry import make_task


class SubmissionError(ValueError):
    """A submission was refused; the message says why. Nothing was stored."""


def check(result: Result) -> None:
    """The task exists, its definition is the one the result was measured on, and the protocol is the card's."""
    try:
        task = make_task(result.task.id)
    except UnknownTaskError as exc:
        raise SubmissionError(str(exc)) from None
    current = task_fingerprint(task.id)
    if result.task.fingerprint != current:
        raise SubmissionError(
            f"outdated task definition: the result was measured on {task.id} fingerprint {result.task.fingerprint}, "
            f"the current definition is {current}; re-run the evaluation with this econbench"
        )
    proto = task.card["protocol"]
    if result.seeds != list(proto["eval_seeds"]) or result.episodes_per_seed != int(proto["episodes_per_seed"]):
        raise SubmissionError(
            f"not the task's protocol: {task.id} is scored on seeds {proto['eval_seeds']} with "
            f"{proto['episodes_per_seed']} episodes each"
        )


def reserved(result: Result) -> str | None:
    """Why a submission may not take this name: the reference baselines' authors, or the method and policy of one
    of the task's reference entries (whatever its backend), belong to ``econbench bench``."""
    from econbench.leaderboard.reference import AUTHORS, reference_names
    from econbench.leaderboard.store import method_fold as norm

    if {norm(a) for a in result.authors} & {norm(a) for a in AUTHORS}:
        return f"the author name {AUTHORS[0]!r} is reserved for the entries `econbench bench` measures"
    if (norm(result.method), norm(result.policy)) in {(norm(m), norm(p)) for m, p in reference_names(result.task.id)}:
        return (
            f"method {result.method!r} with policy {result.policy!r} is a reference baseline of "
            f"{result.task.id}; `econbench bench` measures it"
        )
    return None


def submit(path: str | Path, store: Store, policy: str | None = None, backend: str = "numpy") -> Result:
    """Validate and store a result file; with ``policy``, re-measure everything and store the verifier's numbers.

    Without ``policy`` the claim is stored as it is, unverified. With it, the
    policy folder (data only: :mod:`econbench.policies`) is evaluated on the
    card's protocol, every number the claim states must agree with the
    re-measurement, and the stored entry carries the re-measured numbers,
    including gaps the claim left out.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionError(f"{path}: {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a result file")
    try:
        result = parse_result(path.read_bytes())
    except ValueError as exc:
        raise SubmissionError(f"{path}: {exc}") from None
    check(result)
    why = reserved(result)
    if why:
        raise SubmissionError(why)
    if result.verified and policy is None:
        raise SubmissionError("'verified' is set by `econbench submit --policy`, not by the submitter")
    if policy is not None:
        if not Path(policy).exists():
            raise SubmissionError(f"--policy {policy}: no such policy folder (named policies are reference entries)")
        try:
            measured = measure(result.task.id, policy, result.method, result.authors, backend=backend)
        except (ValueError, TypeError, FileNotFoundError, KeyError) as exc:
            raise SubmissionError(f"cannot re-evaluate the policy: {exc}") from None
        problems = disagreements(result, measured)
        if problems:
            raise SubmissionError("re-evaluation contradicts the claimed numbers: " + "; ".join(problems[:5]))
        result = verified_copy(result, measured)
    else:
        result = result.model_copy(update={"verified": False})
    try:
        store.add(result)
    except DuplicateEntryError as exc:
        raise SubmissionError(str(exc)) from None
    return result
