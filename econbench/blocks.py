"""Large batches stepped in cache-sized blocks of economies.

A dynamics step over a whole batch makes each elementwise temporary as large as the batch: past a few megabytes
they fall out of the caches, and every operation runs at the speed of main memory (RICE's bilateral observations
alone are over 100 MB a step at 1,024 economies). Economies are independent, so ``BatchedEnv`` can run the same
pure functions on slices of the batch and join the results: the temporaries of one block stay in cache and only
the joined outputs reach memory. The shocks are drawn for the whole batch first, so a blocked step returns what
the whole-batch step returns (to the rounding of BLAS, which may sum a block's rows in another order).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

# Per block: observations, masks, rewards and state of its economies (BatchedEnv's estimate). The capital-goods
# economies ran fastest with blocks of 4.8-5.4 MB by that estimate (100 households: 16 economies; the 10 x 10
# planner: 512; the market: 4,096).
BLOCK_BYTES = 4 * 2**20


def block_size(n_envs: int, bytes_per_economy: float, target: float = BLOCK_BYTES) -> int:
    """Economies per block: as many as fit ``target`` bytes (at least 1, at most the batch)."""
    return max(1, min(n_envs, int(target // max(bytes_per_economy, 1.0))))


def blocks(n_envs: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n_envs)) for i in range(0, n_envs, size)]


def take(tree: Any, s: slice, n_envs: int) -> Any:
    """The economies ``s`` of every array in ``tree`` (dicts, tuples, lists, dataclasses, arrays; views, not copies).

    Arrays whose first axis is not the economies' pass whole; :func:`splittable` says whether a tree has any.
    """
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: take(v, s, n_envs) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(take(v, s, n_envs) for v in tree)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return dataclasses.replace(tree, **{f.name: take(getattr(tree, f.name), s, n_envs) for f in _fields(tree)})
    shape = getattr(tree, "shape", None)
    return tree[s] if shape and shape[0] == n_envs else tree


def splittable(tree: Any, n_envs: int) -> bool:
    """Every array of ``tree`` has the economies as its first axis (scalars and None aside)."""
    if tree is None:
        return True
    if isinstance(tree, dict):
        return all(splittable(v, n_envs) for v in tree.values())
    if isinstance(tree, (tuple, list)):
        return all(splittable(v, n_envs) for v in tree)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return all(splittable(getattr(tree, f.name), n_envs) for f in _fields(tree))
    shape = getattr(tree, "shape", None)
    return shape is None or (len(shape) > 0 and shape[0] == n_envs)


def run(fn: Callable[[slice], Any], n_envs: int, size: int, xp: Any) -> Any:
    """``fn`` over each block of economies, its results written into whole-batch arrays as each block ends.

    Each block's results are copied while they are still in cache, into arrays allocated once at the first
    block (a concatenation at the end would read every block back from memory). Arrays whose first axis is not
    the block's economies, and scalars, are taken from the first block.
    """
    out = None
    for s in blocks(n_envs, size):
        part = fn(s)
        if out is None:
            out = _allocate(part, s.stop - s.start, n_envs, xp)
        _fill(out, part, s)
    return out


def _allocate(tree: Any, rows: int, n_envs: int, xp: Any) -> Any:
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: _allocate(v, rows, n_envs, xp) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_allocate(v, rows, n_envs, xp) for v in tree)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return dataclasses.replace(
            tree, **{f.name: _allocate(getattr(tree, f.name), rows, n_envs, xp) for f in _fields(tree)}
        )
    shape = getattr(tree, "shape", None)
    if not shape or shape[0] != rows:
        return tree
    return xp.empty((n_envs, *shape[1:]), dtype=tree.dtype)


def _fill(out: Any, part: Any, s: slice) -> None:
    if part is None:
        return
    if isinstance(part, dict):
        for k, v in part.items():
            _fill(out[k], v, s)
    elif isinstance(part, (tuple, list)):
        for o, v in zip(out, part):
            _fill(o, v, s)
    elif dataclasses.is_dataclass(part) and not isinstance(part, type):
        for f in _fields(part):
            _fill(getattr(out, f.name), getattr(part, f.name), s)
    elif out is not part and getattr(part, "shape", None):
        out[s] = part


def _fields(x: Any) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(x) if f.init]
