"""The shared-parameter actor-critic: one network per agent group, its observation normaliser, and the mapping of
its outputs onto the task's actions."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from econbench.core import DiscreteSpec, GroupSpec
from econbench.learn import heads
from econbench.learn.heads import mask_bias


class RunningNorm(nn.Module):
    """Running mean and variance (Chan et al.), kept in the checkpoint."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, x: torch.Tensor) -> None:
        x = x.reshape(-1, *self.mean.shape).double()
        n = x.shape[0]
        b_mean = x.sum(0) / n
        c = x - b_mean
        b_var = (c * c).sum(0) / n  # two passes of sums: torch's var over dim 0 is 5x slower (RICE's 1,207 columns)
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


# ReLU in place: no new tensor per layer (the output of the Linear before it is needed by nothing else)
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"tanh": nn.Tanh, "relu": partial(nn.ReLU, inplace=True)}
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


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
        self.runs = heads.equal_width_runs(self.nvec)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        action: torch.Tensor | None = None,
        deterministic: bool = False,
        entropy: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """An action (drawn, or the mode, or the one given), its log-probability and, if asked, the entropy.

        ``mask``: the task's boolean action mask, or its :func:`mask_bias`.
        """
        if not self.discrete:
            mean, log_std = self.actor(x), self.log_std
            if action is None:
                action = mean if deterministic else mean + log_std.exp() * torch.randn_like(mean)
            logp = (-0.5 * ((action - mean) * torch.exp(-log_std)) ** 2 - log_std - LOG_SQRT_2PI).sum(-1)
            ent = (0.5 + LOG_SQRT_2PI + log_std).sum().expand(logp.shape) if entropy else None
            return action, logp, ent
        z = self.actor(x)
        if mask is not None:
            z = z + (mask_bias(mask) if mask.dtype == torch.bool else mask)
        if action is None:
            return heads.sample(z, self.runs, deterministic, entropy)
        logp, ent = heads.HeadLogProb.apply(z, action, self.runs, entropy)
        return action, logp, ent if entropy else None


def action_mapping(g: GroupSpec, device: torch.device | str, host: bool = True) -> Any:
    """Network actions to the task's: discrete indices as they are; Gaussian [-1, 1] mapped onto the bounds.

    The bounds go to the device once (the rollout maps every step); ``host``: NumPy for a NumPy env, otherwise a
    tensor left on the networks' device.
    """
    if isinstance(g.action, DiscreteSpec):
        return lambda a: a.long().cpu().numpy() if host else a.long()
    low, high = (torch.tensor(np.array(v, dtype=np.float64), device=device) for v in g.action.bounds())
    half = 0.5 * (high - low)

    def mapped(a: torch.Tensor) -> Any:
        out = torch.addcmul(low, a.double().clamp(-1.0, 1.0) + 1.0, half)
        return out.cpu().numpy() if host else out

    return mapped


def to_env_action(g: GroupSpec, a: torch.Tensor, host: bool = True) -> Any:
    """:func:`action_mapping` of one batch."""
    return action_mapping(g, a.device, host)(a)


def as_tensor(x: Any, device: torch.device | str = "cpu") -> torch.Tensor:
    """An env array (NumPy, or torch on any device) on the networks' device; no host round trip for torch."""
    if isinstance(x, torch.Tensor):
        return x.to(device)
    return torch.as_tensor(np.ascontiguousarray(x), device=device)  # broadcast (read-only) views become copies


def observe(agent: GroupAgent, obs: np.ndarray) -> torch.Tensor:
    return agent.obs_norm.normalize(as_tensor(obs, agent.obs_norm.mean.device).reshape(*obs.shape[:2], -1))
