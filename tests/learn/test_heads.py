"""The trainer's masked multi-head categorical (econbench.learn.heads) against torch.distributions, per head."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.distributions import Categorical, Normal  # noqa: E402

from econbench.learn import flops, heads  # noqa: E402
from econbench.learn.config import SharedPPOConfig  # noqa: E402
from econbench.learn.networks import GroupAgent  # noqa: E402
from econbench.registry import make_task  # noqa: E402

MASKED = ["econbench/RICECooperation-Bilateral-v0", "econbench/RBCTax-v0", "econbench/EVCharging-v0"]


def test_equal_width_runs() -> None:
    assert heads.equal_width_runs([11, 11, 5, 10, 10, 2]) == ((0, 2, 11), (22, 1, 5), (27, 2, 10), (47, 1, 2))
    assert heads.equal_width_runs([]) == ()


def _sharp_agent(task_id: str) -> tuple[GroupAgent, torch.Tensor, torch.Tensor, list[int]]:
    """A group's network with large logits (sharp, far-apart choices) and a random mask leaving >= 1 per head."""
    torch.manual_seed(0)
    g = make_task(task_id).groups[0]
    agent = GroupAgent(g, 32, -1.0)
    with torch.no_grad():
        for layer in agent.actor:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(10.0)
    nvec = list(g.action.nvec)  # type: ignore[union-attr]
    x = torch.randn(24, 3, int(np.prod(g.observation.shape)))
    mask = torch.rand(24, 3, sum(nvec)) > 0.5
    at = 0
    for n in nvec:
        mask[..., at + torch.randint(n, ())] = True
        at += n
    return agent, x, mask, nvec


def _reference(agent: GroupAgent, x: torch.Tensor, mask: torch.Tensor, nvec: list[int], a: torch.Tensor) -> tuple:
    z, at, logp, ent = agent.actor(x), 0, 0.0, 0.0
    for h, n in enumerate(nvec):
        d = Categorical(logits=torch.where(mask[..., at : at + n], z[..., at : at + n], torch.tensor(-1e30)))
        logp, ent, at = logp + d.log_prob(a[..., h]), ent + d.entropy(), at + n
    return logp, ent


@pytest.mark.parametrize("task_id", MASKED)
def test_draws_respect_the_mask_and_match_categorical(task_id: str) -> None:
    agent, x, mask, nvec = _sharp_agent(task_id)
    a, logp, ent = agent.act(x, mask)
    offsets = torch.tensor(np.cumsum([0, *nvec[:-1]]))
    assert mask.gather(-1, a + offsets).all()  # a masked-out choice is never drawn
    ref_logp, ref_ent = _reference(agent, x, mask, nvec, a)
    torch.testing.assert_close(logp, ref_logp, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(ent, ref_ent, rtol=1e-5, atol=1e-3)
    mode, _, _ = agent.act(x, mask, deterministic=True)
    best = torch.stack(
        [
            torch.where(mask[..., o : o + n], agent.actor(x)[..., o : o + n], torch.tensor(-1e30)).argmax(-1)
            for o, n in zip(offsets.tolist(), nvec)
        ],
        -1,
    )
    assert torch.equal(mode, best)


@pytest.mark.parametrize("task_id", MASKED)
@pytest.mark.parametrize("ent_coef", [0.0, 0.3])
def test_hand_written_gradient_equals_autograd(task_id: str, ent_coef: float) -> None:
    agent, x, mask, nvec = _sharp_agent(task_id)
    a, _, _ = agent.act(x, mask)
    w = torch.randn(x.shape[:2])
    _, logp, ent = agent.act(x, mask, a, entropy=ent_coef != 0.0)
    ((logp * w).sum() + (ent_coef * (ent * w).sum() if ent is not None else 0.0)).backward()
    ours = [p.grad.clone() for p in agent.actor.parameters()]
    agent.zero_grad()
    ref_logp, ref_ent = _reference(agent, x, mask, nvec, a)
    ((ref_logp * w).sum() + ent_coef * (ref_ent * w).sum()).backward()
    for mine, ref in zip(ours, (p.grad for p in agent.actor.parameters())):
        torch.testing.assert_close(mine, ref, rtol=1e-4, atol=1e-5 * float(ref.abs().max()))


def test_gaussian_matches_normal() -> None:
    g = make_task("econbench/InvestmentOligopoly-v0").groups[0]
    agent = GroupAgent(g, 16, -1.0)
    x = torch.randn(10, 2, 2)
    a, logp, ent = agent.act(x, None)
    d = Normal(agent.actor(x), agent.log_std.exp())
    torch.testing.assert_close(logp, d.log_prob(a).sum(-1))
    torch.testing.assert_close(ent, d.entropy().sum(-1))


def test_flops_per_agent_step_counts_the_networks_by_hand() -> None:
    """Oligopoly: 2 inputs, 64 hidden, 1 action; 4 epochs on every row: forward + 4 x (forward + backward)."""
    args = SharedPPOConfig.for_task("econbench/InvestmentOligopoly-v0")
    actor, critic = 2 * (2 * 64 + 64 * 64 + 64 * 1), 2 * (2 * 64 + 64 * 64 + 64 * 1)
    expected = (actor + critic) * (1 + args.update_epochs * 3)
    assert flops.per_agent_step(make_task("econbench/InvestmentOligopoly-v0"), args) == expected
    args.update_rows = args.n_envs * args.num_steps  # half of the 2 firms' rows: the update's share halves
    assert flops.per_agent_step(make_task("econbench/InvestmentOligopoly-v0"), args) == (actor + critic) * (
        1 + args.update_epochs * 0.5 * 3
    )


def test_draws_have_the_heads_probabilities() -> None:
    """200,000 draws of two heads (widths 3 and 4, one choice masked out): frequencies within 5 sigma of softmax."""
    torch.manual_seed(1)
    runs = heads.equal_width_runs([3, 4])
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0, 3.0, -2.0, 1.0])
    mask = torch.tensor([True, True, True, True, True, False, True])
    z = (logits + heads.mask_bias(mask)).expand(200_000, 7)
    a, logp, _ = heads.sample(z, runs, entropy=False)
    for h, (at, n) in enumerate(((0, 3), (3, 4))):
        p = torch.softmax(torch.where(mask[at : at + n], logits[at : at + n], torch.tensor(-1e30)), -1)
        freq = torch.bincount(a[:, h], minlength=n).double() / a.shape[0]
        sigma = (p * (1 - p) / a.shape[0]).sqrt().double()
        assert (freq - p.double()).abs().max() <= 5 * sigma.max(), (freq, p)
    assert (a[:, 1] != 2).all()  # the masked-out choice is never drawn
    first, second = (torch.log_softmax(t, -1) for t in torch.where(mask, logits, torch.tensor(-1e30)).split([3, 4]))
    torch.testing.assert_close(logp[:5], first[a[:5, 0]] + second[a[:5, 1]])


def _listed_and_expected(task_id: str, update_rows: int | None = None) -> tuple[float, float]:
    task, args = make_task(task_id), SharedPPOConfig.for_task(task_id)
    if update_rows is not None:
        args.update_rows = update_rows
    cycle = args.num_steps * args.n_envs * sum(g.n_agents for g in task.groups)
    listed = sum(2 * m * k * n * times for m, k, n, times in flops.products(task, args)) / cycle
    skipped = 0.0
    for g in task.groups:
        agent = GroupAgent(g, args.hidden, args.log_std_init, args.activation)
        rows = args.num_steps * args.n_envs * g.n_agents
        used = min(args.update_rows, rows) if args.update_rows > 0 else rows
        first = 2 * agent.actor[0].in_features * (agent.actor[0].out_features + agent.critic[0].out_features)
        skipped += first * used * args.update_epochs / cycle
    return listed, flops.per_agent_step(task, args) - skipped


@pytest.mark.parametrize(
    ("task_id", "update_rows"),
    [
        ("econbench/InvestmentOligopoly-v0", None),
        ("econbench/InvestmentOligopoly-v0", 1001),  # 8 minibatches of 125 rows and the trainer's last one of 1
        ("econbench/RBCTax-v0", None),
        ("econbench/RICECooperation-Bilateral-v0", None),
    ],
)
def test_products_are_the_flop_count_less_the_first_layers_input_gradient(
    task_id: str, update_rows: int | None
) -> None:
    """flops.products lists the shapes the trainer multiplies; their FLOPs are per_agent_step's, except that
    autograd computes no gradient for the observations (the first layer's input gradient)."""
    listed, expected = _listed_and_expected(task_id, update_rows)
    assert listed == pytest.approx(expected, rel=1e-12)
    task, args = make_task(task_id), SharedPPOConfig.for_task(task_id)
    g = task.groups[0]
    rollout = (args.n_envs * g.n_agents, int(np.prod(g.observation.shape)), args.hidden)
    assert rollout in {(m, k, n) for m, k, n, _ in flops.products(task, args)}  # the rollout's actor, per step
