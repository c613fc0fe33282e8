"""The shared-parameter actor-critic: one network per agent group, its observation normaliser, and the mapping of
its outputs onto the task's actions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal

from econbench.core import DiscreteSpec, GroupSpec


class RunningNorm(nn.Module):
    """Running mean and variance (Chan et al.), kept in the checkpoint."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, x: torch.Tensor) -> None:
        x = x.reshape(-1, *self.mean.shape).double()
        b_mean, b_var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta, total = b_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + b_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """In float32: the statistics are float64, but a batch of wide observations (RICE: 1,207 features for
        every region of every economy) would otherwise be converted and processed in float64 several times."""
        shift, scale = self.mean.float(), torch.rsqrt(self.var + 1e-8).float()
        return ((x.float() - shift) * scale).clamp_(-10, 10)


def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
FORBIDDEN = -1e8  # logit of a masked-out or padding choice


class GroupAgent(nn.Module):
    """Actor-critic shared by every agent of one group: own observation in, own action out."""

    def __init__(self, g: GroupSpec, hidden: int, log_std_init: float, activation: str = "tanh") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise SystemExit(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        act = ACTIVATIONS[activation]
        obs_dim = int(np.prod(g.observation.shape))
        self.discrete = isinstance(g.action, DiscreteSpec)
        self.nvec = list(g.action.nvec) if self.discrete else []
        out = sum(self.nvec) if self.discrete else int(np.prod(g.action.shape))
        self.obs_norm = RunningNorm((obs_dim,))
        self.ret_norm = RunningNorm(())
        self.critic = nn.Sequential(layer(obs_dim, hidden), act(), layer(hidden, hidden), act(), layer(hidden, 1, 1.0))
        self.actor = nn.Sequential(
            layer(obs_dim, hidden), act(), layer(hidden, hidden), act(), layer(hidden, out, 0.01)
        )
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((out,), log_std_init))
        else:  # where each (head, choice) sits in the flat logits; out-of-range choices point at the pad column
            widest, offsets = max(self.nvec), np.cumsum([0, *self.nvec[:-1]])
            index = [[o + k if k < n else out for k in range(widest)] for o, n in zip(offsets, self.nvec)]
            self.register_buffer("head_index", torch.tensor(index, dtype=torch.long), persistent=False)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def head_logits(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Masked logits of every head as one ``(rows, heads, widest)`` tensor, short heads padded.

        One log-softmax over the padded tensor replaces a Categorical per head:
        with 12 consumer heads that is most of the rollout's time otherwise.
        Forbidden and padding entries get a large finite negative logit, so
        their probability is 0 and ``p log p`` stays 0 (not NaN).
        """
        out = self.actor(x)
        if mask is not None:
            out = torch.where(mask, out, torch.full_like(out, FORBIDDEN))
        pad = torch.full((*out.shape[:-1], 1), FORBIDDEN, dtype=out.dtype, device=out.device)
        return torch.cat([out, pad], -1)[..., self.head_index]

    def act(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        action: torch.Tensor | None = None,
        deterministic: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if not self.discrete:
            d = Normal(self.actor(x), self.log_std.exp())
            if action is None:
                action = d.mean if deterministic else d.sample()
            return action, d.log_prob(action).sum(-1), d.entropy().sum(-1)
        logits = self.head_logits(x, mask)
        logp_all = logits - logits.logsumexp(-1, keepdim=True)  # log_softmax, twice as fast on 11-wide heads on CPU
        if action is None:
            if deterministic:
                action = logits.argmax(-1)
            else:  # Gumbel-max: one draw per head, no per-head distribution objects
                u = torch.rand_like(logits).clamp_(1e-20, 1.0)
                action = (logits - torch.log(-torch.log(u))).argmax(-1)
        logp = logp_all.gather(-1, action.unsqueeze(-1)).squeeze(-1).sum(-1)
        ent = -(logp_all.exp() * logp_all).sum(-1).sum(-1)
        return action, logp, ent


def to_env_action(g: GroupSpec, a: torch.Tensor, host: bool = True) -> Any:
    """Network actions to the task's: discrete indices as they are; Gaussian [-1, 1] mapped onto the bounds.

    ``host``: NumPy for a NumPy env; otherwise a tensor left on the networks' device.
    """
    if isinstance(g.action, DiscreteSpec):
        out = a.long()
    else:
        low, high = (torch.tensor(np.array(v, dtype=np.float64), device=a.device) for v in g.action.bounds())
        out = low + (a.double().clamp(-1.0, 1.0) + 1.0) * 0.5 * (high - low)
    return out.cpu().numpy() if host else out


def as_tensor(x: Any, device: torch.device | str = "cpu") -> torch.Tensor:
    """An env array (NumPy, or torch on any device) on the networks' device; no host round trip for torch."""
    if isinstance(x, torch.Tensor):
        return x.to(device)
    return torch.as_tensor(np.ascontiguousarray(x), device=device)  # broadcast (read-only) views become copies


def observe(agent: GroupAgent, obs: np.ndarray) -> torch.Tensor:
    return agent.obs_norm.normalize(as_tensor(obs, agent.obs_norm.mean.device).reshape(*obs.shape[:2], -1))
