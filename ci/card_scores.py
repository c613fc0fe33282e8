"""Write a task card's ``[reference_scores.<policy>]`` tables for named policies the card does not list yet.

The cards publish what every named policy scores under their protocol, and
tests/api/test_card_scores.py re-evaluates them; when a task gains a named policy
(a shipped learned profile, say) its table comes from here:

    python ci/card_scores.py econbench/RBCTax-v0 econbench/RBCTax-Government-v0 [--policy NAME] [--replace]
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

from econbench import cards
from econbench.cards import cards_dir, load_card, short_name, toml_value
from econbench.metrics import equilibrium_gap, evaluate, optimality_gap
from econbench.registry import make_task


def entry(task_id: str, policy: str) -> dict[str, Any]:
    task = make_task(task_id)
    res = evaluate(task, policy)
    out: dict[str, Any] = {"score": float(res.mean), "ci95": [float(x) for x in res.ci]}
    if task.is_single_agent and "exact" in task.policies:
        gap = optimality_gap(task, policy)
        out["optimality_gap"] = gap.raw
        out["normalized_regret"] = gap.normalized
    if not task.is_single_agent:
        gaps = equilibrium_gap(task, policy)
        out["equilibrium_gap"] = {g.group: g.epsilon for g in gaps}
        out["equilibrium_gap_relative"] = {g.group: g.relative for g in gaps}
        out["gap_method"] = {g.group: g.method for g in gaps}
    return out


_TABLE = re.compile(r"^\[reference_scores\.[^\]]+\]\n(?:(?!\[)(?!# ).*\n)*", re.M)


def _insert(text: str, block: str) -> str:
    """After the card's last reference-score table: a generated block at the end of the card (the learned scores
    that ``cards.write_learned_block`` rewrites) must not swallow it."""
    last = None
    for last in _TABLE.finditer(text):
        pass
    if last is None:
        return text.rstrip("\n") + "\n" + block
    return text[: last.end()] + block + text[last.end() :]


def write(task_id: str, policies: Sequence[str] | None = None, replace: bool = False) -> list[str]:
    """Append (or with ``replace`` rewrite) the tables; returns the policies written."""
    path = cards_dir() / f"{short_name(task_id)}.toml"
    text = path.read_text()
    listed = load_card(task_id).get("reference_scores", {})
    names = list(policies) if policies else sorted(make_task(task_id).policies)
    todo = [n for n in names if replace or n not in listed]
    for name in todo:
        block = f"[reference_scores.{name}]\n" + "".join(
            f"{k} = {toml_value(v)}\n" for k, v in entry(task_id, name).items()
        )
        pattern = re.compile(rf"^\[reference_scores\.{re.escape(name)}\]\n(?:(?!\[).*\n)*", re.M)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else _insert(text, block)
        print(f"{task_id}: {name} -> {block.splitlines()[1]}")
    path.write_text(text)
    cards._raw.cache_clear()
    load_card.cache_clear()
    return todo


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tasks", nargs="+")
    p.add_argument("--policy", action="append", help="only these named policies (repeatable)")
    p.add_argument("--replace", action="store_true", help="re-measure policies the card already lists")
    a = p.parse_args(argv)
    for t in a.tasks:
        write(t, a.policy, a.replace)


if __name__ == "__main__":
    main()
