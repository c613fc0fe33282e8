"""Shared-parameter PPO for econbench's multi-agent tasks, in one readable file (CleanRL style).

One actor-critic network per agent group; the group's agents are folded into
the batch, so 10 firms in 4096 economies are 40,960 rows of one forward pass.
It steps the batched core directly (no Gymnasium wrapper), reads action masks
from it, and handles both continuous (Box, Gaussian in [-1, 1] mapped onto the
card's bounds) and multi-discrete masked groups.

    python baselines/shared_ppo.py --task econbench/InvestmentOligopoly-v0 --seed 0

Writes ``<out>/<Task>/<run>/``: ``policy.json`` and ``policy.safetensors``
(the deterministic profile as an econbench policy folder: what econbench
evaluates and verifies), ``checkpoint.pt`` (networks, optimisers,
normalisers, step; ``--resume`` and ``--init`` read it back with torch's
weights-only loader, which refuses pickled objects), ``curve.csv`` and
``eval.json`` (score and the task's equilibrium gap of the learned profile).

Per-task settings live in ``hyperparams/shared_ppo.toml``; flags given on the
command line win. A task whose card declares a curriculum (RBC) trains on it:
the card's stages say which groups are updated when (the others still act),
its annealed parameters (action masks, labour disutility) are applied to the
running economies, and its entropy schedule replaces ``--ent-coef``. The whole
schedule is spread over ``--total-timesteps`` (``--curriculum-pace run``) or
kept at the source's pace (``source``). ``--track`` logs to Weights & Biases,
offline when no credentials are configured (``wandb sync`` uploads later).
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
from torch.distributions import Normal
from tqdm.auto import tqdm

HERE = Path(__file__).resolve().parent
try:
    import econbench
except ModuleNotFoundError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent))
    import econbench
from econbench import curriculum as curricula
from econbench.backend import get_backend
from econbench.core import BatchedEnv, BoxSpec, DiscreteSpec, GroupSpec, Task, profile_actions
from econbench.registry import make_task

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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
    update_rows: int = 0  # > 0: each update uses a random subset of this many (step, env, agent) rows per group
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    activation: str = "tanh"  # or "relu" (upstream RBC networks: 2 x 128 ReLU)
    log_std_init: float = -1.0
    lr_scale: dict[str, float] = field(default_factory=dict)  # per-group learning-rate multiple (--lr-scale GROUP=X)
    log_std: dict[str, float] = field(default_factory=dict)  # per-group initial log std, over log_std_init (--log-std GROUP=X)
    curriculum: str = "auto"  # the card's default curriculum when every group learns from scratch; a name; or "none"
    curriculum_pace: str = "run"  # "run": the whole schedule over total_timesteps; "source": the card's env-steps per iteration
    track: bool = False  # log to Weights & Biases (offline without credentials)
    wandb_project: str = "econbench"
    wandb_entity: str = ""
    hyperparams: str = str(HERE / "hyperparams" / "shared_ppo.toml")
    learn: list[str] = field(default_factory=list)  # groups that learn; empty = all (others keep --fixed policies)
    fixed: str = "exact"  # the non-learning groups' policy: a named policy, or a run folder of this script
    fixed_sampled: bool = False  # a run folder's fixed groups sample their actions (as they trained) instead of argmax
    init: str = ""  # a run folder whose networks start the learning groups (a best response starts from them)
    out: str = str(HERE / "runs")
    run_name: str = ""
    resume: bool = False
    eval_episodes: int | None = None  # default: the card's protocol
    skip_eval: bool = False  # no final evaluation (a best-response run is scored by its caller)
    deviate: int = -1  # >= 0: only this agent of the (single) learning group learns; its peers keep --fixed's policy
    threads: int = 1
    device: str = "cpu"  # the networks' device ("cuda" on a GPU)
    backend: str = "numpy"  # the economies' array backend: "torch" keeps them on --device too
    params: dict[str, Any] = field(default_factory=dict)  # task parameter overrides (--param KEY=VALUE)
    # Credit an action only with the rewards until the agent's next decision (a step where its mask allows more
    # than one action). For agents that are slots hosting a sequence of one-decision requests (EVCharging-Steady-v0,
    # -Batch-v0): each request then learns from its own costs. Off: credit runs over the agent's whole episode.
    decision_credit: bool = False
    # A group's initial action-head bias (--init-bias GROUP=[...]): logits over sum(nvec) for discrete groups, the mean
    # in [-1, 1] units for continuous ones (the head's weights start near 0, so the bias is the initial policy).
    init_bias: dict[str, list[float]] = field(default_factory=dict)
    # Env-steps during which only the critics learn (the actors' losses are dropped). A policy that starts near a
    # good rule (--init-bias) is otherwise moved by advantages from an untrained critic: in CapitalGoods, saving
    # costs consumption now and its worth is in V(K'), which a fresh critic does not see yet.
    critic_warmup: int = 0


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """Dataclass defaults, then the task's table in ``--hyperparams``, then the flags actually given."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in Args.__dataclass_fields__.values():
        if f.name in ("learn", "params", "lr_scale", "log_std", "init_bias"):
            continue
        kind = {"bool": None, "int": int, "float": float, "str": str}.get(str(f.type).split(" |")[0], str)
        if kind is None:
            p.add_argument(f"--{f.name.replace('_', '-')}", action="store_true", default=argparse.SUPPRESS)
        else:
            p.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=argparse.SUPPRESS)
    p.add_argument("--learn", nargs="*", default=argparse.SUPPRESS, help="groups that learn (default: all)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="task parameter override")
    p.add_argument("--lr-scale", action="append", default=[], metavar="GROUP=X", help="a group's learning-rate multiple")
    p.add_argument("--log-std", action="append", default=[], metavar="GROUP=X", help="a group's initial log std (Box actions)")
    p.add_argument("--init-bias", action="append", default=[], metavar="GROUP=[...]",
                   help="a group's initial action-head bias (JSON list: logits, or means in [-1, 1])")
    given = vars(p.parse_args(argv))
    pairs = {"params": given.pop("param"), "lr_scale": given.pop("lr_scale"), "log_std": given.pop("log_std"),
             "init_bias": given.pop("init_bias")}
    task = given.get("task", Args.task)
    settings = {**hyperparams_for(Path(given.get("hyperparams", Args.hyperparams)), task), **given}
    for name, items in pairs.items():
        extra = {}
        for pair in items:
            k, sep, v = pair.partition("=")
            if not sep:
                raise SystemExit(f"--{name.replace('_', '-')} expects KEY=VALUE, got {pair!r}")
            extra[k] = json.loads(v)
        settings[name] = {**settings.get(name, {}), **extra}
    unknown = set(settings) - set(Args.__dataclass_fields__)
    if unknown:
        raise SystemExit(f"unknown setting(s) {sorted(unknown)} (from the command line or the hyperparameter file)")
    return Args(**settings)


def hyperparams_for(path: Path, task_id: str) -> dict[str, Any]:
    """``[default]`` then the task's table (full or short ID) of the hyperparameter file; {} if it is missing."""
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        tables = tomllib.load(f)
    short = task_id.split(":")[-1].split("/")[-1]
    out: dict[str, Any] = dict(tables.get("default", {}))

    def merge(key: str, seen: tuple[str, ...] = ()) -> None:
        table = tables.get(key, {})
        if "like" in table and table["like"] not in seen:
            merge(table["like"], (*seen, key))
        for k, v in table.items():
            if k != "like":
                out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) else v

    for key in (short, f"econbench/{short}"):
        merge(key)
    return out


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
        self.actor = nn.Sequential(layer(obs_dim, hidden), act(), layer(hidden, hidden), act(), layer(hidden, out, 0.01))
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

    def act(self, x: torch.Tensor, mask: torch.Tensor | None, action: torch.Tensor | None = None,
            deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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


def learned_profile(task: Task, agents: dict[str, GroupAgent], deterministic: bool = True) -> dict[str, Any]:
    """Group policies on NumPy observations, for econbench's metrics.

    Deterministic (mean / argmax of each head) is how econbench scores a
    trained policy; ``deterministic=False`` samples as the policy did in
    training (torch's global generator: seed it for repeatable scores), which
    is what upstream's RBC analysis reports: with several heads the product of
    each head's most likely choice can behave unlike the policy itself.
    """

    def make(name: str) -> Any:
        g, agent = task.group(name), agents[name]

        def policy(obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
            with torch.no_grad():
                device = agent.obs_norm.mean.device
                x = agent.obs_norm.normalize(as_tensor(obs, device).reshape(*obs.shape[:2], -1))
                m = None if mask is None else as_tensor(mask, device)
                a, _, _ = agent.act(x, m, deterministic=deterministic)
            return to_env_action(g, a)

        policy.uses_mask = g.masked  # type: ignore[attr-defined]
        return policy

    return {name: make(name) for name in agents}


def observe(agent: GroupAgent, obs: np.ndarray) -> torch.Tensor:
    return agent.obs_norm.normalize(as_tensor(obs, agent.obs_norm.mean.device).reshape(*obs.shape[:2], -1))


def train(args: Args) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    start = None
    if args.init:  # a continuation keeps the run's architecture and task parameters
        start = read_checkpoint(args.init)
        for key in ("hidden", "activation", "log_std_init"):
            setattr(args, key, start["args"].get(key, getattr(args, key)))
        args.params = {**start["args"].get("params", {}), **args.params}
    task = make_task(args.task, **args.params)
    if task.role is not None:  # a planner (one group of one agent) trains here as plain PPO
        raise SystemExit(f"{task.id} is a role view (one learner among fixed others): use baselines/sb3_ppo.py")
    learn = args.learn or [g.name for g in task.groups]
    unknown = set(learn) - {g.name for g in task.groups}
    if unknown:
        raise SystemExit(f"{task.id} has no group(s) {sorted(unknown)}")
    fixed = fixed_policies(task, args.fixed, learn, not args.fixed_sampled)
    peers = None  # a unilateral deviation: the learner's own group keeps its policy for every other agent
    if args.deviate >= 0:
        if len(learn) != 1 or not 0 <= args.deviate < task.group(learn[0]).n_agents:
            raise SystemExit("--deviate needs exactly one --learn group and an agent index inside it")
        peers = profile_of(task, args.fixed, not args.fixed_sampled)[learn[0]]
    run = Path(args.out) / task.name / (args.run_name or f"shared_ppo_seed{args.seed}")
    run.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    host = args.backend == "numpy"
    if not host and (fixed or peers is not None):
        raise SystemExit(f"--backend {args.backend}: fixed groups follow NumPy policies; use it when every group learns")
    env = BatchedEnv(task, args.n_envs, args.backend, device=None if host else device, seed=args.seed)
    for name, per_group in (("--lr-scale", args.lr_scale), ("--log-std", args.log_std)):
        bad = set(per_group) - {g.name for g in task.groups}
        if bad:
            raise SystemExit(f"{name} names group(s) {sorted(bad)} that {task.name} does not have")
    agents = {g.name: GroupAgent(g, args.hidden, float(args.log_std.get(g.name, args.log_std_init)), args.activation).to(device)
              for g in task.groups if g.name in learn}
    bad = set(args.init_bias) - set(agents)
    if bad:
        raise SystemExit(f"--init-bias names group(s) {sorted(bad)} that do not learn in {task.name}")
    for k, bias in args.init_bias.items():
        head = agents[k].actor[-1]
        if len(bias) != head.bias.numel():
            raise SystemExit(f"--init-bias {k}: {len(bias)} values for an action head of {head.bias.numel()}")
        with torch.no_grad():
            head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
    lrs = {k: args.learning_rate * float(args.lr_scale.get(k, 1.0)) for k in agents}
    optims = {k: torch.optim.Adam(a.parameters(), lr=lrs[k], eps=1e-5) for k, a in agents.items()}
    step, curve = 0, []
    cur = pick_curriculum(task, args, learn)
    if start is not None:
        for k in agents:
            if k in start["agents"]:
                agents[k].load_state_dict(start["agents"][k])
    if args.resume and (run / "checkpoint.pt").is_file():
        ck = read_checkpoint(run)
        for k in agents:
            agents[k].load_state_dict(ck["agents"][k])
            optims[k].load_state_dict(ck["optims"][k])
        step, curve = ck["step"], ck["curve"]
        torch.set_rng_state(ck["torch_rng"])
        env = BatchedEnv(task, args.n_envs, args.backend, device=None if host else device,
                         seed=args.seed + step)  # a fresh stream for the continued run
        print(f"resumed {run} at step {step:,}")
    groups = {k: task.group(k) for k in agents}
    fixed_part = fixed_groups(task, args, list(agents))
    gamma = task.discount
    total = max(1, args.total_timesteps // (args.n_envs * args.num_steps)) * args.n_envs * args.num_steps
    tracker = Tracker(args, run, task, cur)
    point = None
    if cur is not None:
        point = cur.at(cur.iteration_at(step, total if args.curriculum_pace == "run" else None))
        curricula.apply(env, point)
        print(f"curriculum {cur.name!r} ({cur.source or task.id}), pace {args.curriculum_pace}: "
              + "; ".join(f"from iteration {st.start:g}: {', '.join(st.learn)} learn" for st in cur.stages))
    obs = env.reset()
    ep_return = {k: np.zeros((args.n_envs, g.n_agents)) for k, g in groups.items()}
    finished: dict[str, list[float]] = {k: [] for k in groups}
    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=step, unit="step", unit_scale=True, mininterval=1.0)
    while step < total:
        if cur is not None:
            point = cur.at(cur.iteration_at(step, total if args.curriculum_pace == "run" else None))
            curricula.apply(env, point)
        if args.anneal_lr:
            for k, o in optims.items():
                o.param_groups[0]["lr"] = (1.0 - step / total) * lrs[k]
        buf: dict[str, dict[str, list[torch.Tensor]]] = {k: {n: [] for n in ("x", "m", "a", "logp", "v", "nv", "r", "d", "nd")} for k in agents}
        for _ in range(args.num_steps):
            masks = env.action_masks()
            actions: dict[str, np.ndarray] = profile_actions(fixed, obs, lambda: masks)
            with torch.no_grad():
                for k, agent in agents.items():
                    agent.obs_norm.update(as_tensor(obs[k], device).reshape(args.n_envs, groups[k].n_agents, -1))
                    x = observe(agent, obs[k])
                    m = as_tensor(masks[k], device) if k in masks else None
                    a, logp, _ = agent.act(x, m)
                    buf[k]["x"].append(x), buf[k]["a"].append(a), buf[k]["logp"].append(logp)
                    buf[k]["v"].append(agent.value(x)), buf[k]["m"].append(m if m is not None else torch.ones(0))
                    actions[k] = to_env_action(groups[k], a, host)
                    if peers is not None:
                        mixed = np.array(profile_actions({k: peers}, obs, lambda: masks)[k], copy=True)
                        mixed[:, args.deviate] = actions[k][:, args.deviate]
                        actions[k] = mixed
            obs, out, term, trunc = env.step(actions)
            done_t, term_t = as_tensor(term | trunc, device), as_tensor(term, device)
            done = done_t.cpu().numpy()
            ended = no_future(term_t, done_t, gamma)
            next_masks = env.action_masks() if args.decision_credit else {}
            with torch.no_grad():  # V(s') before any reset: a truncated infinite economy still has a future
                for k, agent in agents.items():
                    nv = agent.value(observe(agent, obs[k]))
                    cut = ended[:, None]
                    if k in next_masks:  # the next step is a new decision of the agent: this action's credit ends here
                        decides = decision_rows(groups[k], as_tensor(next_masks[k], device))
                        buf[k]["nd"].append(decides)
                        cut = cut | decides
                    buf[k]["nv"].append(torch.where(cut, torch.zeros_like(nv), nv))
            for k in agents:
                r_t = as_tensor(out.rewards[k], device).double()
                r = r_t.cpu().numpy()
                ep_return[k] += r
                buf[k]["r"].append(r_t)
                buf[k]["d"].append(done_t[:, None].expand(r_t.shape))
                if done.any():
                    finished[k] += ep_return[k][done].mean(axis=1).tolist()
                    ep_return[k][done] = 0.0
            if done.any():
                obs = env.reset(mask=done)
            step += args.n_envs
        rows = slice(None) if peers is None else slice(args.deviate, args.deviate + 1)
        stats: dict[str, float] = {}
        for k, agent in agents.items():
            if point is not None and k not in point.learn:
                continue  # the curriculum has not reached this group: it acts, but is not updated
            ent_coef = point.entropy.get(k, args.ent_coef) if point is not None else args.ent_coef
            stats.update({f"{k}/{n}": v for n, v in update(agent, optims[k], buf[k], args, gamma, rows, ent_coef,
                                                           actor=step > args.critic_warmup).items()})
        bar.update(args.n_envs * args.num_steps)
        if all(finished[k] for k in agents):
            curve.append((step, *[float(np.mean(finished[k][-100:])) for k in agents]))
            bar.set_postfix({k: f"{curve[-1][i + 1]:.4g}" for i, k in enumerate(agents)}, refresh=False)
            stats.update({f"{k}/episode_return": curve[-1][i + 1] for i, k in enumerate(agents)})
        if point is not None:
            stats.update({"curriculum/iteration": point.iteration, **{f"curriculum/{p}": v for p, v in point.params.items()}})
        tracker.log(stats, step)
        torch.save({"agents": {k: a.state_dict() for k, a in agents.items()},
                    "optims": {k: o.state_dict() for k, o in optims.items()}, "step": step, "curve": curve,
                    "torch_rng": torch.get_rng_state(), "args": portable(args), "task_id": task.id}, run / "checkpoint.pt")
        export_policy(run, task, agents, args, step, fixed_part)
    bar.close()
    train_time = time.perf_counter() - t0
    header = "timesteps," + ",".join(f"mean_episode_return_{k}" for k in agents)
    (run / "curve.csv").write_text(header + "\n" + "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in curve))
    if not args.skip_eval:
        result = evaluate_run(make_task(args.task, **args.params), agents, fixed, train_time, args)
        (run / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        tracker.summary({k: v for k, v in result.items() if isinstance(v, (int, float))})
    tracker.finish()
    return run


def portable(args: Args) -> dict[str, Any]:
    """The run's settings for its checkpoint, with paths inside the repository made relative to it.

    Checkpoints shipped in the repository must not carry the training
    machine's absolute paths; a path elsewhere stays as given (that run is
    local and may point at it).
    """
    root = HERE.parent.resolve()
    out = asdict(args)
    for key in ("out", "hyperparams", "init", "fixed"):
        value = out[key]
        if value and Path(value).is_absolute() and Path(value).resolve().is_relative_to(root):
            out[key] = str(Path(value).resolve().relative_to(root))
    return out


def pick_curriculum(task: Task, args: Args, learn: Sequence[str]) -> "curricula.Curriculum | None":
    """``auto``: the card's default curriculum for a from-scratch run (groups that do not learn keep their policy).

    A continuation (``--init``) or a unilateral deviation trains against the
    task as evaluated, without curriculum: upstream's best-response runs do too.
    """
    if args.curriculum_pace not in ("run", "source"):
        raise SystemExit(f"--curriculum-pace must be 'run' or 'source', got {args.curriculum_pace!r}")
    if args.curriculum == "none":
        return None
    if args.curriculum == "auto":
        if args.init or args.deviate >= 0:
            return None
        return curricula.from_task(task)
    try:
        return curricula.from_task(task, args.curriculum)
    except curricula.CurriculumError as exc:
        raise SystemExit(str(exc)) from None


class Tracker:
    """Weights & Biases when ``--track``: online with credentials, otherwise an offline run in the run folder."""

    def __init__(self, args: Args, run: Path, task: Task, cur: "curricula.Curriculum | None") -> None:
        self.run = None
        if not args.track:
            return
        try:
            import wandb
        except ImportError:
            print("--track: wandb is not installed (pip install 'econbench[track]'); continuing without it", file=sys.stderr)
            return
        from econbench.leaderboard.wandb_sync import WandbConfig

        mode = WandbConfig(mode="auto").resolved_mode()
        if mode == "disabled":
            return
        config = {**asdict(args), "task_id": task.id, "curriculum_name": cur.name if cur else None,
                  "groups": {g.name: g.n_agents for g in task.groups}}
        self.run = wandb.init(project=args.wandb_project, entity=args.wandb_entity or None, dir=str(run), mode=mode,
                              name=f"{task.name}/{run.name}", group=task.id, job_type="shared_ppo", config=config,
                              reinit="create_new")
        if mode == "offline":
            print(f"W&B offline run in {self.run.settings.sync_dir} (upload with `wandb sync`)")

    def log(self, metrics: dict[str, float], step: int) -> None:
        if self.run is not None and metrics:
            self.run.log(metrics, step=step)

    def summary(self, values: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.summary.update(values)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


def decision_rows(g: GroupSpec, mask: torch.Tensor) -> torch.Tensor:
    """``(envs, agents)``: agents whose mask leaves more than one choice in some head (they decide this step)."""
    if not isinstance(g.action, DiscreteSpec):
        return torch.ones(mask.shape[:2], dtype=torch.bool, device=mask.device)
    allowed, at = [], 0
    for n in g.action.nvec:
        allowed.append(mask[..., at:at + n].sum(-1) > 1)
        at += n
    return torch.stack(allowed, -1).any(-1)


def no_future(terminated: torch.Tensor, done: torch.Tensor, gamma: float) -> torch.Tensor:
    """Economies whose next state has no value to bootstrap.

    An undiscounted task is finite by definition (an infinite undiscounted sum
    diverges), so its horizon ends the game; with gamma < 1 the horizon
    truncates an infinite game, which still has a future. Bootstrapping past
    the end of an undiscounted game makes V its own target plus the rewards,
    and the critic diverges (RBC's did, and took the actors' updates with it
    through the shared gradient clipping).
    """
    return done if gamma >= 1.0 else terminated


def update(agent: GroupAgent, optim: torch.optim.Optimizer, b: dict[str, list[torch.Tensor]], args: Args,
           gamma: float, rows: slice = slice(None), ent_coef: float | None = None, actor: bool = True) -> dict[str, float]:
    """GAE over the rollout (rows = env x agent; ``rows`` picks the learning agents), then clipped PPO epochs."""
    x, a, logp, v, nv = (torch.stack(b[n])[:, :, rows] for n in ("x", "a", "logp", "v", "nv"))
    r, d = torch.stack(b["r"]).float()[:, :, rows], torch.stack(b["d"]).float()[:, :, rows]
    if b.get("nd"):  # decision credit: the next decision ends the trace like an episode end
        d = torch.maximum(d, torch.stack(b["nd"]).float()[:, :, rows])
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
    if 0 < args.update_rows < n:  # an unbiased subsample of (step, env, agent) rows bounds the cost of 100-agent groups
        keep = torch.randperm(n, device=X.device)[: args.update_rows]
        X, A, LP, ADV, RET = X[keep], A[keep], LP[keep], ADV[keep], RET[keep]
        M = None if M is None else M[keep]
        n = args.update_rows
    size = max(1, n // args.num_minibatches)
    ent_coef = args.ent_coef if ent_coef is None else ent_coef
    for _ in range(args.update_epochs):
        perm = torch.randperm(n, device=X.device)
        for s in range(0, n, size):
            idx = perm[s : s + size]
            _, new_logp, ent = agent.act(X[idx], None if M is None else M[idx], A[idx])
            ratio = (new_logp - LP[idx]).exp()
            adv_b = (ADV[idx] - ADV[idx].mean()) / (ADV[idx].std() + 1e-8)
            pg = torch.max(-adv_b * ratio, -adv_b * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
            vf = 0.5 * ((agent.value(X[idx]) - RET[idx]) ** 2).mean()
            loss = (pg - ent_coef * ent.mean() if actor else 0.0) + args.vf_coef * vf
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optim.step()
    with torch.no_grad():
        kl = ((ratio - 1) - ratio.log()).mean()
    return {"policy_loss": pg.item(), "value_loss": vf.item(), "entropy": ent.mean().item(), "ent_coef": ent_coef,
            "approx_kl": kl.item()}


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
                                   "relative": g.relative if np.isfinite(g.relative) else None,  # strict JSON
                                   "epsilon_ci95": list(g.epsilon_ci)} for g in gaps]
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


def read_checkpoint(run: str | Path) -> dict[str, Any]:
    """A run's ``checkpoint.pt`` read as data: torch's weights-only loader admits tensors and plain containers,
    so a file that carries pickled objects is refused instead of run."""
    path = Path(run) / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{run}: no checkpoint.pt (not a run folder of baselines/shared_ppo.py)")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError: all mean "not our data"
        from econbench.policies import PolicyFileError

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise PolicyFileError(f"{path}: refused, not a checkpoint of tensors and settings only ({first})") from None


def export_policy(run: Path, task: Task, agents: dict[str, GroupAgent], args: Args, step: int,
                  fixed: tuple[dict[str, Any], dict[str, np.ndarray]]) -> Path:
    """The run's deterministic profile as an econbench policy folder (``policy.json``, ``policy.safetensors``):
    the file econbench evaluates, verifies and shares; ``checkpoint.pt`` stays the trainer's own (resume, --init).
    ``fixed`` holds the groups that did not learn (:func:`fixed_groups`).
    """
    from econbench import policies

    groups, arrays = dict(fixed[0]), dict(fixed[1])
    for k, agent in agents.items():
        sd = agent.state_dict()
        action = policies.DiscreteAction(output="logits", masked=True) if agent.discrete else policies.BoxAction()
        norm = policies.ObsNorm(eps=1e-8, clip=10.0, dtype="float32", op="multiply")  # RunningNorm.normalize
        groups[k], a = policies.mlp_group(k, [(sd[f"actor.{i}.weight"], sd[f"actor.{i}.bias"]) for i in (0, 2, 4)],
                                          args.activation, action, sd["obs_norm.mean"], sd["obs_norm.var"], norm,
                                          "float32", sd.get("log_std"))
        arrays.update(a)
    provenance = {"trainer": "baselines/shared_ppo.py", "run": run.name, "seed": args.seed, "timesteps": step,
                  "learn": sorted(agents), "fixed": portable(args)["fixed"] if fixed[0] else None,
                  "deviate": args.deviate if args.deviate >= 0 else None}
    return policies.write_policy(run, task.id, groups, arrays, params=args.params, provenance=provenance)


def fixed_groups(task: Task, args: Args, learn: Sequence[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The policy-file groups (and tensors) of the groups that do not learn: the run's ``--fixed`` named policy,
    or the networks of the run folder it names, copied in so the profile is whole."""
    rest = [g.name for g in task.groups if g.name not in learn]
    source = run_folder(args.fixed)
    if not rest or source is None:
        return {k: args.fixed for k in rest}, {}
    from econbench import policies

    fixed = policies.load(source)
    return ({k: fixed.spec.groups[k] for k in rest},
            {n: v for n, v in fixed.arrays.items() if n.split("/", 1)[0] in rest})


def run_folder(spec: str) -> Path | None:
    """A folder named by ``--fixed``/``--init``-style settings, as given or relative to the repository (how
    checkpoints record it); None for a named policy."""
    return next((d for d in (Path(spec), HERE.parent / spec) if spec and d.is_dir()), None)


def run_params(run: str | Path) -> dict[str, Any]:
    """The task-parameter overrides a run trained with (``--param``), so that work on the run uses its task."""
    return dict(read_checkpoint(run)["args"].get("params", {}))


def load_profile(run: str | Path, deterministic: bool = True) -> tuple[Task, dict[str, Any]]:
    """A trained run's profile, for ``econbench`` metrics (fixed groups as trained; see :func:`learned_profile`)."""
    ck = read_checkpoint(run)
    args = Args(**ck["args"])
    task = make_task(ck["task_id"], **args.params)
    agents = {}
    for k, state in ck["agents"].items():
        agents[k] = GroupAgent(task.group(k), args.hidden, args.log_std_init, args.activation)
        agents[k].load_state_dict(state)
    return task, {**fixed_policies(task, args.fixed, list(agents), deterministic),
                  **learned_profile(task, agents, deterministic)}


def fixed_policies(task: Task, spec: str, learn: Sequence[str], deterministic: bool = True) -> dict[str, Any]:
    """Policies of the groups that do not learn (see :func:`profile_of`)."""
    if len(learn) == len(task.groups):
        return {}
    profile = profile_of(task, spec, deterministic)
    missing = [g.name for g in task.groups if g.name not in learn and g.name not in profile]
    if missing:
        raise SystemExit(f"{spec} has no policy for the fixed group(s) {missing}")
    return {g: f for g, f in profile.items() if g not in learn}


def profile_of(task: Task, spec: str, deterministic: bool = True) -> dict[str, Any]:
    """A named policy, or a run folder of this script (acting by argmax, or sampling with ``deterministic=False``,
    from its ``checkpoint.pt``), or any econbench policy folder (argmax). A folder may be given as is or
    relative to the repository (how checkpoints record it)."""
    run = run_folder(spec)
    if run is None:
        return task.policy(spec)
    if (run / "checkpoint.pt").is_file():
        return load_profile(run, deterministic)[1]
    if not deterministic:
        raise SystemExit(f"{spec}: sampled play needs the run's checkpoint.pt (a policy folder acts by argmax)")
    from econbench.metrics.evaluate import load_policy_folder

    try:
        return load_policy_folder(run, task, get_backend("numpy"))[1]
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> Path:
    return train(parse_args(argv))


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
