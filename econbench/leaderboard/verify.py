"""Re-verification of entries that arrive without a verifier's word: a published folder, a W&B project.

A ✓ read from a file or a remote run is only a claim. A reference entry is
verified again when its policy is at hand and safe to load (a named policy
of the task, or a policy folder shipped in ``baselines/checkpoints``) and its
numbers are reproduced; every other entry is stored unverified.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from econbench.leaderboard.results import disagreements, measure, verified_copy
from econbench.leaderboard.schema import Result, task_fingerprint

REPO = Path(__file__).resolve().parent.parent.parent


def policy_source(result: Result) -> str | None:
    """Where the entry's policy can be loaded from, or None.

    Only the reference baselines' policies are known to econbench (a named
    policy, or a policy folder shipped in ``baselines/checkpoints``); anyone
    else's policy is theirs to submit with ``econbench submit --policy``. An
    entry under another name pointing at a reference policy is not re-verified:
    a ✓ would credit the reference's numbers to it.
    """
    from econbench.leaderboard.reference import AUTHORS, reference_names
    from econbench.registry import make_task

    if result.authors != AUTHORS or (result.method, result.policy) not in reference_names(result.task.id):
        return None
    task = make_task(result.task.id)
    if result.policy in task.policies:
        return result.policy
    folder = REPO / "baselines" / "checkpoints" / task.name / result.policy
    return str(folder) if (folder / "policy.json").is_file() else None


def reverify(result: Result, log: Callable[[str], None] | None = None) -> Result:
    """The entry as the verifier measures it (verified), or the entry unverified when that cannot be done."""
    unverified = result.model_copy(update={"verified": False})
    try:
        if result.task.fingerprint != task_fingerprint(result.task.id):
            return unverified
        source = policy_source(result)
        if source is None:
            return unverified
        measured = measure(result.task.id, source, result.method, result.authors, backend=result.backend)
    except (KeyError, ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        if log:
            log(f"{result.key()}: not re-verified ({' '.join(str(exc).split())[:160]})")
        return unverified
    problems = disagreements(result, measured)
    if problems:
        if log:
            log(f"{result.key()}: not reproduced ({problems[0]}); stored unverified")
        return unverified
    return verified_copy(result, measured)
