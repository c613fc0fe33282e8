"""The leaderboard: result schema, validation, the local store, W&B sync and the rendered page."""

from econbench.leaderboard.schema import Result, parse_result, task_fingerprint
from econbench.leaderboard.store import Store, default_store_path
from econbench.leaderboard.submit import SubmissionError, submit

__all__ = ["Result", "Store", "SubmissionError", "default_store_path", "parse_result", "submit", "task_fingerprint"]
