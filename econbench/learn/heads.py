"""Multi-head masked categorical actions (RBC's consumers: 12 heads; RICE's regions: 138) with a hand-written
gradient.

Every head is a softmax over its own slice of one flat row of logits. Heads
of equal width that follow each other form a strided ``(rows, heads, width)``
view, so nothing is padded to the widest head or gathered. The work is
elementwise over every logit of every row (RICE: 1,164 per region), so the
cost is the number of passes over that array: autograd of the plain formula
makes about twenty, and :class:`HeadLogProb`'s backward two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

FORBIDDEN = -6.0e4  # added to the logit of a masked-out choice (representable in float16, far below any logit)
# Shifted logits are clamped here before exp(): below float32's normal range (about -87.3) exp() takes a slow
# path on the CPU (10x, on every forbidden entry), and the backward's p * grad would be subnormal, which slows the
# next matmul 20x. A choice this far below its head's best has probability under 2e-22, and a forbidden one is
# never drawn (Gumbel noise in float32 stays under 17).
FLOOR = -50.0

Runs = tuple[tuple[int, int, int], ...]


def equal_width_runs(nvec: Sequence[int]) -> Runs:
    """(first logit, heads, width) of each run of consecutive heads with the same number of choices."""
    runs: list[list[int]] = []
    at = 0
    for n in nvec:
        if runs and runs[-1][2] == n:
            runs[-1][1] += 1
        else:
            runs.append([at, 1, int(n)])
        at += int(n)
    return tuple((a, h, w) for a, h, w in runs)


def mask_bias(mask: torch.Tensor) -> torch.Tensor:
    """An action mask as the float16 term added to the logits: 0 where allowed, ``FORBIDDEN`` where not.

    Added rather than selected (``where``): one pass instead of two, and half
    the memory of a float32 mask in the rollout buffer.
    """
    return (~mask).to(torch.float16) * FORBIDDEN


def _log_softmax(z: torch.Tensor, runs: Runs) -> list[torch.Tensor]:
    """Each run's log-probabilities, ``(..., heads, width)``; the best allowed choice of a head shifted to 0."""
    out = []
    for first, heads, width in runs:
        zr = z[..., first : first + heads * width].unflatten(-1, (heads, width))
        zs = (zr - zr.amax(-1, keepdim=True)).clamp_min_(FLOOR)
        out.append(zs.sub_(zs.exp().sum(-1, keepdim=True).log_()))
    return out


def _split(action: torch.Tensor, runs: Runs) -> list[torch.Tensor]:
    at, out = 0, []
    for _, heads, _ in runs:
        out.append(action[..., at : at + heads])
        at += heads
    return out


def sample(
    z: torch.Tensor, runs: Runs, deterministic: bool = False, entropy: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Draw (or take the mode of) every head, without gradient: the action, its log-probability, the entropy."""
    with torch.no_grad():
        parts, logp, ent = [], 0.0, 0.0
        for lp in _log_softmax(z, runs):
            if deterministic:
                a = lp.argmax(-1)
            else:  # Gumbel-max: one draw per head, no per-head distribution objects
                u = torch.rand_like(lp).clamp_(1e-20, 1.0)
                a = (lp - u.log_().neg_().log_()).argmax(-1)
            parts.append(a)
            logp = logp + lp.gather(-1, a.unsqueeze(-1)).sum((-2, -1))
            if entropy:
                ent = ent - (lp.exp() * lp).sum((-2, -1))
        action = parts[0] if len(parts) == 1 else torch.cat(parts, -1)
    return action, logp, ent if entropy else None  # type: ignore[return-value]


class HeadLogProb(torch.autograd.Function):
    """``(log-probability, entropy)`` of ``action``, each summed over the heads, from biased logits ``z``.

    Backward, per head: d logp / dz_j = 1[j = a] - p_j and
    d H / dz_j = -p_j (log p_j + H). ``entropy=False`` skips the entropy
    (zeros, with no gradient): three passes fewer where the loss has no
    entropy bonus.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, z: torch.Tensor, action: torch.Tensor, runs: Runs, entropy: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lps, actions = _log_softmax(z.detach(), runs), _split(action, runs)
        logp: Any = 0.0
        ent: Any = 0.0
        ents = []
        for lp, a in zip(lps, actions):
            logp = logp + lp.gather(-1, a.unsqueeze(-1)).sum((-2, -1))
            if entropy:
                h = -(lp.exp() * lp).sum(-1)
                ents.append(h)
                ent = ent + h.sum(-1)
        if not entropy:
            ent = torch.zeros_like(logp)
            ctx.mark_non_differentiable(ent)
        ctx.runs, ctx.entropy = runs, entropy
        ctx.save_for_backward(*lps, *ents, action)
        ctx.set_materialize_grads(False)
        return logp, ent

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, g_logp: torch.Tensor | None, g_ent: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, None, None, None]:
        n = len(ctx.runs)
        saved = ctx.saved_tensors
        lps, actions = saved[:n], _split(saved[-1], ctx.runs)
        ents = saved[n:-1] if ctx.entropy else [None] * n
        if not ctx.entropy:
            g_ent = None
        if g_logp is None and g_ent is None:
            return None, None, None, None
        parts = []
        for lp, h, a in zip(lps, ents, actions):
            p = lp.exp()
            if g_ent is not None:  # -p_j (g_logp + g_ent (log p_j + H))
                t = (lp + h.unsqueeze(-1)).mul_(g_ent[..., None, None])
                if g_logp is not None:
                    t.add_(g_logp[..., None, None])
                grad = p.mul_(t).neg_()
            else:
                grad = p.mul_(-g_logp[..., None, None])  # type: ignore[index]
            if g_logp is not None:
                grad.scatter_add_(-1, a.unsqueeze(-1), g_logp[..., None, None].expand(*a.shape, 1).contiguous())
            parts.append(grad.flatten(-2))
        return (parts[0] if n == 1 else torch.cat(parts, -1)), None, None, None
