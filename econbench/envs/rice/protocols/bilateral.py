"""RICE-N's bilateral minimum-mitigation protocol (white paper section 4.3; rice.py proposal_step, evaluation_step).

Stage 1: region i promises a mitigation rate to each j and requests one from
j. Stage 2: i accepts or rejects each j's proposal. i's minimum mitigation
is the largest of its promises that were accepted and of the requests it
accepted; the mask then forbids lower mitigation levels until the next round.
"""

from __future__ import annotations

import numpy as np

from econbench.core import Array
from econbench.envs.rice.protocols.base import Protocol


class Bilateral(Protocol):
    name = "bilateral"
    n_stages = 2

    @property
    def off_diag(self) -> Array:
        if not hasattr(self, "_off_diag"):
            self._off_diag = self.backend.asarray(1.0 - np.eye(self.N))
        return self._off_diag

    def heads(self) -> tuple[int, ...]:
        # per partner j: (promise, request) interleaved, then one accept/reject per partner
        return (self.p.action_levels,) * (2 * self.N) + (2,) * self.N

    def width(self) -> int:
        return 3 * self.N  # promised[i, :], requested[i, :], decisions[i, :]

    def negotiate(self, stage: int, agreements: Array, min_mitigation: Array, actions: Array) -> tuple[Array, Array]:
        xp, N, L = self.xp, self.N, float(self.p.action_levels)
        a = xp.astype(actions, agreements.dtype)
        if stage == 1:
            promised = a[..., 0 : 2 * N : 2] / L
            requested = a[..., 1 : 2 * N : 2] / L
            return xp.concat([promised, requested, agreements[..., 2 * N :]], axis=-1), min_mitigation
        decisions = a[..., 2 * N : 3 * N] * self.off_diag  # [evaluator i, proposer j]
        promised, requested = agreements[..., :N], agreements[..., N : 2 * N]
        dec_t = xp.permute_dims(decisions, (0, 2, 1))
        # i's promises that j accepted, and j's requests of i that i accepted
        accepted_promises = promised * dec_t
        accepted_requests = xp.permute_dims(requested, (0, 2, 1)) * decisions
        minimum = xp.max(xp.maximum(accepted_promises, accepted_requests), axis=-1)
        return xp.concat([promised, requested, decisions], axis=-1), minimum

    def features(self, agreements: Array) -> list[Array]:
        """Promised row and column, requested row and column, decisions row and column (rice.py order)."""
        xp, N = self.xp, self.N
        blocks = []
        for k in range(3):
            m = agreements[..., k * N : (k + 1) * N]
            blocks += [m, xp.permute_dims(m, (0, 2, 1))]
        return blocks

    def n_features(self) -> int:
        return 6 * self.N

    def fixed_rule(self, act: Array, plan: Array, obs: Array, offsets: dict[str, int]) -> Array:
        """Promise the own plan to every partner, ask the same of them, accept every proposal."""
        B, N = self.p.base_heads, self.N
        act[..., B : B + 2 * N : 2] = plan[..., None]
        act[..., B + 1 : B + 2 * N : 2] = plan[..., None]
        act[..., B + 2 * N : B + 3 * N] = 1
        return act
