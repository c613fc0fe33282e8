"""A group's observations as column blocks, the blocks every agent of an economy sees stored once.

Many tasks show each agent the same public state (the climate and every region's economy, prices and tax
rates) beside a few columns of its own. Written out per agent, the public columns are most of a step's bytes
(RICE: 97 % of them) and a large batch steps at the speed of writing them to memory. ``BatchedEnv(obs_blocks=
True)`` hands a consumer that can use them (a network whose first layer is split by block computes the public
block's share once per economy) the blocks themselves; everyone else gets the flat array :meth:`ObsBlocks.
assemble` writes from the same blocks, so the two views cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Array = Any
WIDE_ROW_BYTES = 1024  # see ObsBlocks.assemble: RICE's 4 KB rows are written first, RBC's 344-byte rows concatenated


@dataclass(frozen=True)
class ObsBlocks:
    """``parts``: arrays ``(n_envs, n_agents or 1, width)`` whose concatenation along the last axis is the flat
    observation; a part with one row on the agent axis is shared by every agent of its economy."""

    parts: tuple[Array, ...]
    n_agents: int

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError("ObsBlocks needs at least one part")
        n_envs = self.parts[0].shape[0]
        for p in self.parts:
            if len(p.shape) != 3 or p.shape[0] != n_envs or p.shape[1] not in (1, self.n_agents):
                raise ValueError(
                    f"each part must be (n_envs={n_envs}, 1 or n_agents={self.n_agents}, width), got {tuple(p.shape)}"
                )

    @classmethod
    def of(cls, flat: Array) -> ObsBlocks:
        """A flat ``(n_envs, n_agents, dim)`` array as one per-agent block."""
        return cls((flat,), int(flat.shape[1]))

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(int(p.shape[2]) for p in self.parts)

    @property
    def shared(self) -> tuple[bool, ...]:
        """Which parts every agent of an economy shares (stored once per economy)."""
        return tuple(p.shape[1] == 1 and self.n_agents > 1 for p in self.parts)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.parts[0].shape[0]), self.n_agents, sum(self.widths))

    @property
    def dtype(self) -> Any:
        return self.parts[0].dtype

    def assemble(self, xp: Any, device: Any = None) -> Array:
        """The flat observations: one concatenation of the parts broadcast over the agents, or, where a part has
        wide rows, that part written into place first and the others after it.

        RICE's public block (4 KB a row) written first touches each page of a fresh allocation in one sequential
        pass: 22 ms against 28 concatenated at 1,024 economies. RBC's rows (344 bytes) concatenate fastest: 4.3 ms
        against 4.5 written part by part.
        """
        E, A, D = self.shape
        row = [w * _itemsize(self.dtype) for w in self.widths]
        if max(row) < WIDE_ROW_BYTES:
            return xp.concat([xp.broadcast_to(p, (E, A, w)) for p, w in zip(self.parts, self.widths)], axis=2)
        out = xp.empty((E, A, D), dtype=self.dtype, device=device)
        starts = [0, *_cumsum(self.widths)][:-1]
        for i in sorted(range(len(self.parts)), key=lambda i: (row[i] < WIDE_ROW_BYTES, i)):
            out[..., starts[i] : starts[i] + self.widths[i]] = self.parts[i]
        return out


def _itemsize(dtype: Any) -> int:
    size = getattr(dtype, "itemsize", None)  # NumPy and CuPy dtypes; torch's
    return int(size) if size is not None else 8


def _cumsum(xs: tuple[int, ...]) -> list[int]:
    out, total = [], 0
    for x in xs:
        total += x
        out.append(total)
    return out


def assemble_all(obs: Mapping[str, Any], xp: Any, device: Any = None) -> dict[str, Array]:
    """Every group's flat observations (groups given as arrays pass unchanged)."""
    return {k: v.assemble(xp, device) if isinstance(v, ObsBlocks) else v for k, v in obs.items()}


def as_blocks(obs: Mapping[str, Any]) -> dict[str, ObsBlocks]:
    """Every group as :class:`ObsBlocks` (a flat array becomes one per-agent block)."""
    return {k: v if isinstance(v, ObsBlocks) else ObsBlocks.of(v) for k, v in obs.items()}
