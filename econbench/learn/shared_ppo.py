"""Shared-parameter PPO for econbench's multi-agent tasks.

One actor-critic network per agent group (:mod:`econbench.learn.networks`); the group's agents are folded into the
batch, so 10 firms in 4096 economies are 40,960 rows of one forward pass. It steps the batched core directly (no
Gymnasium wrapper), reads action masks from it, and handles both continuous (Box, Gaussian in [-1, 1] mapped onto
the card's bounds) and multi-discrete masked groups.

:func:`train` writes ``<out>/<Task>/<run>/`` (see :mod:`econbench.learn.runs`; ``runs/`` by default, the shipped
checkpoints only with ``ship``: :mod:`econbench.learn.outputs`). Its ``curve.csv`` has each learning group's mean
undiscounted episode return per agent and ``mean_discounted_return``, the card's score of the episodes (discounted
at the card's rate, as :mod:`econbench.adapters.episode` reports it), both over the last 100 episodes.

A task whose card declares a curriculum (RBC) trains on it: the card's stages say which groups are updated when (the
others still act), its annealed parameters (action masks, labour disutility) are applied to the running economies,
and its entropy schedule replaces ``ent_coef``. The whole schedule is spread over ``total_timesteps`` (``curriculum_pace="run"``)
or kept at the source's pace (``"source"``). ``track`` logs to Weights & Biases (:mod:`econbench.learn.track`)
under CleanRL's names, per group where each group has its own (``losses/value_loss/<group>``).

    from econbench.learn import SharedPPOConfig, shared_ppo
    run = shared_ppo.train(SharedPPOConfig.for_task("econbench/InvestmentOligopoly-v0", seed=0))
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from econbench import curriculum as curricula
from econbench.adapters.episode import DiscountedEpisodes, scored_reward
from econbench.allocator import keep_freed_memory
from econbench.backend import Backend
from econbench.core import BatchedEnv, DiscreteSpec, GroupSpec, Task, profile_actions
from econbench.learn.config import SharedPPOConfig
from econbench.learn.networks import GroupAgent, action_mapping, as_tensor, mask_bias, observe
from econbench.learn.outputs import run_dir
from econbench.learn.runs import (
    evaluate_run,
    export_policy,
    fixed_groups,
    fixed_policies,
    portable,
    profile_of,
    read_checkpoint,
)
from econbench.learn.track import Tracker, write_curve
from econbench.registry import make_task


def train(args: SharedPPOConfig) -> Path:
    """Train, checkpoint after every update, score the learned profile (unless ``skip_eval``); returns the run folder."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # every update frees and reallocates the same megabytes (EVCharging-v0: 1.03x, 8x fewer faults)
    start = None
    if args.init:  # a continuation keeps the run's architecture and task parameters
        start = read_checkpoint(args.init)
        for key in ("hidden", "activation", "log_std_init"):
            setattr(args, key, start["args"].get(key, getattr(args, key)))
        args.params = {**start["args"].get("params", {}), **args.params}
    task = make_task(args.task, **args.params)
    if task.role is not None:  # a planner (one group of one agent) trains here as plain PPO
        raise SystemExit(
            f"{task.id} is a role view (one learner among fixed others): train it with SB3 PPO "
            "(econbench.learn.sb3, baselines/sb3_ppo.py)"
        )
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
    run = run_dir(args.out, task.name, args.run_name or f"shared_ppo_seed{args.seed}", args.ship)
    device = torch.device(args.device)
    host = args.backend == "numpy"
    if not host and (fixed or peers is not None):
        raise SystemExit(
            f"--backend {args.backend}: fixed groups follow NumPy policies; use it when every group learns"
        )
    # Learners sample inside the curriculum's masks; a fixed rule (RBC's flat tax) acts as in upstream's kernel,
    # which executes any table action: a curriculum's early masks restrict what is learned, not the baseline.
    violation = "execute" if fixed else "error"
    if args.shared_draws < 1 or args.n_envs % args.shared_draws:
        raise SystemExit(f"--shared-draws must divide --n-envs ({args.n_envs}) into groups, got {args.shared_draws}")
    env = BatchedEnv(
        task,
        args.n_envs,
        args.backend,
        device=None if host else device,
        seed=args.seed,
        mask_violation=violation,
        shared_draws=args.shared_draws,
    )
    for name, per_group in (("--lr-scale", args.lr_scale), ("--log-std", args.log_std)):
        bad = set(per_group) - {g.name for g in task.groups}
        if bad:
            raise SystemExit(f"{name} names group(s) {sorted(bad)} that {task.name} does not have")
    agents = {
        g.name: GroupAgent(g, args.hidden, float(args.log_std.get(g.name, args.log_std_init)), args.activation).to(
            device
        )
        for g in task.groups
        if g.name in learn
    }
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
    optims = {k: adam(a.parameters(), lrs[k]) for k, a in agents.items()}
    step, curve = 0, []  # curve rows: step, each learning group's mean episode return, the mean discounted score
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
        step, curve = ck["step"], [(*row, float("nan"))[: len(agents) + 2] for row in ck["curve"]]  # older: no score
        torch.set_rng_state(ck["torch_rng"])
        env = BatchedEnv(
            task,
            args.n_envs,
            args.backend,
            device=None if host else device,
            seed=args.seed + step,
            mask_violation=violation,
            shared_draws=args.shared_draws,
        )  # a fresh stream for the continued run
        print(f"resumed {run} at step {step:,}")
    groups = {k: task.group(k) for k in agents}
    fixed_part = fixed_groups(task, args, list(agents))
    gamma = task.discount
    total = max(1, args.total_timesteps // (args.n_envs * args.num_steps)) * args.n_envs * args.num_steps
    config = {
        **asdict(args),
        "task_id": task.id,
        "curriculum_name": cur.name if cur else None,
        "groups": {g.name: g.n_agents for g in task.groups},
    }
    tracker = Tracker(
        args.track,
        project=args.wandb_project,
        entity=args.wandb_entity,
        name=f"{task.name}/{run.name}",
        config=config,
        folder=run,
        group=task.id,
        job_type="shared_ppo",
        tags=[task.name, "shared_ppo", args.backend, args.device, f"seed{args.seed}"],
    )
    point = None
    if cur is not None:
        point = cur.at(cur.iteration_at(step, total if args.curriculum_pace == "run" else None))
        curricula.apply(env, point)
        print(
            f"curriculum {cur.name!r} ({cur.source or task.id}), pace {args.curriculum_pace}: "
            + "; ".join(f"from iteration {st.start:g}: {', '.join(st.learn)} learn" for st in cur.stages)
        )
    obs = env.reset()
    bounds = {k: action_mapping(g, device, host) for k, g in groups.items()}

    def seen(agent: GroupAgent, o: np.ndarray, update: bool) -> torch.Tensor:
        if update:
            agent.obs_norm.update(as_tensor(o, device).reshape(args.n_envs, o.shape[1], -1))
        return observe(agent, o)

    xs: dict[str, torch.Tensor] | None = None  # the normalised observations the actors see next
    ep_return = {k: np.zeros((args.n_envs, g.n_agents)) for k, g in groups.items()}
    finished: dict[str, deque[float]] = {k: deque(maxlen=100) for k in groups}
    scored = DiscountedEpisodes(args.n_envs, gamma)  # the score's return, as the adapters report it
    scores: deque[float] = deque(maxlen=100)
    lengths: deque[int] = deque(maxlen=100)
    t0, start = time.perf_counter(), step
    saved = t0
    bar = tqdm(total=total, initial=step, unit="step", unit_scale=True, mininterval=1.0)
    while step < total:
        if cur is not None:
            point = cur.at(cur.iteration_at(step, total if args.curriculum_pace == "run" else None))
            curricula.apply(env, point)
        if args.anneal_lr:
            for k, o in optims.items():
                o.param_groups[0]["lr"] = (1.0 - step / total) * lrs[k]
        buf: dict[str, dict[str, list[Any]]] = {
            k: {n: [] for n in ("x", "m", "a", "logp", "cut", "terminal", "r", "d", "nd")} for k in agents
        }
        for t in range(args.num_steps):
            masks = env.action_masks()
            actions: dict[str, np.ndarray] = profile_actions(fixed, obs, lambda: masks)
            with torch.no_grad():
                if xs is None:  # after a reset (or at the start)
                    xs = {k: seen(agent, obs[k], update=True) for k, agent in agents.items()}
                for k, agent in agents.items():
                    x = xs[k]
                    m = mask_bias(as_tensor(masks[k], device)) if k in masks else None
                    a, logp, _ = agent.act(x, m, entropy=False)
                    buf[k]["x"].append(x), buf[k]["a"].append(a), buf[k]["logp"].append(logp)
                    buf[k]["m"].append(m if m is not None else torch.ones(0))
                    actions[k] = bounds[k](a)
                    if peers is not None:
                        mixed = np.array(profile_actions({k: peers}, obs, lambda: masks)[k], copy=True)
                        mixed[:, args.deviate] = actions[k][:, args.deviate]
                        actions[k] = mixed
            obs, out, term, trunc = env.step(actions)
            done_t, term_t = as_tensor(term | trunc, device), as_tensor(term, device)
            host = to_host(env.backend, {**out.rewards, WELFARE: out.welfare, DONE: term | trunc})
            done = host[DONE].astype(bool)
            ended = no_future(term_t, done_t, gamma)
            next_masks = env.action_masks() if args.decision_credit else {}
            with torch.no_grad():  # s' before any reset: a truncated infinite economy still has a future
                # Without a reset, s' is what the actors see next (statistics updated first, as every observation
                # an actor sees is counted); with one, the state the economies ended in is kept for V(s').
                xs = {k: seen(agent, obs[k], update=not done.any()) for k, agent in agents.items()}
                for k in agents:
                    cut = ended[:, None]
                    if k in next_masks:  # the next step is a new decision of the agent: this action's credit ends here
                        decides = decision_rows(groups[k], as_tensor(next_masks[k], device))
                        buf[k]["nd"].append(decides)
                        cut = cut | decides
                    buf[k]["cut"].append(cut)
                    if done.any():
                        buf[k]["terminal"].append((t, xs[k]))
            for k in agents:
                r_t = as_tensor(out.rewards[k], device).double()
                r = host[k]
                ep_return[k] += r
                buf[k]["r"].append(r_t)
                buf[k]["d"].append(done_t[:, None].expand(r_t.shape))
                if done.any():
                    finished[k].extend(ep_return[k][done].mean(axis=1).tolist())
                    ep_return[k][done] = 0.0
            group_rewards = {k: host[k] for k in out.rewards}
            ended = scored.step(scored_reward(task, host[WELFARE], group_rewards), done)
            if ended is not None:
                scores.extend(ended.r[ended.done].tolist())
                lengths.extend(ended.l[ended.done].tolist())
            if done.any():
                obs = env.reset(mask=done)
                xs = None
            step += args.n_envs
        rows = slice(None) if peers is None else slice(args.deviate, args.deviate + 1)
        stats: dict[str, float] = {}
        for k, agent in agents.items():
            stats[f"charts/learning_rate/{k}"] = optims[k].param_groups[0]["lr"]
            if point is not None and k not in point.learn:
                continue  # the curriculum has not reached this group: it acts, but is not updated
            ent_coef = point.entropy.get(k, args.ent_coef) if point is not None else args.ent_coef
            tail = None if xs is None else xs[k]  # s' of the last step (None: it ended an episode, kept in terminal)
            losses = update(
                agent, optims[k], buf[k], args, gamma, rows, ent_coef, actor=step > args.critic_warmup, tail=tail
            )
            stats[f"charts/ent_coef/{k}"] = losses.pop("ent_coef")
            stats.update({f"losses/{n}/{k}": v for n, v in losses.items()})  # CleanRL's names, one per group
        bar.update(args.n_envs * args.num_steps)
        stats["charts/SPS"] = int((step - start) / max(time.perf_counter() - t0, 1e-9))
        if all(finished[k] for k in agents):
            curve.append((step, *[float(np.mean(finished[k])) for k in agents], float(np.mean(scores))))
            bar.set_postfix({k: f"{curve[-1][i + 1]:.4g}" for i, k in enumerate(agents)}, refresh=False)
            stats.update({f"charts/episodic_return/{k}": curve[-1][i + 1] for i, k in enumerate(agents)})
            stats["charts/discounted_episodic_return"] = curve[-1][-1]
            stats["charts/episodic_length"] = float(np.mean(lengths))
        if point is not None:
            stats.update(
                {"curriculum/iteration": point.iteration, **{f"curriculum/{p}": v for p, v in point.params.items()}}
            )
        tracker.log(stats, step)
        if step < total and time.perf_counter() - saved < args.checkpoint_every_s:
            continue  # RBC updates every 0.3 s: a checkpoint and a policy export each time cost 5 % of the run
        saved = time.perf_counter()
        torch.save(
            {
                "agents": {k: a.state_dict() for k, a in agents.items()},
                "optims": {k: o.state_dict() for k, o in optims.items()},
                "step": step,
                "curve": curve,
                "torch_rng": torch.get_rng_state(),
                "args": portable(args),
                "task_id": task.id,
            },
            run / "checkpoint.pt",
        )
        export_policy(run, task, agents, args, step, fixed_part)
    bar.close()
    train_time = time.perf_counter() - t0
    # means over the last 100 episodes: each group's undiscounted return per agent, the discounted score
    columns = ["timesteps", *(f"mean_episode_return_{k}" for k in agents), "mean_discounted_return"]
    write_curve(run / "curve.csv", columns, curve)
    if not args.skip_eval:
        result = evaluate_run(make_task(args.task, **args.params), agents, fixed, train_time, args)
        (run / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        tracker.summary({k: v for k, v in result.items() if isinstance(v, (int, float))})
    tracker.finish()
    return run


WELFARE, DONE = "#welfare", "#done"  # to_host's keys beside the groups' names (which never start with "#")


def to_host(backend: Backend, arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``(n_envs, ...)`` backend arrays as float64 NumPy arrays, in one device-to-host copy: each copy waits for the
    device, and a step's rewards, welfare and done flags were eight of them (RBC on a GPU). NumPy's pass as they are."""
    if backend.name == "numpy":
        return {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    xp = backend.xp
    n = next(iter(arrays.values())).shape[0]
    flat = [xp.reshape(xp.astype(v, xp.float64), (n, -1)) for v in arrays.values()]
    joined = backend.to_numpy(xp.concat(flat, axis=1))
    out, at = {}, 0
    for (k, v), f in zip(arrays.items(), flat):
        width = int(f.shape[1])
        out[k] = joined[:, at : at + width].reshape(tuple(v.shape))
        at += width
    return out


def pick_curriculum(task: Task, args: SharedPPOConfig, learn: Sequence[str]) -> curricula.Curriculum | None:
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


def decision_rows(g: GroupSpec, mask: torch.Tensor) -> torch.Tensor:
    """``(envs, agents)``: agents whose mask leaves more than one choice in some head (they decide this step)."""
    if not isinstance(g.action, DiscreteSpec):
        return torch.ones(mask.shape[:2], dtype=torch.bool, device=mask.device)
    allowed, at = [], 0
    for n in g.action.nvec:
        allowed.append(mask[..., at : at + n].sum(-1) > 1)
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


def bootstrap_values(
    agent: GroupAgent,
    x: torch.Tensor,
    cuts: list[torch.Tensor],
    terminal: list[tuple[int, torch.Tensor]],
    tail: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """V(s) of every rollout step, and V(s') (0 where ``cuts`` ends the credit), in one forward pass.

    The critic does not change during the rollout, so its values are taken
    here over the whole batch rather than step by step: V(s') is the next
    step's V(s), except after a reset (the state the economy ended in, kept in
    ``terminal``) and after the last step (``tail``).
    """
    with torch.no_grad():
        v = agent.value(x)
        nv = torch.empty_like(v)
        nv[:-1] = v[1:]
        if tail is not None:
            nv[-1] = agent.value(tail)
        for t, xt in terminal:
            nv[t] = agent.value(xt)
        nv.masked_fill_(torch.stack(cuts).expand_as(nv), 0.0)
    return v, nv


def relative_to_group(adv: torch.Tensor, k: int) -> torch.Tensor:
    """``(steps, envs, agents)`` advantages minus the mean of the same agent's in the other k - 1 economies of its
    group of common random numbers (consecutive envs): a leave-one-out baseline, independent of the agent's action."""
    steps, envs = adv.shape[:2]
    a = adv.reshape(steps, envs // k, k, *adv.shape[2:])
    others = (a.sum(2, keepdim=True) - a) / (k - 1)
    return (a - others).reshape(adv.shape)


def adam(params: Any, lr: float) -> torch.optim.Optimizer:
    """Adam as CleanRL's PPO sets it (eps 1e-5); fused (one kernel for every parameter) where torch has it."""
    try:
        return torch.optim.Adam(params, lr=lr, eps=1e-5, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - a torch or device without the fused kernel
        return torch.optim.Adam(params, lr=lr, eps=1e-5)


def update(
    agent: GroupAgent,
    optim: torch.optim.Optimizer,
    b: dict[str, list[Any]],
    args: SharedPPOConfig,
    gamma: float,
    rows: slice = slice(None),
    ent_coef: float | None = None,
    actor: bool = True,
    tail: torch.Tensor | None = None,
) -> dict[str, float]:
    """GAE over the rollout (rows = env x agent; ``rows`` picks the learning agents), then clipped PPO epochs."""
    x = torch.stack(b["x"])
    v, nv = bootstrap_values(agent, x, b["cut"], b["terminal"], tail)
    x, v, nv = x[:, :, rows], v[:, :, rows], nv[:, :, rows]
    a, logp = (torch.stack(b[n])[:, :, rows] for n in ("a", "logp"))
    r, d = torch.stack(b["r"]).float()[:, :, rows], torch.stack(b["d"]).float()[:, :, rows]
    if b.get("nd"):  # decision credit: the next decision ends the trace like an episode end
        d = torch.maximum(d, torch.stack(b["nd"]).float()[:, :, rows])
    agent.ret_norm.update(r)
    r = r / torch.sqrt(agent.ret_norm.var + 1e-8).float()  # scale, not shift: keeps the sign of profits
    delta = r + gamma * nv - v  # nv: V of the state after step t (0 only if terminated)
    carry = (1.0 - d).mul_(gamma * args.gae_lambda)
    adv = torch.empty_like(delta)
    adv[-1] = delta[-1]
    for t in range(r.shape[0] - 2, -1, -1):  # one fused op per step: the recursion is all that is sequential
        torch.addcmul(delta[t], carry[t], adv[t + 1], out=adv[t])
    ret = adv + v
    if args.shared_draws > 1:
        adv = relative_to_group(adv, args.shared_draws)
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
    clipped: list[torch.Tensor] = []
    for _ in range(args.update_epochs):
        perm = torch.randperm(n, device=X.device)
        for s in range(0, n, size):
            idx = perm[s : s + size]
            xb, mb = X[idx], None if M is None else M[idx]
            _, new_logp, ent = agent.act(xb, mb, A[idx], entropy=ent_coef != 0.0)
            ratio = (new_logp - LP[idx]).exp()
            clipped.append(((ratio - 1.0).abs() > args.clip_coef).float().mean().detach())
            adv_b = (ADV[idx] - ADV[idx].mean()) / (ADV[idx].std() + 1e-8)
            pg = torch.max(-adv_b * ratio, -adv_b * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
            vf = 0.5 * ((agent.value(xb) - RET[idx]) ** 2).mean()
            loss = (
                pg - ent_coef * ent.mean() if actor and ent is not None else pg if actor else 0.0
            ) + args.vf_coef * vf
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm, foreach=True)
            optim.step()
    with torch.no_grad():
        if ent is None:  # not in the loss (ent_coef 0): the last minibatch's, for the log only
            ent = agent.act(xb, mb, A[idx])[2]
        kl = ((ratio - 1) - ratio.log()).mean()
        var = RET.var()  # the critic's values before the update are RET - ADV: 1 - var(ADV) / var(RET) explained
        explained = (1.0 - ADV.var() / var).item() if var > 0 else float("nan")
    return {
        "policy_loss": pg.item(),
        "value_loss": vf.item(),
        "entropy": ent.mean().item(),
        "ent_coef": ent_coef,
        "approx_kl": kl.item(),
        "clipfrac": torch.stack(clipped).mean().item(),
        "explained_variance": explained,
    }
