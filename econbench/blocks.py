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


def _map(fn: Callable[..., Any], tree: Any, *others: Any, rebuild: bool = True) -> Any:
    """``fn(leaf, *matching leaves of others)`` over the arrays and scalars of ``tree`` (dicts, tuples, lists,
    dataclasses): the tree rebuilt from the results, or (``rebuild=False``) only the calls. None stays None."""
    if tree is None:
        return None
    if isinstance(tree, dict):
        out = {k: _map(fn, v, *(o[k] for o in others), rebuild=rebuild) for k, v in tree.items()}
        return out if rebuild else None
    if isinstance(tree, (tuple, list)):
        items = [_map(fn, v, *o, rebuild=rebuild) for v, *o in zip(tree, *others)]
        return type(tree)(items) if rebuild else None
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        names = [f.name for f in dataclasses.fields(tree) if f.init]
        fields = {n: _map(fn, getattr(tree, n), *(getattr(o, n) for o in others), rebuild=rebuild) for n in names}
        return dataclasses.replace(tree, **fields) if rebuild else None
    return fn(tree, *others)


def leaves(tree: Any) -> list[Any]:
    """The arrays and scalars of ``tree``, depth first."""
    found: list[Any] = []
    _map(found.append, tree, rebuild=False)
    return found


def take(tree: Any, s: slice, n_envs: int) -> Any:
    """The economies ``s`` of every array in ``tree`` (dicts, tuples, lists, dataclasses, arrays; views, not copies).

    Arrays whose first axis is not the economies' pass whole; :func:`splittable` says whether a tree has any.
    """

    def part(x: Any) -> Any:
        shape = getattr(x, "shape", None)
        return x[s] if shape and shape[0] == n_envs else x

    return _map(part, tree)


def splittable(tree: Any, n_envs: int) -> bool:
    """Every array of ``tree`` has the economies as its first axis (scalars and None aside)."""
    shapes = [getattr(x, "shape", None) for x in leaves(tree) if x is not None]
    return all(shape is None or (len(shape) > 0 and shape[0] == n_envs) for shape in shapes)


def run(fn: Callable[[slice], Any], n_envs: int, size: int, xp: Any) -> Any:
    """``fn`` over each block of economies, its results written into whole-batch arrays as each block ends.

    Each block's results are copied while they are still in cache, into arrays allocated once at the first
    block (a concatenation at the end would read every block back from memory). Arrays whose first axis is not
    the block's economies, and scalars, are taken from the first block.
    """
    out = None
    for s in blocks(n_envs, size):
        part = fn(s)
        rows = s.stop - s.start
        if out is None:

            def allocate(x: Any) -> Any:
                shape = getattr(x, "shape", None)
                return xp.empty((n_envs, *shape[1:]), dtype=x.dtype) if shape and shape[0] == rows else x

            out = _map(allocate, part)

        def fill(o: Any, x: Any) -> None:
            if o is not x and getattr(x, "shape", None):
                o[s] = x

        _map(fill, out, part, rebuild=False)
    return out
