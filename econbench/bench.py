"""The main job: every task's reference baselines measured into the leaderboard.

A run is a list of jobs (exact solution, fixed policies, SB3 PPO: the shipped
checkpoints in ``--quick`` mode, trained with each card's budget otherwise).
Each job's entry key is known before it runs, so a resumed run skips what the
store already holds. Jobs run in-process or fan out on Ray; afterwards the
figures and the page are rendered from the store into the output folder (never
into the checkout: ``econbench publish`` does that on purpose), and entries are
logged to W&B when asked (offline when there is no key; a W&B failure never
loses an entry, the store is written first).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from econbench.leaderboard.publish import default_output, runs_folder
from econbench.leaderboard.reference import (  # noqa: F401 - the plan's names, re-exported for callers of the job
    AUTHORS,
    FULL_MODE_EXPECTED,
    REPO,
    SHIPPED_PREFIX,
    Job,
    checkpoint_dirs,
    is_sb3_run,
    plan,
    reference_names,
)
from econbench.leaderboard.results import measure
from econbench.leaderboard.schema import Result
from econbench.leaderboard.store import Store
from econbench.registry import make_task, task_ids


def _train(job: Job) -> None:
    """Train SB3 PPO into the job's folder with the task's packaged hyperparameters and the card's budget."""
    from econbench.learn import sb3
    from econbench.learn.config import SB3PPOConfig

    folder = Path(job.policy)
    sb3.train(
        SB3PPOConfig(
            task=job.task_id,
            seed=int(job.seed or 0),
            total_timesteps=job.total_timesteps,
            out=folder.parent.parent,
            run_name=folder.name,
            no_eval=True,
        )
    )


def run_job(job: Job, store_path: str, backend: str = "numpy") -> dict[str, Any]:
    """Produce one entry (skipped when the store has it); returns what happened, for the progress report."""
    store = Store(store_path)
    key = job.key(backend)
    try:
        stored = store.get(key)
    except KeyError:
        stored = None
    if stored is not None and stored.verified and stored.authors == AUTHORS:  # measured by a run of this job before
        return {"key": key, "job": job, "status": "skipped (stored)", "seconds": 0.0}
    t0 = time.perf_counter()
    if job.kind == "train" and not is_sb3_run(Path(job.policy)):
        _train(job)
    result = measure(job.task_id, job.policy, job.method, AUTHORS, policy_label=job.label, backend=backend)
    store.add(result.model_copy(update={"verified": True}), replace=True)  # measured here; replaces anything else
    return {"key": key, "job": job, "status": "done", "seconds": time.perf_counter() - t0}


def _run_local(jobs: list[Job], store_path: str, backend: str, progress: bool) -> list[dict[str, Any]]:
    out = []
    with tqdm(jobs, desc="econbench bench", disable=not progress) as bar:
        for job in bar:
            bar.set_postfix_str(f"{job.task_id.split('/')[-1]}: {job.label}", refresh=False)
            out.append(run_job(job, store_path, backend))
    return out


def _run_ray(
    jobs: list[Job], store_path: str, backend: str, progress: bool, address: str | None
) -> list[dict[str, Any]]:
    """One Ray task per job (1 CPU each); the store serialises their writes."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("--executor ray needs Ray: pip install 'econbench[distributed]'") from exc
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # workers import econbench from this checkout even when it is not pip-installed
            ray.init(include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        remote = ray.remote(num_cpus=1)(run_job)
        pending = [remote.remote(job, store_path, backend) for job in jobs]
        out: list[dict[str, Any]] = []
        with tqdm(total=len(pending), desc="econbench bench (ray)", disable=not progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                out += ray.get(done)
                bar.update(len(done))
        return out
    finally:
        if started:
            ray.shutdown()


def run_bench(
    tasks: Sequence[str] | None = None,
    quick: bool = True,
    backend: str = "numpy",
    store: str | Path | None = None,
    out_dir: str | Path | None = None,
    executor: str = "local",
    address: str | None = None,
    wandb: Any = None,
    progress: bool = True,
    runs_dir: Path | None = None,
    log: Callable[[str], None] = print,
    page: bool = True,
) -> list[Result]:
    """Run the jobs, then render figures and the page from the store; returns the store's entries.

    Everything is written into the store and ``out_dir`` (default: ``leaderboard/`` beside the store): the
    page, the table, the figures and, in full mode, the trained runs (``<out_dir>/runs``), never into the
    checkout, so a run leaves a repository as it was. ``econbench publish`` updates the repository's page.
    """
    store_obj = Store(store)
    out = Path(out_dir) if out_dir is not None else default_output(store_obj.path)
    runs_dir = runs_dir or runs_folder(out)
    jobs = plan(tasks, quick, runs_dir)
    t0 = time.perf_counter()
    if executor == "local":
        done = _run_local(jobs, str(store_obj.path), backend, progress)
    elif executor == "ray":
        done = _run_ray(jobs, str(store_obj.path), backend, progress, address)
    else:
        raise ValueError(f"unknown executor {executor!r}; choose local or ray")
    new = [d for d in done if d["status"] == "done"]
    log(
        f"{len(new)} entries measured, {len(done) - len(new)} already stored, in {time.perf_counter() - t0:.1f} s "
        f"({'quick' if quick else 'full'} mode, {executor} executor); store: {store_obj.path}"
    )
    wanted = {make_task(t).id for t in (tasks or task_ids())}
    results = [r for r in store_obj.results() if r.task.id in wanted]
    if page:
        from econbench.leaderboard.figures import write_figures
        from econbench.leaderboard.render import render

        write_figures(sorted(wanted), out / "figures", runs=[runs_dir])
        index, table = render(store_obj.results(), out)
        log(f"page: {index}\ntable: {table}")
    if wandb is not None:
        import dataclasses

        from econbench.leaderboard import wandb_sync

        if wandb.store is None:  # offline runs queue beside this store, where `leaderboard sync --store` looks
            wandb = dataclasses.replace(wandb, store=store_obj.path)
        for d in new:
            wandb_sync.log_entry(store_obj.get(d["key"]), wandb)
        wandb_sync.log_table(store_obj.results(), wandb)
    return results
