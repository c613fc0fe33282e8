"""A climate club (Nordhaus 2015, "Climate Clubs: Overcoming Free-Riding in International Climate Policy").

One stage before each climate-economy step: every region says whether it
joins. If at least ``club_min_members`` join, members must mitigate at least
``club_min_mitigation`` and levy the common ``club_tariff`` on imports from
non-members (and, with ``club_free_trade``, none on each other); both are
enforced through the action masks. Non-members are unconstrained. Membership
is decided anew each round and is public.
"""

from __future__ import annotations

from econbench.core import Array
from econbench.envs.rice.protocols.base import Protocol


class Club(Protocol):
    name = "club"
    n_stages = 1

    def heads(self) -> tuple[int, ...]:
        return (2,)  # join the club this round

    def width(self) -> int:
        return 1

    def _active_members(self, agreements: Array) -> Array:
        xp = self.xp
        members = agreements[..., 0]
        enough = xp.sum(members, axis=-1, keepdims=True) >= self.p.club_min_members
        return xp.where(enough, members, xp.zeros_like(members))

    def negotiate(self, stage: int, agreements: Array, min_mitigation: Array, actions: Array) -> tuple[Array, Array]:
        xp = self.xp
        joined = xp.astype(actions[..., 0:1], agreements.dtype)
        members = self._active_members(joined)
        return joined, members * self.p.club_min_mitigation

    def tariff_bounds(self, agreements: Array) -> tuple[Array, Array]:
        xp, p = self.xp, self.p
        m = self._active_members(agreements)
        member_i, member_j = m[:, :, None] > 0, m[:, None, :] > 0
        level = float(round(p.club_tariff * p.action_levels))
        top = float(p.rate_nvec - 1)
        outsiders = xp.astype(member_i & ~member_j, m.dtype)  # a member's tariff on a non-member: the club's
        free = xp.astype(member_i & member_j, m.dtype) * (1.0 if p.club_free_trade else 0.0)  # between members: 0
        lo = outsiders * level
        hi = lo + (1.0 - outsiders) * (1.0 - free) * top
        return lo, hi

    def features(self, agreements: Array) -> list[Array]:
        """Every region's membership this round (public)."""
        xp = self.xp
        joined = agreements[..., 0]
        E, N = joined.shape
        return [xp.broadcast_to(joined[:, None, :], (E, N, N))]

    def n_features(self) -> int:
        return self.N

    def fixed_rule(self, act: Array, plan: Array, obs: Array, offsets: dict[str, int]) -> Array:
        """Join when the plan meets the club's minimum; keep tariffs inside the band the club imposes."""
        xp, p, N = self.xp, self.p, self.N
        act[..., p.base_heads] = xp.astype(plan >= round(p.club_min_mitigation * p.action_levels), xp.int64)
        members = obs[:, 0, offsets["protocol"] : offsets["protocol"] + N][..., None]  # public: who joined
        lo, hi = self.tariff_bounds(members)
        act[..., 3 : 3 + N] = xp.clip(act[..., 3 : 3 + N], xp.astype(lo, xp.int64), xp.astype(hi, xp.int64))
        return act
