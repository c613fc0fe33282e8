"""Training curricula declared in task cards: which groups learn when, and what is annealed.

Learning a many-agent economy from scratch can fail in ways a curriculum
avoids (the RBC paper: firms that learn before consumers do raise prices and
cut wages until nobody works). A card's ``[curriculum.<name>]`` table gives the
schedule in the source's own unit, the *iteration*, and how many env-steps one
iteration is; a trainer asks :meth:`Curriculum.at` where it stands and applies
the answer: the groups to update, task-parameter overrides (action-mask
progress, coefficients being annealed) and each group's entropy weight.

A shorter run can compress the schedule (:meth:`Curriculum.compressed`), which
keeps its shape: stage boundaries and annealing lengths shrink together.

Card layout::

    [curriculum]
    default = "short"
    [curriculum.short]
    iterations = 200000            # the schedule's length
    iteration_env_steps = 1280     # env-steps in one iteration (128 economies x 10 steps)
    stages = [{ start = 0, learn = ["consumers"] }, { start = 30000, learn = ["consumers", "firms"] }]
    [curriculum.short.anneal]
    theta_anneal_factor = { shape = "exp_rise", start = 0, length = 10000 }
    firm_mask_progress = { shape = "linear", start = 0, length = 30000 }
    [curriculum.short.entropy]
    coef = 0.5                     # at the start of a group's training
    floor = 0.1                    # fraction of coef it decays to
    length = 10000                 # e-folding length, restarted when a group starts learning
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SHAPES = ("linear", "exp_rise", "step")


class CurriculumError(ValueError):
    """A malformed curriculum table in a card; the message names the key."""


@dataclass(frozen=True)
class Stage:
    start: float
    learn: tuple[str, ...]


@dataclass(frozen=True)
class Anneal:
    """One task parameter as a function of the iteration ``n``.

    ``linear``: ``lo + (hi - lo) * clip((n - start) / length, 0, 1)`` (``hi``
    may exceed 1 in progress units; values past the end hold ``hi``);
    ``exp_rise``: ``lo + (hi - lo) * (1 - exp(-(n - start) / length))``;
    ``step``: ``lo`` before ``start``, ``hi`` from it.
    """

    param: str
    shape: str
    start: float
    length: float
    lo: float = 0.0
    hi: float = 1.0

    def value(self, n: float) -> float:
        s = max(n - self.start, 0.0)
        if self.shape == "step":
            return self.hi if n >= self.start else self.lo
        if self.shape == "linear":
            frac = min(s / self.length, 1.0) if self.length > 0 else 1.0
        else:
            frac = 1.0 - math.exp(-s / self.length) if self.length > 0 else 1.0
        return self.lo + (self.hi - self.lo) * frac


@dataclass(frozen=True)
class Entropy:
    """``coef * max(exp(-(n - n_start) / length), floor)``, ``n_start`` = when the group starts learning."""

    coef: float
    floor: float
    length: float

    def value(self, n: float, n_start: float) -> float:
        s = max(n - n_start, 0.0)
        return self.coef * max(math.exp(-s / self.length) if self.length > 0 else 0.0, self.floor)


@dataclass(frozen=True)
class Point:
    """Where a run stands: iteration, the groups that learn, parameter overrides, entropy weights."""

    iteration: float
    learn: tuple[str, ...]
    params: dict[str, float]
    entropy: dict[str, float]


@dataclass(frozen=True)
class Curriculum:
    name: str
    iterations: float
    iteration_env_steps: int
    stages: tuple[Stage, ...]
    anneals: tuple[Anneal, ...] = ()
    entropy: Entropy | None = None
    source: str = ""

    def stage(self, n: float) -> Stage:
        current = self.stages[0]
        for st in self.stages:
            if n >= st.start:
                current = st
        return current

    def learn_start(self, group: str) -> float | None:
        """The first iteration at which ``group`` learns (``None``: never)."""
        for st in self.stages:
            if group in st.learn:
                return st.start
        return None

    def at(self, n: float) -> Point:
        st = self.stage(n)
        params = {a.param: a.value(n) for a in self.anneals}
        entropy = {}
        if self.entropy is not None:
            for g in st.learn:
                start = self.learn_start(g)
                entropy[g] = self.entropy.value(n, 0.0 if start is None else start)
        return Point(n, st.learn, params, entropy)

    def iteration_at(self, env_steps: int, total_env_steps: int | None = None) -> float:
        """The iteration reached after ``env_steps``: the source's pace, or the whole schedule spread over a run."""
        if total_env_steps is None:
            return env_steps / self.iteration_env_steps
        return self.iterations * env_steps / max(total_env_steps, 1)

    def compressed(self, factor: float) -> Curriculum:
        """The same shape over ``iterations / factor``: every start and length divided by ``factor``."""
        if factor <= 0:
            raise CurriculumError(f"compression factor must be positive, got {factor}")
        return dataclasses.replace(
            self,
            iterations=self.iterations / factor,
            stages=tuple(dataclasses.replace(s, start=s.start / factor) for s in self.stages),
            anneals=tuple(
                dataclasses.replace(a, start=a.start / factor, length=a.length / factor) for a in self.anneals
            ),
            entropy=None
            if self.entropy is None
            else dataclasses.replace(self.entropy, length=self.entropy.length / factor),
        )


def _number(table: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CurriculumError(f"{where}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def parse(name: str, table: Mapping[str, Any], groups: Sequence[str], params: Sequence[str]) -> Curriculum:
    """Validate one ``[curriculum.<name>]`` table against the task's groups and parameter names."""
    where = f"curriculum {name!r}"
    stages_raw = table.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise CurriculumError(f"{where}: 'stages' must be a non-empty list of {{start, learn}} tables")
    stages = []
    for i, st in enumerate(stages_raw):
        learn = st.get("learn") if isinstance(st, Mapping) else None
        if not isinstance(learn, list) or not all(isinstance(g, str) for g in learn):
            raise CurriculumError(f"{where}: stage {i} needs 'learn', a list of group names")
        unknown = sorted(set(learn) - set(groups))
        if unknown:
            raise CurriculumError(f"{where}: stage {i} names unknown group(s) {unknown}; groups: {list(groups)}")
        stages.append(Stage(_number(st, "start", f"{where} stage {i}"), tuple(learn)))
    if stages[0].start != 0 or any(b.start <= a.start for a, b in zip(stages, stages[1:])):
        raise CurriculumError(f"{where}: stage starts must begin at 0 and increase")
    anneals = []
    for param, spec in dict(table.get("anneal", {})).items():
        if param not in params:
            raise CurriculumError(f"{where}: anneals unknown parameter {param!r}")
        if not isinstance(spec, Mapping) or spec.get("shape") not in SHAPES:
            raise CurriculumError(f"{where}: anneal {param!r} needs shape one of {SHAPES}")
        w = f"{where} anneal {param!r}"
        anneals.append(
            Anneal(
                param,
                spec["shape"],
                _number(spec, "start", w, 0.0),
                _number(spec, "length", w, 0.0),
                _number(spec, "lo", w, 0.0),
                _number(spec, "hi", w, 1.0),
            )
        )
    entropy = None
    if "entropy" in table:
        e, w = table["entropy"], f"{where} entropy"
        entropy = Entropy(_number(e, "coef", w), _number(e, "floor", w, 0.0), _number(e, "length", w))
    iterations = _number(table, "iterations", where)
    steps = int(_number(table, "iteration_env_steps", where))
    if iterations <= 0 or steps <= 0:
        raise CurriculumError(f"{where}: 'iterations' and 'iteration_env_steps' must be positive")
    return Curriculum(name, iterations, steps, tuple(stages), tuple(anneals), entropy, str(table.get("source", "")))


def names(card: Mapping[str, Any]) -> list[str]:
    return sorted(k for k, v in card.get("curriculum", {}).items() if isinstance(v, Mapping))


def from_task(task: Any, name: str | None = None) -> Curriculum | None:
    """The task's curriculum ``name`` (default: the card's ``default``); ``None`` if the card has none."""
    section = task.card.get("curriculum")
    if not section:
        if name:
            raise CurriculumError(f"{task.name} has no curriculum (asked for {name!r})")
        return None
    name = name or section.get("default")
    available = names(task.card)
    if name not in available:
        raise CurriculumError(f"{task.name} has no curriculum {name!r}; curricula: {available}")
    fields = [f.name for f in dataclasses.fields(task.params)] if dataclasses.is_dataclass(task.params) else []
    return parse(name, section[name], [g.name for g in task.groups], fields)


def apply(env: Any, point: Point) -> None:
    """Give a running :class:`~econbench.core.BatchedEnv` the point's parameters.

    Masks and other constants take effect at the next step; anything the
    dynamics set at reset (RBC's annealed labour disutility) at the next reset
    of each economy, as upstream's kernel does. The state is kept.
    """
    if not point.params:
        return
    task = env.task
    current = {k: getattr(task.params, k) for k in point.params}
    if current == point.params:
        return
    new_task = dataclasses.replace(task, params=dataclasses.replace(task.params, **point.params))
    env.task = new_task
    env.dynamics = new_task.dynamics(new_task.params, env.backend)


def set_curriculum(env: Any, iteration: float, name: str | None = None) -> Point:
    """Move a running :class:`~econbench.core.BatchedEnv` to ``iteration`` of its task's curriculum ``name``.

    What the Gymnasium, vector and PettingZoo adapters' ``set_curriculum``
    call; returns the point so a trainer also learns which groups to update
    and the entropy weights.
    """
    cur = from_task(env.task, name)
    if cur is None:
        raise CurriculumError(f"{env.task.name} declares no curriculum in its card")
    point = cur.at(float(iteration))
    apply(env, point)
    return point
