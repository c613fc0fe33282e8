"""Shared-parameter PPO for econbench's multi-agent tasks, in one readable file (CleanRL style).

One actor-critic network per agent group; the group's agents are folded into
the batch, so 10 firms in 4096 economies are 40,960 rows of one forward pass.
It steps the batched core directly (no Gymnasium wrapper), reads action masks
from it, and handles both continuous (Box, Gaussian in [-1, 1] mapped onto the
card's bounds) and multi-discrete masked groups.

    python baselines/shared_ppo.py --task econbench/InvestmentOligopoly-v0 --seed 0

Writes ``<out>/<Task>/<run>/``: ``checkpoint.pt`` (networks, optimisers,
normalisers, step; ``--resume`` continues from it), ``curve.csv`` and
``eval.json`` (score and the task's equilibrium gap of the learned profile).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical, Normal
from tqdm.auto import tqdm

HERE = Path(__file__).resolve().parent
try:
    import econbench
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent))
    import econbench
from econbench.core import BatchedEnv, BoxSpec, DiscreteSpec, GroupSpec, Task
from econbench.registry import make_task


@dataclass
class Args:
    task: str = "econbench/InvestmentOligopoly-v0"
    seed: int = 0
    total_timesteps: int = 2_000_000  # env-steps (each moves every agent of every group)
    n_envs: int = 64
    num_steps: int = 128  # rollout length per update
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gae_lambda: float = 0.95
    update_epochs: int = 4
    num_minibatches: int = 8
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    log_std_init: float = -1.0
    learn: list[str] = field(default_factory=list)  # groups that learn; empty = all (others keep --fixed policies)
    fixed: str = "exact"  # the non-learning groups' policy: a named policy, or a run folder of this script
    init: str = ""  # a run folder whose networks start the learning groups (a best response starts from them)
    out: str = str(HERE / "runs")
    run_name: str = ""
    resume: bool = False
    eval_episodes: int | None = None  # default: the card's protocol
    skip_eval: bool = False  # no final evaluation (a best-response run is scored by its caller)
    deviate: int = -1  # >= 0: only this agent of the (single) learning group learns; its peers keep --fixed's policy
    threads: int = 1
    params: dict[str, Any] = field(default_factory=dict)  # task parameter overrides (--param KEY=VALUE)


def parse_args(argv: Sequence[str] | None = None) -> Args:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in Args.__dataclass_fields__.values():
        if f.name in ("learn", "params"):
            continue
        kind = {"bool": None, "int": int, "float": float, "str": str}.get(str(f.type).split(" |")[0], str)
        default = f.default
        if kind is None:
            p.add_argument(f"--{f.name.replace('_', '-')}", action="store_true", default=default)
        else:
            p.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=default)
    p.add_argument("--learn", nargs="*", default=[], help="groups that learn (default: all)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="task parameter override")
    ns = vars(p.parse_args(argv))
    params = {}
    for pair in ns.pop("param"):
        k, _, v = pair.partition("=")
        params[k] = json.loads(v)
    return Args(**ns, params=params)


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
        return ((x.double() - self.mean) / torch.sqrt(self.var + 1e-8)).clamp(-10, 10).float()


def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


class GroupAgent(nn.Module):
    """Actor-critic shared by every agent of one group: own observation in, own action out."""

    def __init__(self, g: GroupSpec, hidden: int, log_std_init: float) -> None:
        super().__init__()
        obs_dim = int(np.prod(g.observation.shape))
        self.discrete = isinstance(g.action, DiscreteSpec)
        self.nvec = list(g.action.nvec) if self.discrete else []
        out = sum(self.nvec) if self.discrete else int(np.prod(g.action.shape))
        self.obs_norm = RunningNorm((obs_dim,))
        self.ret_norm = RunningNorm(())
        self.critic = nn.Sequential(layer(obs_dim, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(), layer(hidden, 1, 1.0))
        self.actor = nn.Sequential(layer(obs_dim, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(), layer(hidden, out, 0.01))
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((out,), log_std_init))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def dist(self, x: torch.Tensor, mask: torch.Tensor | None) -> list[Any]:
        out = self.actor(x)
        if not self.discrete:
            return [Normal(out, self.log_std.exp().expand_as(out))]
        if mask is not None:
            out = torch.where(mask, out, torch.full_like(out, -1e8))
        return [Categorical(logits=chunk) for chunk in torch.split(out, self.nvec, dim=-1)]

    def act(self, x: torch.Tensor, mask: torch.Tensor | None, action: torch.Tensor | None = None,
            deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dists = self.dist(x, mask)
        if action is None:
            if self.discrete:
                action = torch.stack([d.probs.argmax(-1) if deterministic else d.sample() for d in dists], -1)
            else:
                action = dists[0].mean if deterministic else dists[0].sample()
        if self.discrete:
            logp = sum(d.log_prob(action[..., k]) for k, d in enumerate(dists))
            ent = sum(d.entropy() for d in dists)
        else:
            logp, ent = dists[0].log_prob(action).sum(-1), dists[0].entropy().sum(-1)
        return action, logp, ent


def to_env_action(g: GroupSpec, a: torch.Tensor) -> np.ndarray:
    """Network actions to the task's: discrete indices as they are; Gaussian [-1, 1] mapped onto the bounds."""
    if isinstance(g.action, DiscreteSpec):
        return a.numpy().astype(np.int64)
    low, high = (np.asarray(v, dtype=np.float64) for v in g.action.bounds())
    return low + (np.clip(a.double().numpy(), -1.0, 1.0) + 1.0) * 0.5 * (high - low)


def learned_profile(task: Task, agents: dict[str, GroupAgent]) -> dict[str, Any]:
    """Deterministic group policies (mean / argmax) on NumPy observations, for econbench's metrics."""

    def make(name: str) -> Any:
        g, agent = task.group(name), agents[name]

        def policy(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                x = agent.obs_norm.normalize(torch.as_tensor(np.asarray(obs)).reshape(*obs.shape[:2], -1))
                a, _, _ = agent.act(x, None, deterministic=True)
            return to_env_action(g, a)

        return policy

    return {name: make(name) for name in agents}


def observe(agent: GroupAgent, obs: np.ndarray) -> torch.Tensor:
    return agent.obs_norm.normalize(torch.as_tensor(np.asarray(obs)).reshape(*obs.shape[:2], -1))


def train(args: Args) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    task = make_task(args.task, **args.params)
    if task.is_single_agent:
        raise SystemExit(f"{task.id} is single-agent: use baselines/sb3_ppo.py")
    learn = args.learn or [g.name for g in task.groups]
    unknown = set(learn) - {g.name for g in task.groups}
    if unknown:
        raise SystemExit(f"{task.id} has no group(s) {sorted(unknown)}")
    fixed = fixed_policies(task, args.fixed, learn)
    peers = None  # a unilateral deviation: the learner's own group keeps its policy for every other agent
    if args.deviate >= 0:
        if len(learn) != 1 or not 0 <= args.deviate < task.group(learn[0]).n_agents:
            raise SystemExit("--deviate needs exactly one --learn group and an agent index inside it")
        peers = fixed_policies(task, args.fixed, [])[learn[0]] if (Path(args.fixed) / "checkpoint.pt").is_file() \
            else task.policy(args.fixed)[learn[0]]
    run = Path(args.out) / task.name / (args.run_name or f"shared_ppo_seed{args.seed}")
    run.mkdir(parents=True, exist_ok=True)
    env = BatchedEnv(task, args.n_envs, seed=args.seed)
    agents = {g.name: GroupAgent(g, args.hidden, args.log_std_init) for g in task.groups if g.name in learn}
    optims = {k: torch.optim.Adam(a.parameters(), lr=args.learning_rate, eps=1e-5) for k, a in agents.items()}
    step, curve = 0, []
    if args.init:
        start = torch.load(Path(args.init) / "checkpoint.pt", weights_only=False)
        for k in agents:
            if k in start["agents"]:
                agents[k].load_state_dict(start["agents"][k])
    if args.resume and (run / "checkpoint.pt").is_file():
        ck = torch.load(run / "checkpoint.pt", weights_only=False)
        for k in agents:
            agents[k].load_state_dict(ck["agents"][k])
            optims[k].load_state_dict(ck["optims"][k])
        step, curve = ck["step"], ck["curve"]
        torch.set_rng_state(ck["torch_rng"])
        env = BatchedEnv(task, args.n_envs, seed=args.seed + step)  # a fresh stream for the continued run
        print(f"resumed {run} at step {step:,}")
    groups = {k: task.group(k) for k in agents}
    gamma = task.discount
    total = max(1, args.total_timesteps // (args.n_envs * args.num_steps)) * args.n_envs * args.num_steps
    obs = env.reset()
    ep_return = {k: np.zeros((args.n_envs, g.n_agents)) for k, g in groups.items()}
    finished: dict[str, list[float]] = {k: [] for k in groups}
    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=step, unit="step", unit_scale=True, mininterval=1.0)
    while step < total:
        if args.anneal_lr:
            for o in optims.values():
                o.param_groups[0]["lr"] = (1.0 - step / total) * args.learning_rate
        buf: dict[str, dict[str, list[torch.Tensor]]] = {k: {n: [] for n in ("x", "m", "a", "logp", "v", "nv", "r", "d")} for k in agents}
        for _ in range(args.num_steps):
            masks = env.action_masks()
            actions: dict[str, np.ndarray] = {g: f(obs[g]) for g, f in fixed.items()}
            with torch.no_grad():
                for k, agent in agents.items():
                    agent.obs_norm.update(torch.as_tensor(np.asarray(obs[k])).reshape(args.n_envs, groups[k].n_agents, -1))
                    x = observe(agent, obs[k])
                    m = torch.as_tensor(np.asarray(masks[k])) if k in masks else None
                    a, logp, _ = agent.act(x, m)
                    buf[k]["x"].append(x), buf[k]["a"].append(a), buf[k]["logp"].append(logp)
                    buf[k]["v"].append(agent.value(x)), buf[k]["m"].append(m if m is not None else torch.ones(0))
                    actions[k] = to_env_action(groups[k], a)
                    if peers is not None:
                        mixed = np.array(peers(obs[k]), copy=True)
                        mixed[:, args.deviate] = actions[k][:, args.deviate]
                        actions[k] = mixed
            obs, out, term, trunc = env.step(actions)
            done, term = np.asarray(term | trunc), np.asarray(term)
            with torch.no_grad():  # V(s') before any reset: a truncated economy still has a future to bootstrap
                for k, agent in agents.items():
                    nv = agent.value(observe(agent, obs[k]))
                    buf[k]["nv"].append(torch.where(torch.as_tensor(term)[:, None], torch.zeros_like(nv), nv))
            for k in agents:
                r = np.asarray(out.rewards[k], dtype=np.float64)
                ep_return[k] += r
                buf[k]["r"].append(torch.as_tensor(r))
                buf[k]["d"].append(torch.as_tensor(np.broadcast_to(done[:, None], r.shape).copy()))
                if done.any():
                    finished[k] += ep_return[k][done].mean(axis=1).tolist()
                    ep_return[k][done] = 0.0
            if done.any():
                obs = env.reset(mask=done)
            step += args.n_envs
        rows = slice(None) if peers is None else slice(args.deviate, args.deviate + 1)
        for k, agent in agents.items():
            update(agent, optims[k], buf[k], args, gamma, rows)
        bar.update(args.n_envs * args.num_steps)
        if all(finished[k] for k in agents):
            curve.append((step, *[float(np.mean(finished[k][-100:])) for k in agents]))
            bar.set_postfix({k: f"{curve[-1][i + 1]:.4g}" for i, k in enumerate(agents)}, refresh=False)
        torch.save({"agents": {k: a.state_dict() for k, a in agents.items()},
                    "optims": {k: o.state_dict() for k, o in optims.items()}, "step": step, "curve": curve,
                    "torch_rng": torch.get_rng_state(), "args": asdict(args), "task_id": task.id}, run / "checkpoint.pt")
    bar.close()
    train_time = time.perf_counter() - t0
    header = "timesteps," + ",".join(f"mean_episode_return_{k}" for k in agents)
    (run / "curve.csv").write_text(header + "\n" + "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in curve))
    if not args.skip_eval:
        result = evaluate_run(task, agents, fixed, train_time, args)
        (run / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    return run


def update(agent: GroupAgent, optim: torch.optim.Optimizer, b: dict[str, list[torch.Tensor]], args: Args,
           gamma: float, rows: slice = slice(None)) -> None:
    """GAE over the rollout (rows = env x agent; ``rows`` picks the learning agents), then clipped PPO epochs."""
    x, a, logp, v, nv = (torch.stack(b[n])[:, :, rows] for n in ("x", "a", "logp", "v", "nv"))
    r, d = torch.stack(b["r"]).float()[:, :, rows], torch.stack(b["d"]).float()[:, :, rows]
    agent.ret_norm.update(r)
    r = r / torch.sqrt(agent.ret_norm.var + 1e-8).float()  # scale, not shift: keeps the sign of profits
    adv, last = torch.zeros_like(r), torch.zeros_like(r[0])
    for t in reversed(range(r.shape[0])):
        delta = r[t] + gamma * nv[t] - v[t]  # nv: V of the state after step t (0 only if terminated)
        last = delta + gamma * args.gae_lambda * (1.0 - d[t]) * last
        adv[t] = last
    ret = adv + v
    flat = lambda z: z.reshape(-1, *z.shape[3:]) if z.dim() > 3 else z.reshape(-1)  # noqa: E731
    X, A, LP, ADV, RET = x.reshape(-1, x.shape[-1]), a.reshape(-1, *a.shape[3:]), flat(logp), flat(adv), flat(ret)
    M = torch.stack(b["m"])[:, :, rows].reshape(-1, b["m"][0].shape[-1]) if b["m"][0].numel() else None
    n = X.shape[0]
    size = max(1, n // args.num_minibatches)
    for _ in range(args.update_epochs):
        perm = torch.randperm(n)
        for s in range(0, n, size):
            idx = perm[s : s + size]
            _, new_logp, ent = agent.act(X[idx], None if M is None else M[idx], A[idx])
            ratio = (new_logp - LP[idx]).exp()
            adv_b = (ADV[idx] - ADV[idx].mean()) / (ADV[idx].std() + 1e-8)
            pg = torch.max(-adv_b * ratio, -adv_b * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
            vf = 0.5 * ((agent.value(X[idx]) - RET[idx]) ** 2).mean()
            loss = pg - args.ent_coef * ent.mean() + args.vf_coef * vf
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optim.step()


def evaluate_run(task: Task, agents: dict[str, GroupAgent], fixed: dict[str, Any], train_time: float,
                 args: Args) -> dict[str, Any]:
    """Score and equilibrium gap of the learned profile (deterministic) under the card's protocol."""
    from econbench.metrics import equilibrium_gap, evaluate

    profile = {**fixed, **learned_profile(task, agents)}
    res = evaluate(task, profile, episodes=args.eval_episodes)
    out: dict[str, Any] = {"task_id": task.id, "score": res.mean, "score_ci95": list(res.ci),
                           "train_time_s": round(train_time, 2), "timesteps": args.total_timesteps}
    if task.equilibrium_gap is not None:
        gaps = equilibrium_gap(task, profile, episodes=args.eval_episodes)
        out["equilibrium_gap"] = [{"group": g.group, "method": g.method, "epsilon": g.epsilon,
                                   "relative": g.relative, "epsilon_ci95": list(g.epsilon_ci)} for g in gaps]
    if "exact" in task.policies:
        ref = evaluate(task, "exact", episodes=args.eval_episodes)
        out["exact_score"] = ref.mean
        # where play settles: each group's mean own state (output, capacity) at the horizon, learned vs exact
        from econbench.metrics.evaluate import rollout

        seed = int(task.card["protocol"]["eval_seeds"][0])
        n = args.eval_episodes or int(task.card["protocol"]["episodes_per_seed"])
        learned, exact = (rollout(task, prof, n, seed, record=True) for prof in (profile, task.policy("exact")))
        out["final_state"] = {g.name: {"learned": float(learned.obs[g.name][-1, ..., 0].mean()),
                                       "exact": float(exact.obs[g.name][-1, ..., 0].mean())} for g in task.groups}
    return out


def load_profile(run: str | Path) -> tuple[Task, dict[str, Any]]:
    """A trained run's deterministic profile, for ``econbench`` metrics (fixed groups as trained)."""
    ck = torch.load(Path(run) / "checkpoint.pt", weights_only=False)
    args = Args(**ck["args"])
    task = make_task(ck["task_id"], **args.params)
    agents = {}
    for k, state in ck["agents"].items():
        agents[k] = GroupAgent(task.group(k), args.hidden, args.log_std_init)
        agents[k].load_state_dict(state)
    return task, {**fixed_policies(task, args.fixed, list(agents)), **learned_profile(task, agents)}


def fixed_policies(task: Task, spec: str, learn: Sequence[str]) -> dict[str, Any]:
    """Policies of the groups that do not learn: from a run folder of this script, or a named policy."""
    if len(learn) == len(task.groups):
        return {}
    if (Path(spec) / "checkpoint.pt").is_file():
        _, profile = load_profile(spec)
    else:
        profile = task.policy(spec)
    missing = [g.name for g in task.groups if g.name not in learn and g.name not in profile]
    if missing:
        raise SystemExit(f"{spec} has no policy for the fixed group(s) {missing}")
    return {g: f for g, f in profile.items() if g not in learn}


def main(argv: Sequence[str] | None = None) -> Path:
    return train(parse_args(argv))


if __name__ == "__main__":
    main()
