"""The versioned result schema: what a leaderboard entry claims, and how it is tied to a task.

A result names its task by ID and by a fingerprint of the task's card and
code (econbench.fingerprint), so a score measured on an older definition of the task is refused
rather than silently compared with new ones. Strings are data: length-limited
here, escaped wherever they are shown.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from econbench.cards import short_name
from econbench.fingerprint import task_fingerprint  # noqa: F401 - re-exported: callers import it from here
from econbench.jsontext import MAX_JSON_DEPTH, json_depth

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 1_000_000  # a result is a few KB; anything near this is not a result file
EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
GAP_METHODS = (
    "exact",
    "linear-fit lower bound",
    "dp lower bound",
    "deviation-search lower bound",
    "trained best response",
)

# Characters that make one string look like another or hide text: bidirectional embeddings, overrides,
# isolates and marks, and zero-width characters. C0/C1 controls are refused separately.
_INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)


def _clean_text(value: Any, newlines: bool = False, blank: bool = False) -> Any:
    """NFKC-normalise a submitted string and refuse what a reader cannot see (controls, bidi, zero-width),
    so two entries that look alike are alike, and a name cannot reorder or hide the text around it."""
    if not isinstance(value, str):
        return value  # the str schema refuses it with its own message
    text = unicodedata.normalize("NFKC", value)
    for ch in text:
        if ch in _INVISIBLE:
            raise ValueError(f"contains the invisible or bidirectional character U+{ord(ch):04X}")
        category = unicodedata.category(ch)
        if category == "Cc" and not (newlines and ch == "\n"):
            raise ValueError(f"contains the control character U+{ord(ch):04X}")
        if category == "Cs":
            raise ValueError(f"contains the unpaired surrogate U+{ord(ch):04X}")
    if not blank and not text.strip():
        raise ValueError("must not be blank")
    return text


Text = Annotated[str, BeforeValidator(_clean_text), Field(min_length=1, max_length=200)]
LongText = Annotated[str, BeforeValidator(lambda v: _clean_text(v, newlines=True, blank=True)), Field(max_length=2000)]
Url = Annotated[str, BeforeValidator(_clean_text)]


def task_version(task_id: str) -> int:
    match = re.search(r"-v(\d+)$", short_name(task_id))
    if not match:
        raise ValueError(f"task ID {task_id!r} has no version suffix -vN")
    return int(match.group(1))


class TaskRef(BaseModel):
    """Which task, which version, which definition."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(pattern=r"^econbench/[A-Za-z0-9_.-]+-v\d+$", max_length=100)]
    version: Annotated[int, Field(ge=0)]
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]

    @model_validator(mode="after")
    def _version_matches_id(self) -> TaskRef:
        if task_version(self.id) != self.version:
            raise ValueError(f"version {self.version} does not match the ID {self.id}")
        return self


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


class Gap(BaseModel):
    """An optimality or equilibrium gap with the method that measured it."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["optimality", "equilibrium"]
    method: Literal[GAP_METHODS]  # type: ignore[valid-type]
    group: Text | None = None
    value: float  # optimality: raw (V*-V)/|V*|; equilibrium: epsilon, the largest mean best-response gain
    relative: float | None = None  # equilibrium: epsilon relative to |V|
    normalized: float | None = None  # optimality: (V*-V)/(V*-V_ref)
    ci95: tuple[float, float] | None = None
    description: LongText = ""

    @field_validator("value", "relative", "normalized")
    @classmethod
    def _finite_value(cls, v: float | None) -> float | None:
        return v if v is None else _finite(v)

    @field_validator("ci95")
    @classmethod
    def _finite_ci(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not all(math.isfinite(x) for x in v):
            raise ValueError("must be finite numbers")
        return v


class Result(BaseModel):
    """One leaderboard entry: a method's scores on one task under the task's protocol."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = SCHEMA_VERSION
    task: TaskRef
    method: Text
    authors: Annotated[list[Text], Field(min_length=1, max_length=50)]
    code_url: Annotated[Url, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None
    policy: Text  # a named policy of the task, or a description of the submitted checkpoint
    seeds: Annotated[list[int], Field(min_length=1, max_length=1000)]
    episodes_per_seed: Annotated[int, Field(ge=1, le=1_000_000)]
    per_seed_scores: Annotated[list[float], Field(min_length=1, max_length=1000)]
    score: float
    score_ci95: tuple[float, float]
    score_iqm: float  # interquartile mean over seeds' scores (rliable)
    gaps: Annotated[list[Gap], Field(max_length=20)] = []
    econbench_version: Text
    backend: Text
    hardware: Text
    date: datetime
    wandb_run: Annotated[Url, Field(max_length=300)] | None = None
    verified: bool = False
    notes: LongText = ""

    @field_validator("per_seed_scores")
    @classmethod
    def _finite_scores(cls, v: list[float]) -> list[float]:
        return [_finite(x) for x in v]

    @model_validator(mode="after")
    def _consistent(self) -> Result:
        if len(self.per_seed_scores) != len(self.seeds):
            raise ValueError(f"{len(self.per_seed_scores)} per-seed scores for {len(self.seeds)} seeds")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds repeat")
        if not math.isfinite(self.score):
            raise ValueError("score must be a finite number")
        if not math.isfinite(self.score_iqm):
            raise ValueError("score_iqm must be a finite number")
        lo, hi = self.score_ci95
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ValueError("score_ci95 must be a finite interval (low <= high)")
        n = len(self.per_seed_scores)
        mean = math.fsum(x / n for x in self.per_seed_scores)  # divided first: no overflow near the float limit
        if not math.isclose(mean, self.score, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"score {self.score} is not the mean of the per-seed scores ({mean})")
        if self.date.tzinfo is None or self.date.utcoffset() is None:
            raise ValueError("date needs a time zone (ISO 8601 with offset, e.g. 2026-11-21T12:00:00+00:00)")
        if not EARLIEST_DATE <= self.date <= now() + timedelta(days=1):
            raise ValueError(f"date {self.date.isoformat()} is not between 2000-01-01 and tomorrow")
        return self

    def headline_gap(self) -> Gap | None:
        """The gap a table shows: the worst group's (largest relative epsilon, else epsilon), equilibrium gaps
        before optimality ones; a game is as far from equilibrium as its most tempted group."""
        for kind in ("equilibrium", "optimality"):
            gaps = [g for g in self.gaps if g.kind == kind]
            if gaps:
                return max(
                    gaps,
                    key=lambda g: (
                        g.relative if g.relative is not None and math.isfinite(g.relative) else -math.inf,
                        g.value if math.isfinite(g.value) else -math.inf,
                    ),
                )
        return None

    def key(self) -> str:
        """Identity of an entry: same task definition, method, policy and protocol means the same entry."""
        return entry_key(
            self.task.id,
            self.task.fingerprint,
            self.method,
            self.policy,
            self.seeds,
            self.episodes_per_seed,
            self.backend,
        )


def entry_key(
    task_id: str, fingerprint: str, method: str, policy: str, seeds: list[int], episodes: int, backend: str
) -> str:
    """Known before anything is measured, so a resumed run can skip what it already stored."""
    ident = [task_id, fingerprint, method, policy, list(seeds), int(episodes), backend]
    return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:20]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def parse_result(data: bytes | str | dict[str, Any]) -> Result:
    """Validate raw JSON (or a dict) into a :class:`Result`; raises ``ValueError`` with a readable message."""
    if isinstance(data, (bytes, str)):
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"result file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
        if isinstance(data, bytes):
            try:
                data = data.decode(json.detect_encoding(data))
            except UnicodeDecodeError as exc:
                raise ValueError(f"not valid JSON: undecodable text ({exc.reason} at byte {exc.start})") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ValueError(f"not a result: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("a result file holds one JSON object")
    from pydantic import ValidationError

    try:
        return Result.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()[:10])
        raise ValueError(f"malformed result: {problems}") from None
