"""PPO reference baseline for econbench's single-agent tasks (Stable-Baselines3).

One file, top to bottom: arguments -> hyperparameters -> environment -> training
-> checkpoint -> evaluation under the card's protocol. The point is a
reproducible reference number that a new method has to beat (lightly tuned,
see baselines/README.md), so everything a reader needs to judge it is written
next to the checkpoint (``meta.json``, ``eval.json``).

    python baselines/sb3_ppo.py --task econbench/InvestmentLQ-Planner-v0 --seed 0

Training runs on :class:`econbench.adapters.sb3.EconSB3VecEnv` (the batched
simulator speaking SB3's VecEnv protocol, no Python loop over environments),
wrapped in ``VecMonitor`` (episode statistics in natural units) and
``VecNormalize`` (observation and reward scaling: the LQ planner's rewards are
~1e5 per step, the stochastic planner's ~40). PPO's discount and the
reward normaliser's discount are the task's own, so the agent optimises the
objective the benchmark scores.

The run folder is an econbench policy folder (``policy.json`` and
``policy.safetensors``: the actor's weights and VecNormalize's frozen
observation statistics, exported from memory by
``econbench.policies.sb3.export_sb3``; no pickle is written or read), with
``meta.json``, ``curve.csv`` and ``eval.json`` beside it.

Role views with discrete masked actions (EVCharging-Driver-v0: MultiDiscrete
heads, a dict observation with the action mask) train on the features alone
(``FeaturesOnly``; the masks are advisory there: an agent that cannot act has
its action ignored, and "can act" is one of its features) with integer
actions; econbench's evaluate scores such a checkpoint folder itself (argmax),
and :func:`checkpoint_profile` adds sampled play. A
view without an ``exact`` policy has no optimality gap: its ``eval.json``
compares the score with the card's named policies on common random numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecMonitor, VecNormalize
from tqdm.auto import tqdm

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
try:
    import econbench
except ModuleNotFoundError:  # a source checkout without `pip install -e .`: use the package next to us
    sys.path.insert(0, str(HERE.parent))
    import econbench
from econbench.adapters.sb3 import EconSB3VecEnv
from econbench.core import Task
from econbench.backend import get_backend
from econbench.core import DiscreteSpec
from econbench.metrics import evaluate, optimality_gap
from econbench.metrics.stats import bootstrap_ci
from econbench.policies.sb3 import export_sb3
from econbench.registry import make_task

DEFAULT_HYPERPARAMS = HERE / "hyperparams" / "ppo.toml"
DEFAULT_OUT = HERE / "checkpoints"

# Keys of a hyperparameter table that configure the run rather than PPO itself.
RUN_KEYS = {"n_envs", "total_timesteps", "normalize", "lr_schedule", "init_action", "reward_offset"}
ACTIVATIONS: dict[str, type[torch.nn.Module]] = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


@dataclass
class Args:
    """Command-line arguments; ``None`` means "take it from the hyperparameter file"."""

    task: str = "econbench/InvestmentLQ-Planner-v0"
    seed: int = 0
    total_timesteps: int | None = None
    n_envs: int | None = None
    hyperparams: Path = DEFAULT_HYPERPARAMS
    hp: list[str] = field(default_factory=list)  # extra overrides, KEY=TOML_VALUE, e.g. n_steps=64
    out: Path = DEFAULT_OUT
    run_name: str | None = None  # default ppo_seed<seed>
    eval_freq: int = 0  # timesteps between intermediate gap evaluations (0: only at the end)
    no_eval: bool = False
    threads: int = 1  # torch CPU threads; small MLPs run fastest on one
    verbose: int = 0  # 0: tqdm bar, 1: SB3's own tables as well
    track: bool = False  # log to Weights & Biases (needs `pip install 'econbench[track]'`)
    wandb_project: str = "econbench"
    rescore: Path | None = None  # evaluate this checkpoint folder again (rewrites its eval.json), no training


def parse_args(argv: Sequence[str] | None = None) -> Args:
    d = Args()
    p = argparse.ArgumentParser(description="Train the SB3 PPO baseline on an econbench single-agent task, score it.")
    p.add_argument("--task", default=d.task, help="task ID (a -Planner- or role ID)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--total-timesteps", type=int, default=None, help="default: the hyperparameter file's")
    p.add_argument("--n-envs", type=int, default=None, help="parallel economies; default: the hyperparameter file's")
    p.add_argument("--hyperparams", type=Path, default=d.hyperparams,
                   help="TOML file with a [default] table and one table per task ID")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                   help="override one hyperparameter, VALUE in TOML syntax (repeatable), e.g. --hp learning_rate=1e-3")
    p.add_argument("--out", type=Path, default=d.out, help="root folder; the run goes to OUT/<TaskName>/<run-name>/")
    p.add_argument("--run-name", default=None, help="default: ppo_seed<seed>")
    p.add_argument("--eval-freq", type=int, default=d.eval_freq,
                   help="every this many timesteps, print the normalized regret on the card's protocol (0: off)")
    p.add_argument("--no-eval", action="store_true", help="skip the final evaluation (no eval.json)")
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")
    p.add_argument("--verbose", type=int, default=d.verbose, choices=[0, 1, 2])
    p.add_argument("--track", action="store_true", help="log to Weights & Biases (no-op if wandb is missing)")
    p.add_argument("--wandb-project", default=d.wandb_project)
    p.add_argument("--rescore", type=Path, default=None, metavar="FOLDER",
                   help="only evaluate this checkpoint folder again and rewrite its eval.json")
    ns = p.parse_args(argv)
    return Args(**{k: v for k, v in vars(ns).items()})


def load_hyperparams(path: Path, task_id: str, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """``[default]`` updated by the task's table (full or short ID), then by ``--hp`` overrides.

    ``policy_kwargs`` and ``normalize`` merge key by key so a task table only
    names what differs. ``gamma`` is refused: it is the task's discount.
    """
    with Path(path).open("rb") as f:
        tables = tomllib.load(f)
    short = task_id.split("/")[-1]
    task_tables = [t for key, t in tables.items() if key in (task_id, short)]
    if not task_tables:
        print(f"note: {path} has no table for {task_id}; using [default] only", file=sys.stderr)
    layers = [tables.get("default", {}), *task_tables]
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--hp expects KEY=VALUE, got {item!r}")
        try:
            layers.append(tomllib.loads(f"{key.strip()} = {value.strip()}"))
        except tomllib.TOMLDecodeError:  # a bare word: --hp lr_schedule=linear
            layers.append(tomllib.loads(f"{key.strip()} = {json.dumps(value.strip())}"))
    hp: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(hp.get(key), dict):
                hp[key] = {**hp[key], **value}
            else:
                hp[key] = value
    if "gamma" in hp:
        raise ValueError("gamma is the task's discount and may not be set in the hyperparameter file")
    return hp


def linear_schedule(initial: float) -> Callable[[float], float]:
    """Learning rate decaying linearly to zero (SB3 passes the remaining progress, 1 -> 0)."""
    return lambda progress_remaining: progress_remaining * initial


def ppo_kwargs(hp: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters PPO's constructor takes, with names turned into objects."""
    kw = {k: v for k, v in hp.items() if k not in RUN_KEYS}
    pk = dict(kw.pop("policy_kwargs", {}))
    if "activation_fn" in pk:
        pk["activation_fn"] = ACTIVATIONS[pk["activation_fn"]]
    if "net_arch" in pk and isinstance(pk["net_arch"], dict):
        pk["net_arch"] = {k: list(v) for k, v in pk["net_arch"].items()}
    kw["policy_kwargs"] = pk
    if hp.get("lr_schedule", "constant") == "linear":
        kw["learning_rate"] = linear_schedule(float(kw.get("learning_rate", 3e-4)))
    return kw


def set_initial_action(model: PPO, task: Task, action: float | Sequence[float]) -> None:
    """Start the Gaussian policy's mean at ``action`` (task units; one value, or one per action dimension) in every state.

    SB3 initialises the action head with tiny weights, so its bias alone sets
    the initial mean. Needed where the default start (the middle of the action
    box) is ruinous: in the stochastic planner any constant rate above delta
    grows capacity geometrically and the quadratic term of the reward
    overflows within an episode.
    """
    g = learner_group(task)
    if isinstance(g.action, DiscreteSpec):
        raise ValueError(f"{task.name}: init_action applies to Box actions only")
    low, high = (np.asarray(v, dtype=np.float64).ravel() for v in g.action.bounds())
    normalized = 2.0 * (np.broadcast_to(np.asarray(action, dtype=np.float64), low.shape) - low) / (high - low) - 1.0
    with torch.no_grad():
        bias = model.policy.action_net.bias
        bias.copy_(torch.as_tensor(normalized, dtype=bias.dtype))


def learner_group(task: Task) -> Any:
    return task.group(task.role.group) if task.role else task.groups[0]


def is_discrete(task: Task) -> bool:
    return isinstance(learner_group(task).action, DiscreteSpec)


class FeaturesOnly(VecEnvWrapper):
    """A masked view's ``{"observation", "action_mask"}`` observations reduced to the features.

    What ``econbench.metrics.evaluate`` hands a single-agent policy is the
    feature array, so the policy must be trained on it too; the masks of the
    EV driver view are advisory (an action of a driver who cannot act is ignored).
    """

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv, observation_space=venv.observation_space["observation"])

    def _features(self, obs: Any) -> np.ndarray:
        return obs["observation"] if isinstance(obs, dict) else obs

    def reset(self) -> np.ndarray:
        return self._features(self.venv.reset())

    def step_wait(self) -> Any:
        obs, reward, done, infos = self.venv.step_wait()
        for info in infos:
            if "terminal_observation" in info:
                info["terminal_observation"] = self._features(info["terminal_observation"])
        return self._features(obs), reward, done, infos


class RewardOffset(VecEnvWrapper):
    """Adds a constant to every training reward (after ``VecMonitor``, so the logged returns stay natural).

    In a task whose episodes all last the horizon a constant per step shifts
    every policy's return equally: the ranking of policies is unchanged. The
    operator's rewards are -PoA ~ -1.01 per hour; learning the 1e-3 differences
    on top of -1 is hard for a value net, so its table sets 1.
    """

    def __init__(self, venv: VecEnv, offset: float) -> None:
        super().__init__(venv)
        self.offset = float(offset)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, reward, done, infos = self.venv.step_wait()
        return obs, (reward + self.offset).astype(np.float32), done, infos


def make_env(task: Task, n_envs: int, hp: dict[str, Any]) -> VecNormalize:
    """Batched economies -> episode statistics -> (reward offset) -> running observation/reward normalisation.

    Box actions act in [-1, 1] (mapped onto the card's bounds); discrete heads as indices.
    """
    venv: VecEnv = EconSB3VecEnv(task.id, num_envs=n_envs, normalize_actions=not is_discrete(task))
    if isinstance(venv.observation_space, spaces.Dict):
        venv = FeaturesOnly(venv)
    venv = VecMonitor(venv)
    if hp.get("reward_offset"):
        venv = RewardOffset(venv, float(hp["reward_offset"]))
    norm = {"norm_obs": True, "norm_reward": True, "clip_obs": 10.0, "clip_reward": 10.0, **hp.get("normalize", {})}
    return VecNormalize(venv, gamma=task.discount, **norm)


class ProgressCallback(BaseCallback):
    """A tqdm bar over timesteps with the recent mean episode return (natural units, undiscounted)."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.bar: tqdm | None = None
        self.curve: list[tuple[int, float]] = []  # (timesteps, mean episode return): the learning curve

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, unit="step", unit_scale=True, dynamic_ncols=True, mininterval=1.0)

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.total = max(self.total, self.model.num_timesteps)  # the last rollout may overshoot
        self.bar.update(self.model.num_timesteps - self.bar.n)
        return True

    def _on_rollout_end(self) -> None:
        buf = self.model.ep_info_buffer
        if buf:
            self.curve.append((int(self.model.num_timesteps), float(np.mean([e["r"] for e in buf]))))
        if self.bar is not None and buf:
            self.bar.set_postfix(ep_return=f"{np.mean([e['r'] for e in buf]):.4g}", refresh=False)

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def snapshot_policy(model: PPO, vecnorm: VecNormalize, task: Task) -> Callable[[np.ndarray], np.ndarray]:
    """The current deterministic policy in natural units, as ``load_checkpoint`` would rebuild it."""
    g = learner_group(task)
    low, high = (np.asarray(v, dtype=np.float64) for v in g.action.bounds())  # type: ignore[union-attr]

    def policy(obs: np.ndarray) -> np.ndarray:
        act, _ = model.predict(vecnorm.normalize_obs(obs).astype(np.float32), deterministic=True)
        return low + (np.clip(np.asarray(act, dtype=np.float64), -1.0, 1.0) + 1.0) * 0.5 * (high - low)

    return policy


def checkpoint_profile(task: Task, folder: str | Path, deterministic: bool = True) -> str | dict[str, Any]:
    """A checkpoint as a policy spec for ``econbench.metrics``.

    Deterministic play: the folder itself (econbench reads the policy folder,
    Box or discrete). ``deterministic=False`` (discrete views) samples the
    actions as SB3 does in training, which econbench does not offer: the actor
    rebuilt in torch from the folder's tensors, one categorical draw per head,
    the learner's row from it and everyone else from the role's fixed policy
    (torch's global generator: seed it for repeatable scores).
    """
    if deterministic:
        return str(folder)
    if not is_discrete(task):
        raise ValueError("sampled actions: discrete views only")
    from econbench import policies

    pf = policies.load(folder)
    g = learner_group(task)
    spec = pf.spec.groups.get(g.name)
    if not isinstance(spec, policies.spec.NetworkGroup) or spec.network.type != "mlp":
        raise ValueError(f"{folder}: sampled play needs an MLP for group {g.name!r}")
    b = get_backend("numpy")
    modules: list[torch.nn.Module] = []
    for w, bias in policies.runtime.layers(pf, g.name):  # SB3's actor: Linear, activation, ..., Linear
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(w))
            linear.bias.copy_(torch.as_tensor(bias))
        modules += [linear, ACTIVATIONS[spec.network.activation]()]
    net = torch.nn.Sequential(*modules[:-1])
    normalize = policies.runtime.observation_normalizer(pf, g.name, spec.obs_norm, int(np.prod(g.observation.shape)), b)
    nvec = list(g.action.nvec)
    role = task.role
    if role is None:  # a one-agent task with discrete actions
        others: dict[str, Any] = {}
        agent = 0
    else:
        others = task.policy(role.others, b)
        agent = role.agent

    def learner(obs: np.ndarray) -> np.ndarray:
        x = normalize(np.asarray(obs[:, agent], dtype=np.float64))  # VecNormalize.normalize_obs, as exported
        with torch.no_grad():
            logits = net(torch.as_tensor(x.astype(np.float32)))
            heads = [torch.distributions.Categorical(logits=part).sample() for part in torch.split(logits, nvec, dim=1)]
        return torch.stack(heads, dim=1).numpy().astype(np.int64)

    def group_policy(obs: np.ndarray) -> np.ndarray:
        base = others[g.name](obs) if g.name in others else np.zeros((*obs.shape[:2], *g.action.shape), np.int64)
        acts = np.array(base, dtype=np.int64, copy=True)
        acts[:, agent] = learner(obs)
        return acts

    return {**others, g.name: group_policy}


class GapCallback(BaseCallback):
    """Every ``freq`` timesteps, the normalized regret on the card's protocol (exact/reference runs cached)."""

    def __init__(self, task: Task, vecnorm: VecNormalize, freq: int, log: Callable[[dict[str, float]], None]) -> None:
        super().__init__()
        self.task, self.vecnorm, self.freq, self.log = task, vecnorm, freq, log
        self.exact = evaluate(task, "exact")
        self.reference = evaluate(task, "reference")
        self.next_at = freq

    def _on_step(self) -> bool:
        if self.model.num_timesteps >= self.next_at:
            self.next_at += self.freq
            gap = optimality_gap(self.task, snapshot_policy(self.model, self.vecnorm, self.task),
                                 exact=self.exact, reference=self.reference)
            self.log({"timesteps": self.model.num_timesteps, "normalized_regret": gap.normalized, "gap": gap.raw})
        return True


class Tracker:
    """Weights & Biases if asked for and installed; otherwise a no-op that says so once."""

    def __init__(self, args: Args, config: dict[str, Any]) -> None:
        self.run = None
        if not args.track:
            return
        try:
            import wandb
        except ImportError:
            print("--track: wandb is not installed (pip install 'econbench[track]'); continuing without tracking",
                  file=sys.stderr)
            return
        self.run = wandb.init(project=args.wandb_project, name=f"{config['task_name']}/{config['run_name']}",
                              config=config)

    def log(self, metrics: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.log(metrics)

    def finish(self, summary: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.summary.update(summary)
            self.run.finish()


def train(args: Args) -> Path:
    """Train, save the checkpoint folder, evaluate it; returns the folder."""
    task = make_task(args.task)
    if not task.is_single_agent:
        raise SystemExit(f"{task.id} is multi-agent; PPO trains its single-agent views (-Planner- or role IDs)")
    hp = load_hyperparams(args.hyperparams, task.id, args.hp)
    if args.n_envs is not None:
        hp["n_envs"] = args.n_envs
    if args.total_timesteps is not None:
        hp["total_timesteps"] = args.total_timesteps
    n_envs, total = int(hp.get("n_envs", 16)), int(hp.get("total_timesteps", 1_000_000))
    run_name = args.run_name or f"ppo_seed{args.seed}"
    folder = Path(args.out) / task.name / run_name
    folder.mkdir(parents=True, exist_ok=True)

    config = {"task_id": task.id, "task_name": task.name, "run_name": run_name, "seed": args.seed,
              "gamma": task.discount, "hyperparameters": hp}
    tracker = Tracker(args, config)
    print(f"{task.id}: PPO seed {args.seed}, {total:,} timesteps on {n_envs} envs, gamma {task.discount} -> {folder}")
    print("hyperparameters: " + json.dumps(hp))

    def log_gap(m: dict[str, float]) -> None:
        tqdm.write(f"  {m['timesteps']:>10,} steps: normalized regret {m['normalized_regret']:.4f}, gap {m['gap']:.3e}")
        tracker.log(m)

    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)  # before building the nets: their initialisation depends on it too
    try:
        env = make_env(task, n_envs, hp)
        model = PPO("MlpPolicy", env, gamma=task.discount, seed=args.seed, verbose=args.verbose, device="cpu",
                    **ppo_kwargs(hp))
        if "init_action" in hp:
            set_initial_action(model, task, hp["init_action"])
        progress = ProgressCallback(total)
        callbacks: list[BaseCallback] = [progress]
        if args.eval_freq > 0 and "exact" in task.policies and not is_discrete(task):
            callbacks.append(GapCallback(task, env, args.eval_freq, log_gap))
        t0 = time.perf_counter()
        model.learn(total_timesteps=total, callback=CallbackList(callbacks))
        train_time = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)  # leave the caller's setting alone (tests run in one process)

    # The checkpoint: the deterministic actor and the frozen observation statistics as data, and what produced them.
    meta = {
        "task_id": task.id, "algo": "ppo", "normalize_actions": not is_discrete(task), "seed": args.seed,
        "total_timesteps": total, "timesteps": int(model.num_timesteps), "n_envs": n_envs, "gamma": task.discount,
        "hyperparameters": hp, "train_time_s": round(train_time, 2),
        "econbench_version": econbench.__version__, "stable_baselines3_version": _version("stable_baselines3"),
        "torch_version": torch.__version__, "python_version": platform.python_version(),
        "torch_threads": args.threads, "command": _command(args),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    export_sb3(folder, model, task, env, provenance={"run": run_name, "seed": args.seed, "total_timesteps": total,
                                                      "timesteps": int(model.num_timesteps), "command": meta["command"]})
    curve = "timesteps,mean_episode_return\n" + "".join(f"{t},{r:.10g}\n" for t, r in progress.curve)
    (folder / "curve.csv").write_text(curve)  # undiscounted return of the last 100 episodes, natural units
    print(f"trained {model.num_timesteps:,} timesteps in {train_time:.1f} s; checkpoint in {folder}")

    if not args.no_eval:
        result = score(task, folder, train_time)
        (folder / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
        print_result(result)
        tracker.log({f"final/{k}": v for k, v in result.items() if isinstance(v, float)})
        tracker.finish(result)
    else:
        tracker.finish({})
    env.close()
    return folder


def score(task: Task, folder: Path, train_time: float) -> dict[str, Any]:
    """Score, optimality gap and normalized regret of the saved checkpoint on the card's protocol.

    A view without an ``exact`` policy has no optimality gap: the score is
    compared with each named policy's instead (``vs_named``: the mean paired
    difference, learned minus named, episode by episode on common random
    numbers, with a stratified bootstrap interval).
    """
    if "exact" not in task.policies:
        return score_without_optimum(task, folder, train_time)
    res = evaluate(task, str(folder))
    gap = optimality_gap(task, str(folder))
    proto = task.card["protocol"]
    return {
        "task_id": task.id, "policy": str(folder.name), "eval_seeds": list(proto["eval_seeds"]),
        "episodes_per_seed": int(proto["episodes_per_seed"]),
        "score": res.mean, "score_ci95": list(res.ci),
        "v_star": gap.v_star, "v_reference": gap.v_reference, "reference": gap.reference,
        "gap": gap.raw, "gap_ci95": list(gap.raw_ci),
        "normalized_regret": gap.normalized, "normalized_regret_ci95": list(gap.normalized_ci),
        "train_time_s": round(train_time, 2),
    }


def score_without_optimum(task: Task, folder: Path, train_time: float) -> dict[str, Any]:
    proto = task.card["protocol"]
    res = evaluate(task, checkpoint_profile(task, folder))
    learned = res.scores.ravel()
    strata = np.repeat(np.arange(res.scores.shape[0]), res.scores.shape[1])
    named = {name: evaluate(task, name) for name in sorted(task.policies)}
    vs: dict[str, Any] = {}
    for name, other in named.items():
        diff = learned - other.scores.ravel()
        vs[name] = {"score": other.mean, "score_ci95": list(other.ci), "difference": float(diff.mean()),
                    "difference_ci95": list(bootstrap_ci(diff, strata))}
    out = {
        "task_id": task.id, "policy": str(folder.name), "eval_seeds": list(proto["eval_seeds"]),
        "episodes_per_seed": int(proto["episodes_per_seed"]), "score": res.mean, "score_ci95": list(res.ci),
        "reference": proto["reference_policy"], "vs_named": vs, "train_time_s": round(train_time, 2),
    }
    if is_discrete(task):  # the policy as it acted in training: sampled, torch seeded for repeatability
        rng = torch.get_rng_state()
        torch.manual_seed(0)
        try:
            sampled = evaluate(task, checkpoint_profile(task, folder, deterministic=False))
        finally:
            torch.set_rng_state(rng)
        out["sampled"] = {"score": sampled.mean, "score_ci95": list(sampled.ci), "torch_seed": 0, "vs_named": {}}
        for name, other in named.items():
            diff = sampled.scores.ravel() - other.scores.ravel()
            out["sampled"]["vs_named"][name] = {"difference": float(diff.mean()),
                                                "difference_ci95": list(bootstrap_ci(diff, strata))}
    return out


def print_result(r: dict[str, Any]) -> None:
    if "vs_named" in r:
        lo, hi = r["score_ci95"]
        print(f"score {r['score']:.6g} [{lo:.6g}, {hi:.6g}] (no exact optimum: paired differences, learned - named)")
        for name, v in r["vs_named"].items():
            print(f"  {name:>14}: {v['score']:.6g}; difference {v['difference']:+.4g} "
                  f"[{v['difference_ci95'][0]:+.4g}, {v['difference_ci95'][1]:+.4g}]")
        if "sampled" in r:
            sp = r["sampled"]
            print(f"sampled actions (torch seed 0): score {sp['score']:.6g} [{sp['score_ci95'][0]:.6g}, {sp['score_ci95'][1]:.6g}]")
            for name, v in sp["vs_named"].items():
                print(f"  {name:>14}: difference {v['difference']:+.4g} "
                      f"[{v['difference_ci95'][0]:+.4g}, {v['difference_ci95'][1]:+.4g}]")
        print(f"training time {r['train_time_s']:.1f} s")
        return
    lo, hi = r["score_ci95"]
    print(f"score {r['score']:.6g} [{lo:.6g}, {hi:.6g}]  "
          f"(V* {r['v_star']:.6g}, {r['reference']} {r['v_reference']:.6g})")
    print(f"optimality gap {r['gap']:.4e} [{r['gap_ci95'][0]:.4e}, {r['gap_ci95'][1]:.4e}]")
    print(f"normalized regret {r['normalized_regret']:.4f} "
          f"[{r['normalized_regret_ci95'][0]:.4f}, {r['normalized_regret_ci95'][1]:.4f}]")
    print(f"training time {r['train_time_s']:.1f} s")


def _version(module: str) -> str:
    return str(getattr(__import__(module), "__version__", "unknown"))


def _command(args: Args) -> str:
    """The command that reproduces this run (paths as given)."""
    parts = ["python baselines/sb3_ppo.py", f"--task {args.task}", f"--seed {args.seed}"]
    if args.total_timesteps is not None:
        parts.append(f"--total-timesteps {args.total_timesteps}")
    if args.n_envs is not None:
        parts.append(f"--n-envs {args.n_envs}")
    if Path(args.hyperparams).resolve() != DEFAULT_HYPERPARAMS:
        parts.append(f"--hyperparams {args.hyperparams}")
    parts += [f"--hp {h}" for h in args.hp]
    if args.threads != Args.threads:
        parts.append(f"--threads {args.threads}")
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> Path:
    args = parse_args(argv)
    if args.rescore is not None:
        rescore(args.rescore)
        return Path(args.rescore)
    return train(args)


def rescore(folder: str | Path) -> dict[str, Any]:
    """Evaluate a checkpoint folder again and rewrite its ``eval.json`` (training time kept from ``meta.json``)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    result = score(make_task(meta["task_id"]), folder, float(meta["train_time_s"]))
    (folder / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    print_result(result)
    return result


if __name__ == "__main__":
    from econbench.cli import run_script

    run_script(main, __file__)
