"""A five-number saving rule for planners with one good per household: the bar where no V* exists.

Household i spends the share ``s_ss exp(b . f_i)`` of its output, with
``f_i = [1, log(K_i/K_ss), 1{z_i high}, 1{z_agg high}, log(mean K/K_ss)]``,
clipped to the action's bounds. ``b = 0`` is constant saving.
``baselines/planner_rule.py --ship`` tunes ``b`` for an exercise's economy and
writes it to ``rules/<exercise>.json`` with every parameter of that economy; the
rule is then the named policy ``tuned_rule`` of exactly the tasks with those
parameters (``CapitalGoods-Planner-4-v0``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from econbench.backend import Backend
from econbench.core import Array, GroupPolicy, PolicyFactory, Task
from econbench.envs.capital_goods.params import CapitalParams
from econbench.policies.shipped import params_record

RULES_DIR = Path(__file__).parent / "rules"
FEATURES = ("1", "log(K_i/K_ss)", "1{z_i high}", "1{z_agg high}", "log(mean K/K_ss)")


def features(xp: Any, p: CapitalParams, obs: Array) -> Array:
    """``(envs, households, 5)`` from the planner's observation ``(envs, 1, K_1..K_n, z_1..z_n, z_agg)``."""
    n = p.n_households
    o = obs[:, 0]
    k, zi, za = o[:, :n], o[:, n : 2 * n], o[:, 2 * n : 2 * n + 1]
    ones = xp.ones_like(k)
    cols = [
        ones,
        xp.log(k / p.k_ss),
        xp.astype(zi >= p.z_idio[1], k.dtype),
        ones * xp.astype(za >= p.z_agg[1], k.dtype),
        ones * xp.log(xp.mean(k, axis=1, keepdims=True) / p.k_ss),
    ]
    return xp.stack(cols, axis=-1)


class ShareRule:
    """The planner's shares from :func:`features` and coefficients ``b``, on any backend."""

    def __init__(self, p: CapitalParams, b: Any, backend: Backend) -> None:
        if p.n_capital != 1:
            raise ValueError(f"the share rule sets one share per household: n_capital must be 1, got {p.n_capital}")
        self.p, self.backend = p, backend
        self.b = backend.asarray([float(x) for x in b])

    def __call__(self, obs: Array) -> Array:
        xp, p = self.backend.xp, self.p
        share = p.saving_ss * xp.exp(xp.sum(features(xp, p, obs) * self.b, axis=-1))
        return xp.clip(share, 0.0, p.max_saving)[:, None, :]


def _build(b: list[float], task: Task, backend: Backend) -> dict[str, GroupPolicy]:
    return {"planner": ShareRule(task.params, b, backend)}


def write(name: str, p: CapitalParams, b: list[float], provenance: dict[str, Any]) -> Path:
    """``rules/<name>.json``: the coefficients, the economy they were tuned for, and how."""
    RULES_DIR.mkdir(exist_ok=True)
    path = RULES_DIR / f"{name}.json"
    record = {"features": list(FEATURES), "coefficients": list(b), "params": params_record(p), **provenance}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def tuned(p: CapitalParams, group: str) -> dict[str, PolicyFactory]:
    """``tuned_rule`` where a rule was tuned for exactly this planner economy."""
    if group != "planner" or not RULES_DIR.is_dir():
        return {}
    want = params_record(p)
    for path in sorted(RULES_DIR.glob("*.json")):
        record = _record(path, path.stat().st_mtime_ns)
        if record["params"] == want:
            return {"tuned_rule": functools.partial(_build, record["coefficients"])}
    return {}


@functools.cache
def _record(path: Path, stamp: int) -> dict[str, Any]:
    """A rule file, read once per version (``stamp``: its mtime): every planner task built looks them up."""
    return json.loads(path.read_text())
