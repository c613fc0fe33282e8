"""PPO (Stable-Baselines3) on econbench's single-agent views: hyperparameters -> environment -> training -> policy
folder -> evaluation under the card's protocol (``econbench bench`` full mode trains with it).

Training runs on :class:`econbench.adapters.sb3.EconSB3VecEnv` (the batched
simulator speaking SB3's VecEnv protocol, no Python loop over environments),
which reports episode statistics in natural units as ``VecMonitor`` would and
the discounted return the benchmark scores beside them, wrapped in
``VecNormalize`` (observation and reward scaling: the LQ planner's rewards are
~1e5 per step, the stochastic planner's ~40). PPO's discount and the
reward normaliser's discount are the task's own, so the agent optimises the
objective the benchmark scores.

The run folder is an econbench policy folder (``policy.json`` and
``policy.safetensors``: the actor's weights and VecNormalize's frozen
observation statistics, exported from memory by
:func:`econbench.policies.sb3.export_sb3`; no pickle is written or read), with
``meta.json``, ``curve.csv`` (``timesteps,mean_episode_return,mean_discounted_return``:
means over the last 100 episodes, undiscounted as SB3 logs them and discounted as the
benchmark scores) and ``eval.json`` (:mod:`econbench.learn.sb3_score`) beside it. It
goes to ``<out>/<TaskName>/<run>/``, ``runs/`` by default; the shipped checkpoints
only with ``ship=True`` (:mod:`econbench.learn.outputs`). ``track=True`` logs the
curve and PPO's losses to W&B under CleanRL's names (:mod:`econbench.learn.track`).

Role views with discrete masked actions (EVCharging-Driver-v0: MultiDiscrete
heads, a dict observation with the action mask) train on the features alone
(``FeaturesOnly``; the masks are advisory there: an agent that cannot act has
its action ignored, and "can act" is one of its features) with integer
actions.

    from econbench.learn import sb3
    from econbench.learn.config import SB3PPOConfig
    folder = sb3.train(SB3PPOConfig(task="econbench/InvestmentLQ-Planner-v0", seed=0))  # runs/<Task>/ppo_seed0
"""

from __future__ import annotations

import json
import platform
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize
from tqdm.auto import tqdm

import econbench
from econbench.adapters.episode import KEY
from econbench.adapters.sb3 import EconSB3VecEnv
from econbench.core import DiscreteSpec, Task
from econbench.learn.config import SB3_PPO_HYPERPARAMS, SB3PPOConfig, sb3_hyperparams
from econbench.learn.outputs import run_dir
from econbench.learn.sb3_score import ACTIVATIONS, is_discrete, learner_group, print_result, score
from econbench.learn.track import Tracker, write_curve
from econbench.metrics import evaluate, optimality_gap
from econbench.policies.sb3 import export_sb3
from econbench.registry import make_task

# Keys of a hyperparameter table that configure the run rather than PPO itself.
RUN_KEYS = {"n_envs", "total_timesteps", "normalize", "lr_schedule", "init_action", "reward_offset"}


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
    """Adds a constant to every training reward (after the adapter's episode statistics: logged returns stay natural).

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
    """Batched economies (which report episode statistics) -> (reward offset) -> observation/reward normalisation.

    Box actions act in [-1, 1] (mapped onto the card's bounds); discrete heads as indices.
    """
    # trained on features only, a masked view's learner may pick what its mask forbids while it learns: executed
    # as the dynamics define (the training env is not the benchmark); the policy folder's runtime applies the masks
    venv: VecEnv = EconSB3VecEnv(
        task.id, num_envs=n_envs, normalize_actions=not is_discrete(task), mask_violation="execute"
    )
    if isinstance(venv.observation_space, spaces.Dict):
        venv = FeaturesOnly(venv)
    if hp.get("reward_offset"):
        venv = RewardOffset(venv, float(hp["reward_offset"]))
    norm = {"norm_obs": True, "norm_reward": True, "clip_obs": 10.0, "clip_reward": 10.0, **hp.get("normalize", {})}
    return VecNormalize(venv, gamma=task.discount, **norm)


# SB3's logger keys -> CleanRL's metric names (entropy: SB3 logs the loss, minus the mean entropy)
LOSSES = {
    "train/value_loss": ("losses/value_loss", 1.0),
    "train/policy_gradient_loss": ("losses/policy_loss", 1.0),
    "train/entropy_loss": ("losses/entropy", -1.0),
    "train/approx_kl": ("losses/approx_kl", 1.0),
    "train/clip_fraction": ("losses/clipfrac", 1.0),
    "train/explained_variance": ("losses/explained_variance", 1.0),
    "train/learning_rate": ("charts/learning_rate", 1.0),
}


class ProgressCallback(BaseCallback):
    """A tqdm bar over timesteps, the learning curve and the training metrics for the tracker.

    The curve's returns are means over the last 100 episodes: the undiscounted
    one SB3 logs as ``ep_rew_mean``, and the discounted one the benchmark scores
    (the adapter's ``info["discounted_episode"]``).
    """

    def __init__(self, total: int, log: Callable[[dict[str, float], int], None] | None = None) -> None:
        super().__init__()
        self.total = total
        self.log = log
        self.bar: tqdm | None = None
        self.discounted: deque[float] = deque(maxlen=100)  # as SB3's ep_info_buffer
        self.curve: list[tuple[int, float, float]] = []  # (timesteps, mean episode return, mean discounted return)

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, unit="step", unit_scale=True, dynamic_ncols=True, mininterval=1.0)
        self.t0, self.start = time.perf_counter(), int(self.model.num_timesteps)

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.total = max(self.total, self.model.num_timesteps)  # the last rollout may overshoot
        self.bar.update(self.model.num_timesteps - self.bar.n)
        self.discounted.extend(info[KEY]["r"] for info in self.locals["infos"] if KEY in info)
        return True

    def _on_rollout_start(self) -> None:
        self._log_losses()  # the previous update's: SB3 records them in train(), after the rollout it used

    def _on_rollout_end(self) -> None:
        buf = self.model.ep_info_buffer
        if not buf:
            return
        steps = int(self.model.num_timesteps)
        ret, disc = float(np.mean([e["r"] for e in buf])), float(np.mean(self.discounted))
        self.curve.append((steps, ret, disc))
        if self.bar is not None:
            self.bar.set_postfix(ep_return=f"{ret:.4g}", discounted=f"{disc:.4g}", refresh=False)
        if self.log is not None:
            charts = {
                "charts/episodic_return": ret,
                "charts/episodic_length": float(np.mean([e["l"] for e in buf])),
                "charts/discounted_episodic_return": disc,
                "charts/SPS": int((steps - self.start) / max(time.perf_counter() - self.t0, 1e-9)),
            }
            self.log(charts, steps)

    def _log_losses(self) -> None:
        values = self.model.logger.name_to_value
        losses = {name: sign * float(values[key]) for key, (name, sign) in LOSSES.items() if key in values}
        if self.log is not None and "losses/value_loss" in losses:
            self.log(losses, int(self.model.num_timesteps))

    def _on_training_end(self) -> None:
        self._log_losses()
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


class GapCallback(BaseCallback):
    """Every ``freq`` timesteps, the normalized regret on the card's protocol (exact/reference runs cached)."""

    def __init__(
        self, task: Task, vecnorm: VecNormalize, freq: int, log: Callable[[dict[str, float], int], None]
    ) -> None:
        super().__init__()
        self.task, self.vecnorm, self.freq, self.log = task, vecnorm, freq, log
        self.exact = evaluate(task, "exact")
        self.reference = evaluate(task, "reference")
        self.next_at = freq

    def _on_step(self) -> bool:
        if self.model.num_timesteps >= self.next_at:
            self.next_at += self.freq
            gap = optimality_gap(
                self.task,
                snapshot_policy(self.model, self.vecnorm, self.task),
                exact=self.exact,
                reference=self.reference,
            )
            self.log({"eval/normalized_regret": gap.normalized, "eval/gap": gap.raw}, int(self.model.num_timesteps))
        return True


def train(args: SB3PPOConfig) -> Path:
    """Train, save the checkpoint folder, evaluate it; returns the folder."""
    task = make_task(args.task)
    if not task.is_single_agent:
        raise SystemExit(f"{task.id} is multi-agent; PPO trains its single-agent views (-Planner- or role IDs)")
    hp = sb3_hyperparams(args.hyperparams, task.id, args.hp)
    if args.n_envs is not None:
        hp["n_envs"] = args.n_envs
    if args.total_timesteps is not None:
        hp["total_timesteps"] = args.total_timesteps
    n_envs, total = int(hp.get("n_envs", 16)), int(hp.get("total_timesteps", 1_000_000))
    run_name = args.run_name or f"ppo_seed{args.seed}"
    folder = run_dir(args.out, task.name, run_name, args.ship)

    config = {
        "task_id": task.id,
        "task_name": task.name,
        "run_name": run_name,
        "seed": args.seed,
        "gamma": task.discount,
        "hyperparameters": hp,
    }
    tracker = Tracker(
        args.track,
        project=args.wandb_project,
        name=f"{task.name}/{run_name}",
        config=config,
        folder=folder,
        group=task.id,
        job_type="sb3_ppo",
        tags=[task.name, "sb3_ppo", "numpy", f"seed{args.seed}"],
    )
    print(f"{task.id}: PPO seed {args.seed}, {total:,} timesteps on {n_envs} envs, gamma {task.discount} -> {folder}")
    print("hyperparameters: " + json.dumps(hp))

    def log_gap(m: dict[str, float], step: int) -> None:
        tqdm.write(f"  {step:>10,} steps: normalized regret {m['eval/normalized_regret']:.4f}, gap {m['eval/gap']:.3e}")
        tracker.log(m, step)

    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)  # before building the nets: their initialisation depends on it too
    try:
        env = make_env(task, n_envs, hp)
        model = PPO(
            "MlpPolicy", env, gamma=task.discount, seed=args.seed, verbose=args.verbose, device="cpu", **ppo_kwargs(hp)
        )
        if "init_action" in hp:
            set_initial_action(model, task, hp["init_action"])
        progress = ProgressCallback(total, tracker.log if tracker.run is not None else None)
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
        "task_id": task.id,
        "algo": "ppo",
        "normalize_actions": not is_discrete(task),
        "seed": args.seed,
        "total_timesteps": total,
        "timesteps": int(model.num_timesteps),
        "n_envs": n_envs,
        "gamma": task.discount,
        "hyperparameters": hp,
        "train_time_s": round(train_time, 2),
        "econbench_version": econbench.__version__,
        "stable_baselines3_version": _version("stable_baselines3"),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "torch_threads": args.threads,
        "command": command(args),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    export_sb3(
        folder,
        model,
        task,
        env,
        provenance={
            "run": run_name,
            "seed": args.seed,
            "total_timesteps": total,
            "timesteps": int(model.num_timesteps),
            "command": meta["command"],
        },
    )
    # means over the last 100 episodes, natural units: the undiscounted return, and the discounted one the score is
    write_curve(folder / "curve.csv", ["timesteps", "mean_episode_return", "mean_discounted_return"], progress.curve)
    print(f"trained {model.num_timesteps:,} timesteps in {train_time:.1f} s; checkpoint in {folder}")

    if not args.no_eval:
        result = score(task, folder, train_time)
        (folder / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
        print_result(result)
        tracker.log({f"final/{k}": v for k, v in result.items() if isinstance(v, float)}, int(model.num_timesteps))
        tracker.summary(result)
    tracker.finish()
    env.close()
    return folder


def _version(module: str) -> str:
    return str(getattr(__import__(module), "__version__", "unknown"))


def command(args: SB3PPOConfig) -> str:
    """The command that reproduces this run (paths as given)."""
    parts = ["python baselines/sb3_ppo.py", f"--task {args.task}", f"--seed {args.seed}"]
    if args.total_timesteps is not None:
        parts.append(f"--total-timesteps {args.total_timesteps}")
    if args.n_envs is not None:
        parts.append(f"--n-envs {args.n_envs}")
    if Path(args.hyperparams).resolve() != SB3_PPO_HYPERPARAMS:
        parts.append(f"--hyperparams {args.hyperparams}")
    parts += [f"--hp {h}" for h in args.hp]
    if args.threads != SB3PPOConfig.threads:
        parts.append(f"--threads {args.threads}")
    return " ".join(parts)
