"""The arithmetic a shared-PPO run must do per agent-step, and the rate this machine does dense matmuls at:
together, the upper bound on the trainer's agent-steps/s that ``ci/bench_throughput.py`` reports against.

Only the networks' matrix products count (2 FLOPs per multiply-add); the
softmax heads, the normalisers and the simulation are what the bound leaves
out, so the measured fraction of it says how much time goes elsewhere.
:func:`shape_bound` times the same products at the shapes the trainer runs them
(:func:`products`): small inner dimensions run below the peak rate, and what is
left above that bound is the work between the products.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from econbench.core import Task
from econbench.learn.config import SharedPPOConfig
from econbench.learn.networks import GroupAgent

BACKWARD = 2.0  # a layer's backward is two products the size of its forward (input and weight gradients)


def forward_flops(net: nn.Module) -> int:
    """FLOPs of one row through every ``nn.Linear`` of ``net``."""
    return sum(2 * m.in_features * m.out_features for m in net.modules() if isinstance(m, nn.Linear))


def per_agent_step(task: Task, args: SharedPPOConfig, learn: list[str] | None = None) -> float:
    """Matmul FLOPs per agent-step, averaged over the agents of one economy.

    Rollout: actor and critic forward once per agent-step (V(s') is V of the
    next step's state). Update, per epoch: forward and backward of both on the
    rows used (a share ``update_rows / rows`` of them when subsampled).
    """
    learn = learn or [g.name for g in task.groups]
    rows_per_update = args.n_envs * args.num_steps
    total, agents = 0.0, 0
    for g in task.groups:
        agents += g.n_agents
        if g.name not in learn:
            continue
        agent = GroupAgent(g, args.hidden, args.log_std_init, args.activation)
        fwd = forward_flops(agent.actor) + forward_flops(agent.critic)
        rows = rows_per_update * g.n_agents
        share = min(1.0, args.update_rows / rows) if args.update_rows > 0 else 1.0
        total += g.n_agents * fwd * (1.0 + args.update_epochs * share * (1.0 + BACKWARD))
    return total / agents


@contextmanager
def _threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _product_seconds(m: int, k: int, n: int, repeats: int) -> float:
    """Median seconds of a float32 ``(m, k) @ (k, n)`` product, after one untimed."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def matmul_flops_per_sec(threads: int, size: int = 1024, rows: int = 4096, repeats: int = 9) -> float:
    """Median FLOP/s of a float32 ``(rows, size) @ (size, size)`` product with ``threads`` torch threads."""
    with _threads(threads):
        return 2.0 * rows * size * size / _product_seconds(rows, size, size, repeats)


Product = tuple[int, int, int, float]  # (rows, inner, columns, times per update cycle): one float32 matrix product


def products(task: Task, args: SharedPPOConfig, learn: list[str] | None = None) -> list[Product]:
    """The matrix products of one update cycle (a rollout and the update after it), at the shapes the trainer runs
    them: the actor per step on every agent's row, the critic once over the rollout, then per epoch and minibatch
    each layer's forward and its backward's weight gradient and (past the first layer) input gradient."""
    learn = learn or [g.name for g in task.groups]
    out: list[Product] = []
    for g in task.groups:
        if g.name not in learn:
            continue
        agent = GroupAgent(g, args.hidden, args.log_std_init, args.activation)
        rows = args.num_steps * args.n_envs * g.n_agents
        used = min(args.update_rows, rows) if args.update_rows > 0 else rows
        size = max(1, used // args.num_minibatches)  # the trainer's minibatches: full ones, then the rest
        batches = [(size, args.update_epochs * (used // size))] + (
            [(used % size, args.update_epochs)] * (used % size > 0)
        )
        for net, first in ((agent.actor, args.n_envs * g.n_agents), (agent.critic, rows)):
            for i, m in enumerate(x for x in net.modules() if isinstance(x, nn.Linear)):
                k, n = m.in_features, m.out_features
                out.append((first, k, n, float(args.num_steps if net is agent.actor else 1)))  # the rollout's
                for mb, passes in batches:
                    out.append((mb, k, n, float(passes)))  # forward
                    out.append((n, mb, k, float(passes)))  # weight gradient: (out x rows) @ (rows x in)
                    if i > 0:  # the observations need no gradient
                        out.append((mb, n, k, float(passes)))
    return out


def shape_bound(task: Task, args: SharedPPOConfig, threads: int, repeats: int = 5) -> float:
    """Agent-steps/s if the trainer did nothing but its matrix products, each at the rate this machine does it at
    its own shape (median of ``repeats``): the bound of :func:`per_agent_step` at the peak rate, made honest about
    the small inner dimensions (an oligopoly's first layer has 2 inputs)."""
    listed = products(task, args)
    with _threads(threads):
        seconds = {shape: _product_seconds(*shape, repeats) for shape in {p[:3] for p in listed}}
    cycle = sum(seconds[(m, k, n)] * times for m, k, n, times in listed)
    return args.num_steps * args.n_envs * sum(g.n_agents for g in task.groups) / cycle
