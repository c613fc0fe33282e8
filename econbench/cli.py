"""The ``econbench`` command: list, solve, evaluate, gap, bench and publish."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from econbench import __version__
from econbench.cards import UnknownTaskError, load_card
from econbench.registry import make_task, task_ids


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _fmt(x: float) -> str:
    if x == 0 or (1e-3 <= abs(x) < 1e7):
        return f"{x:,.4f}" if abs(x) < 1e3 else f"{x:,.1f}"
    return f"{x:.3e}"


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain fixed-width table (Markdown-compatible pipes)."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in cells)])


def _task(task_id: str, params: dict[str, Any]) -> Any:
    try:
        return make_task(task_id, **params)
    except UnknownTaskError as exc:
        raise CliError(str(exc)) from None
    except (TypeError, ValueError, KeyError) as exc:  # KeyError: a role view's unknown `others` policy
        raise CliError(f"bad task parameters: {exc.args[0] if isinstance(exc, KeyError) else exc}") from None


def _backend(name: str) -> None:
    """Fail before any work when the backend cannot run here (CuPy missing, no CUDA device)."""
    from econbench.backend import BackendUnavailableError, get_backend

    try:
        get_backend(name)
    except BackendUnavailableError as exc:
        raise CliError(f"backend {name!r} is unavailable: {exc}") from None


def _params(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--param expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _task_identity(task: Any) -> dict[str, Any]:
    """What a script needs to match results to a task: ID, version, fingerprint, groups' spaces and discount."""
    from econbench.core import DiscreteSpec
    from econbench.leaderboard.schema import task_fingerprint, task_version

    groups = {
        g.name: {
            "n_agents": g.n_agents,
            "observation_shape": list(g.observation.shape),
            "action": (
                {"kind": "discrete", "nvec": list(g.action.nvec)}
                if isinstance(g.action, DiscreteSpec)
                else {"kind": "box", "shape": list(g.action.shape)}
            ),
            "masked": g.masked,
        }
        for g in task.groups
    }
    return {
        "id": task.id,
        "version": task_version(task.id),
        "fingerprint": task_fingerprint(task.id),
        "groups": groups,
        "discount": task.discount,
        "single_agent": task.is_single_agent,
        "role": None if task.role is None else {"group": task.role.group, "agent": task.role.agent},
    }


def cmd_list(args: argparse.Namespace) -> None:
    if args.json:
        rows = [json.dumps(_task_identity(make_task(tid))) for tid in task_ids()]
        print("[\n" + ",\n".join(rows) + "\n]")  # one task a line: a JSON list that greps
        return
    rows = []
    for tid in task_ids():
        card = load_card(tid)
        task = make_task(tid)
        kind = "single-agent" if task.is_single_agent else " + ".join(f"{g.n_agents} {g.name}" for g in task.groups)
        rows.append({"id": tid, "agents": kind, "summary": card["summary"]})
    print(table(rows, ["id", "agents", "summary"]))


def cmd_solve(args: argparse.Namespace) -> None:
    from econbench.solve import describe_solution

    task = _task(args.task, _params(args.param))
    try:
        print(describe_solution(task))
    except MemoryError:
        raise CliError(f"the exact solution of {task.name} with these parameters does not fit in memory") from None


def cmd_evaluate(args: argparse.Namespace) -> None:
    from econbench.metrics import evaluate, optimality_gap

    _backend(args.backend)
    task = _task(args.task, _params(args.param))
    plot = _plot_path(args.plot, task, args.policy) if args.plot else None
    try:
        res = evaluate(task, args.policy, backend=args.backend, seeds=args.seeds, episodes=args.episodes, progress=True)
    except (ValueError, FileNotFoundError, KeyError, TypeError) as exc:
        raise CliError(str(exc)) from None
    lo, hi = res.ci
    out: dict[str, Any] = {
        "task": task.id,
        "policy": res.policy,
        "score": res.mean,
        "ci95": [lo, hi],
        "seeds": res.seeds,
        "episodes_per_seed": int(res.scores.shape[1]),
        "per_seed": res.per_seed().tolist(),
    }
    if task.is_single_agent and "exact" in task.policies:
        gap = optimality_gap(task, args.policy, backend=args.backend, seeds=args.seeds, episodes=args.episodes)
        out.update(
            optimality_gap=gap.raw, normalized_regret=gap.normalized, normalized_regret_ci95=list(gap.normalized_ci)
        )
    if task.report is not None:  # the family's own metrics beside the score
        from econbench.metrics.evaluate import resolve_policy

        _, profile = resolve_policy(task, args.policy, args.backend)
        out.update(
            task.report(task, profile, seed=res.seeds[0], episodes=int(res.scores.shape[1]), backend=args.backend)
        )
    if args.plot:
        from econbench.plots import plot_rollout

        # against the exact solution, or the card's reference policy where none is known
        reference = task.card["protocol"]["reference_policy"]
        other = "exact" if "exact" in task.policies else reference
        same = args.policy == other or (args.policy == "reference" and other == reference)
        out["plot"] = str(plot_rollout(task, [args.policy] + ([] if same else [other]), plot))
    _emit(out, args.json)


def _plot_path(target: str, task: Any, policy: str) -> Path:
    """``--plot``: a PNG file, or into a folder (an existing one, or a path ending in a separator) as
    ``<task>-<policy>.png``."""
    path = Path(target)
    if path.is_dir() or target.endswith(("/", "\\")):
        return path / f"{task.name}-{re.sub(r'[^A-Za-z0-9._-]+', '_', Path(policy).name or 'policy')}.png"
    if path.parent.exists() and not path.parent.is_dir():
        raise CliError(f"--plot {target}: {path.parent} is a file, not a folder")
    return path


def cmd_gap(args: argparse.Namespace) -> None:
    from econbench.metrics import equilibrium_gap, optimality_gap

    _backend(args.backend)
    task = _task(args.task, _params(args.param))
    if args.method == "trained":
        _trained_gap(task, args)
        return
    try:
        if task.is_single_agent:
            g = optimality_gap(
                task, args.policy, backend=args.backend, seeds=args.seeds, episodes=args.episodes, progress=True
            )
            out: dict[str, Any] = {
                "task": task.id,
                "policy": g.policy,
                "kind": "optimality",
                "V*": g.v_star,
                "V": g.v_policy,
                "V_ref": g.v_reference,
                "reference": g.reference,
                "gap": g.raw,
                "gap_ci95": list(g.raw_ci),
                "normalized_regret": g.normalized,
                "normalized_regret_ci95": list(g.normalized_ci),
            }
        else:
            results = equilibrium_gap(
                task, args.policy, backend=args.backend, seeds=args.seeds, episodes=args.episodes, progress=True
            )
            out = {
                "task": task.id,
                "policy": results[0].policy,
                "kind": "equilibrium",
                "groups": [
                    {
                        "group": r.group,
                        "method": r.method,
                        "epsilon": r.epsilon,
                        "epsilon_ci95": list(r.epsilon_ci),
                        "relative": r.relative,
                        "per_agent_gain": r.gains.mean(axis=0).tolist(),
                        "per_agent_value": r.values.mean(axis=0).tolist(),
                    }
                    for r in results
                ],
            }
    except (ValueError, FileNotFoundError, KeyError, TypeError) as exc:
        raise CliError(str(exc)) from None
    _emit(out, args.json)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return _fmt(value)
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _trained_gap(task: Any, args: argparse.Namespace) -> None:
    from econbench.learn.trained_gap import trained_best_response_gap

    if task.is_single_agent:
        raise CliError("--method trained applies to multi-agent tasks (it retrains one group against the others)")
    if args.budget < 1:
        raise CliError(f"--budget must be positive (PPO steps per group and seed), got {args.budget}")
    groups = args.group or [g.name for g in task.groups]
    for name in groups:  # before any training: an unknown group or an agent outside it
        try:
            n = task.group(name).n_agents
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        if args.agent is not None and not 0 <= args.agent < n:
            raise CliError(f"--agent {args.agent} is out of range: group {name!r} has agents 0..{n - 1}")
    rows = []
    for name in groups:
        try:
            # one group only: a unilateral deviation of agent 0, its peers frozen; --agent asks for it
            agent = args.agent if args.agent is not None else (0 if len(task.groups) == 1 else None)
            r = trained_best_response_gap(
                task.id,
                args.policy,
                name,
                args.budget,
                seeds=args.br_seeds,
                episodes=args.episodes,
                agent=agent,
                sampled=args.sampled,
            )
        except (KeyError, ValueError, FileNotFoundError) as exc:
            raise CliError(str(exc)) from None
        rows.append(
            {
                "group": name,
                "method": r.method,
                "epsilon": r.epsilon,
                "epsilon_ci95": list(r.epsilon_ci),
                "relative": r.relative,
                "per_seed_gain": r.gains.max(axis=1).tolist(),
            }
        )
    out = {
        "task": task.id,
        "policy": args.policy,
        "kind": "equilibrium (trained best response)",
        "groups": rows,
        "epsilon": max(r["relative"] for r in rows),
    }
    _emit(out, args.json)


def _emit(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=2))
        return
    for key, value in out.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for row in value:
                print(f"{key}: " + ", ".join(f"{k}={_show(v)}" for k, v in row.items()))
        else:
            print(f"{key}: {_show(value)}")


def cmd_bench(args: argparse.Namespace) -> None:
    from econbench.bench import FULL_MODE_EXPECTED, run_bench

    _backend(args.backend)
    if args.json:  # checked now, not after the (long) run
        target = Path(args.json)
        if target.is_dir():
            raise CliError(f"--json {args.json} is a folder; give a file name")
        if not target.parent.is_dir():
            raise CliError(f"--json {args.json}: no such folder {target.parent}")
    out = _bench_out(args)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file: the page, figures and runs are written into a folder")
    wandb_cfg = None
    if args.wandb:
        from econbench.leaderboard.wandb_sync import WandbConfig

        wandb_cfg = WandbConfig(entity=args.wandb_entity, project=args.wandb_project)
    if not args.quick:
        print(
            f"full mode: {FULL_MODE_EXPECTED}; --quick evaluates the shipped checkpoints instead of training",
            file=sys.stderr,
        )
    t0 = time.perf_counter()
    try:
        results = run_bench(
            tasks=args.task or None,
            quick=args.quick,
            backend=args.backend,
            store=args.store,
            out_dir=out,
            page=not args.no_page,
            executor=args.executor,
            address=args.address,
            wandb=wandb_cfg,
            progress=True,
            log=lambda m: print(m, file=sys.stderr),
        )
    except (ImportError, ValueError, UnknownTaskError) as exc:
        raise CliError(str(exc)) from None
    rows = []
    for r in results:
        gap = r.headline_gap()
        shown = "" if gap is None else (gap.normalized if gap.kind == "optimality" else gap.relative)
        rows.append(
            {
                "task": r.task.id.split("/")[-1],
                "method": clean(r.method, 40),
                "policy": clean(r.policy, 30),
                "score": _fmt(r.score),
                "score 95% CI": f"[{_fmt(r.score_ci95[0])}, {_fmt(r.score_ci95[1])}]",
                "gap": "" if gap is None else f"{gap.kind[:3]}. {_fmt(shown)}" if shown is not None else "",
                "gap method": "" if gap is None else gap.method,
                "verified": "yes" if r.verified else "no",
            }
        )
    print(table(rows, ["task", "method", "policy", "score", "score 95% CI", "gap", "gap method", "verified"]))
    print(
        f"\n{len(rows)} entries, {time.perf_counter() - t0:.1f} s. gap: opt. = normalized regret (V*-V)/(V*-V_ref), "
        "equ. = largest relative best-response gain"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([json.loads(r.model_dump_json()) for r in results], f, indent=2)
    what = "runs" if args.no_page else "page, table, figures and runs"
    print(f"output folder ({what}): {out}; `econbench publish` updates the repository's leaderboard/")


def _bench_out(args: argparse.Namespace) -> Path:
    """``--out``, else ``leaderboard/`` beside the store: the main job never writes into the checkout."""
    from econbench.leaderboard.publish import default_output
    from econbench.leaderboard.store import default_store_path

    return Path(args.out) if args.out else default_output(args.store or default_store_path())


def cmd_publish(args: argparse.Namespace) -> None:
    """The store as the repository's published leaderboard: entries, figures, page and table."""
    from econbench.leaderboard.publish import default_output, publish
    from econbench.leaderboard.store import StoreError

    try:
        store = _store(args.store, readonly=True)
        source = Path(args.figures) if args.figures else default_output(store.path)
        done = publish(store, args.to, figures_from=source, prune=args.prune)
    except (StoreError, OSError, ValueError) as exc:
        raise CliError(_one_line(exc)) from None
    print(
        f"{len(done.entries)} entries in {Path(args.to) / 'entries'}, {len(done.figures)} figures from "
        f"{source / 'figures'}\npage: {done.page}\ntable: {done.table}"
    )
    if done.stale:
        verb = "removed" if done.removed else "kept (--prune removes them)"
        print(f"{len(done.stale)} published entries the store does not hold: {verb}")


def cmd_measure(args: argparse.Namespace) -> None:
    from econbench.leaderboard.results import measure

    out = Path(args.out) if args.out else None
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise CliError(f"--out {out}: not a file path in an existing folder")
    task = _task(args.task, {})  # entries are measured on the card's parameters
    try:
        result = measure(
            task, args.policy, args.method, args.author, code_url=args.code_url, backend=args.backend, notes=args.notes
        )
    except (ValueError, FileNotFoundError, KeyError, TypeError) as exc:
        raise CliError(" ".join(str(exc).split())) from None
    text = json.dumps(json.loads(result.model_dump_json()), indent=2) + "\n"
    if out is None:
        print(text, end="")
        return
    out.write_text(text)
    print(
        f"wrote {out}: {clean(task.id)} / {clean(result.method)}, score {_fmt(result.score)}; "
        f"`econbench submit {out} --policy {args.policy}` verifies and stores it"
    )


def _store(path: str | None, readonly: bool = False) -> Any:
    """The store; ``readonly`` for commands that only read it, which then work on a read-only file or folder
    and create nothing."""
    from econbench.leaderboard.store import Store

    return Store(path, readonly=readonly)  # a StoreError is one line: cmd_submit and cmd_leaderboard report it


def _one_line(exc: BaseException) -> str:
    """An exception's message for ``econbench: error:``; KeyError's own str() would quote it."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(text).splitlines()) or type(exc).__name__


def clean(text: str, limit: int = 60) -> str:
    """Submitted strings are data: no control characters or escape sequences reach the terminal."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def cmd_submit(args: argparse.Namespace) -> None:
    from econbench.leaderboard.store import StoreError

    try:
        _submit(args)
    except StoreError as exc:
        raise CliError(_one_line(exc)) from None


def _submit(args: argparse.Namespace) -> None:
    from econbench.leaderboard.submit import SubmissionError, submit

    store = _store(args.store)
    try:
        result = submit(args.result, store, policy=args.policy, backend=args.backend)
    except SubmissionError as exc:
        raise CliError(f"refused, nothing stored: {_one_line(exc)}") from None
    state = "verified by re-evaluation" if result.verified else "unverified (no --policy to re-evaluate)"
    print(
        f"stored {result.key()} in {store.path}: {clean(result.task.id)} / {clean(result.method)}, "
        f"score {_fmt(result.score)}, {state}"
    )
    if args.publish:
        print(f"published as {store.export(args.publish, result.key())} (commit it for review)")
    if args.wandb:  # after the store write: a W&B failure cannot lose the entry
        from econbench.leaderboard import wandb_sync

        cfg = wandb_sync.WandbConfig(entity=args.wandb_entity, project=args.wandb_project, store=store.path)
        where = wandb_sync.log_entry(result, cfg)
        print(f"W&B: {where}" if where else "W&B: not logged (see the warning); the entry is stored")


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from econbench.leaderboard.store import StoreError

    if args.entry is not None:
        if args.action not in ("export", "remove") or (args.key and args.key != args.entry):
            raise CliError(f"leaderboard {args.action}: unexpected argument {args.entry!r}")
        args.key = args.entry
    try:
        _leaderboard(args)
    except (StoreError, OSError) as exc:  # corrupt, read-only, full, a folder where a file belongs: one line
        raise CliError(_one_line(exc)) from None


_READ_ONLY_ACTIONS = ("show", "export", "render")


def _leaderboard(args: argparse.Namespace) -> None:
    if args.action == "sync":  # the queue lives beside the store; the store itself is not opened
        _sync(args)
        return
    store = _store(args.store, readonly=args.action in _READ_ONLY_ACTIONS)
    if args.action == "show":
        from econbench.leaderboard.results import summary_row

        rows = []
        for r in store.results(args.task):
            s = summary_row(r)
            rows.append(
                {
                    "task": clean(r.task.id.split("/")[-1]),
                    "method": clean(r.method),
                    "policy": clean(r.policy, 30),
                    "score": _fmt(s["score"]),
                    "95% CI": f"[{_fmt(s['ci95'][0])}, {_fmt(s['ci95'][1])}]",
                    "gap": "" if s["gap"] is None else _fmt(s["gap"]),
                    "verified": "yes" if r.verified else "no",
                    "key": s["key"],
                }
            )
        print(
            table(rows, ["task", "method", "policy", "score", "95% CI", "gap", "verified", "key"])
            if rows
            else f"no entries in {store.path}"
        )
    elif args.action in ("export", "remove"):
        if not args.key:
            raise CliError(f"{args.action} needs a KEY (see `econbench leaderboard show`)")
        try:
            if args.action == "export":
                print(store.export(args.dir, args.key))
            else:
                task, method = store.remove(args.key)
                print(f"removed {args.key} ({clean(task)} / {clean(method)}) from {store.path}")
        except KeyError as exc:
            raise CliError(_one_line(exc)) from None
    elif args.action == "pull":
        from econbench.leaderboard import wandb_sync
        from econbench.leaderboard.store import StoreError

        cfg = wandb_sync.WandbConfig(entity=args.wandb_entity, project=args.wandb_project, store=store.path)
        verify, counts = _verifier(args)
        try:
            n = wandb_sync.pull(cfg, store, verify=verify)
        except StoreError:
            raise
        except Exception as exc:
            raise CliError(f"pull failed, the local store is unchanged: {_one_line(exc)}") from None
        print(f"{n} entries pulled from W&B into {store.path}; {_verified_note(counts)}")
    elif args.action == "render":
        from econbench.leaderboard.publish import default_output
        from econbench.leaderboard.render import render

        try:
            page, md = render(store.results(), args.out or default_output(store.path))
        except ValueError as exc:
            raise CliError(_one_line(exc)) from None
        print(f"page: {page}\ntable: {md}")
    elif args.action == "rebuild":
        verify, counts = _verifier(args)
        try:
            n = store.rebuild(args.dir, verify=verify)
        except ValueError as exc:
            raise CliError(f"nothing rebuilt: {_one_line(exc)}") from None
        print(f"{n} entries from {args.dir} into {store.path}; {_verified_note(counts)}")


def _verifier(args: argparse.Namespace) -> tuple[Any, dict[str, int]]:
    """Re-measurement for entries read from a folder or W&B (a file cannot vouch for itself), with progress."""
    counts = {"verified": 0, "unverified": 0}
    if args.no_verify:
        return None, counts
    from tqdm.auto import tqdm

    from econbench.leaderboard.verify import reverify

    bar = tqdm(desc="re-measuring entries", unit="entry", file=sys.stderr, disable=None, leave=False)  # TTYs only

    def verify(result: Any) -> Any:
        out = reverify(result, log=lambda m: tqdm.write(m, file=sys.stderr))
        counts["verified" if out.verified else "unverified"] += 1
        bar.update()
        return out

    return verify, counts


def _verified_note(counts: dict[str, int]) -> str:
    if not counts["verified"] and not counts["unverified"]:
        return "stored unverified (--no-verify: a file cannot vouch for itself)"
    return (
        f"{counts['verified']} re-measured and verified, {counts['unverified']} stored unverified (no policy at "
        "hand to re-measure, or numbers not reproduced)"
    )


def _sync(args: argparse.Namespace) -> None:
    from econbench.leaderboard import wandb_sync
    from econbench.leaderboard.store import default_store_path

    cfg = wandb_sync.WandbConfig(
        entity=args.wandb_entity,
        project=args.wandb_project,
        store=args.store or default_store_path(),
        sync_timeout=args.timeout,
    )
    try:
        synced = wandb_sync.sync(cfg)
    except Exception as exc:
        raise CliError(f"sync failed, the local store is unchanged: {_one_line(exc)}") from None
    print(f"uploaded {len(synced)} queued run(s) from {cfg.wandb_folder()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="econbench", description="Benchmark tasks for learning solutions of economic games."
    )
    parser.add_argument("--version", action="version", version=f"econbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="registered task IDs with one-line descriptions")
    p_list.add_argument(
        "--json", action="store_true", help="print every ID with its version, fingerprint, groups and discount as JSON"
    )
    p_list.set_defaults(func=cmd_list)

    def task_cmd(name: str, help_: str, func: Any, policy: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--task", required=True, help="task ID (see `econbench list`)")
        p.add_argument("--param", action="append", metavar="KEY=VALUE", help="override a card parameter (repeatable)")
        if policy:
            p.add_argument(
                "--policy",
                default="exact",
                help="a named policy (exact, reference, freeze, ...) or a checkpoint folder from baselines/",
            )
            p.add_argument("--backend", default="numpy", choices=["numpy", "torch", "cupy"])
            p.add_argument("--seeds", type=int, nargs="+", help="evaluation seeds (default: the card's)")
            p.add_argument("--episodes", type=int, help="episodes per seed (default: the card's)")
            p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)
        return p

    task_cmd(
        "solve", "print the exact solution (laws of motion, values, equilibrium policies)", cmd_solve, policy=False
    )
    task_cmd("evaluate", "score a policy under the task's protocol", cmd_evaluate).add_argument(
        "--plot",
        metavar="PNG",
        help="also plot the policy's trajectories against the exact solution (or the reference policy where none is "
        "known), in the task family's own rollout figure where it has one",
    )
    gap = task_cmd("gap", "optimality gap (single-agent IDs) or equilibrium gap (multi-agent IDs)", cmd_gap)
    gap.add_argument(
        "--method",
        choices=["auto", "trained"],
        default="auto",
        help="auto: the task's exact or lower-bound method; trained: retrain each group alone (shared PPO)",
    )
    gap.add_argument("--group", action="append", help="--method trained: the groups to retrain (default: all)")
    gap.add_argument("--budget", type=int, default=200_000, help="--method trained: PPO steps per group and seed")
    gap.add_argument("--br-seeds", type=int, nargs="+", default=[0, 1, 2], help="--method trained: training seeds")
    gap.add_argument(
        "--agent",
        type=int,
        default=None,
        help="--method trained: only this agent of the group retrains, its peers keep their policy (a unilateral "
        "deviation; the default for one-group tasks, where it is agent 0); default: the whole group",
    )
    gap.add_argument(
        "--sampled",
        action="store_true",
        help="--method trained: trained policies act by sampling, before and after (as the AI Economist's analysis does)",
    )
    m = sub.add_parser("measure", help="measure a policy on the card's protocol into a result file for `submit`")
    m.add_argument("--task", required=True, help="task ID (see `econbench list`)")
    m.add_argument("--policy", required=True, help="a policy folder (README: Policy files) or a named policy")
    m.add_argument("--method", required=True, help="the method's name as the leaderboard shows it")
    m.add_argument("--author", action="append", required=True, help="an author (repeatable)")
    m.add_argument("--code-url", help="where the method's code lives (https://...)")
    m.add_argument("--notes", default="", help="a note shown with the entry")
    m.add_argument("--backend", default="numpy", choices=["numpy", "torch", "cupy"])
    m.add_argument("--out", help="write the result JSON here (default: print it)")
    m.set_defaults(func=cmd_measure)
    s = sub.add_parser("submit", help="validate a result file and add it to the leaderboard store")
    s.add_argument("result", help="result JSON file (schema: econbench.leaderboard.schema.Result)")
    s.add_argument(
        "--policy",
        help="the policy folder to re-measure: stored verified, with the verifier's numbers, "
        "only if every claimed number agrees",
    )
    s.add_argument("--store", help="SQLite store (default: $ECONBENCH_STORE or the user data directory)")
    s.add_argument("--backend", default="numpy", choices=["numpy", "torch", "cupy"])
    s.add_argument(
        "--publish", metavar="DIR", help="also write the entry as DIR/<key>.json for review (e.g. leaderboard/entries)"
    )
    s.add_argument("--wandb", action="store_true", help="also log the entry as a W&B run (offline without a key)")
    s.add_argument("--wandb-project", default="econbench-leaderboard")
    s.add_argument("--wandb-entity")
    s.set_defaults(func=cmd_submit)
    lb = sub.add_parser("leaderboard", help="show, export, remove or rebuild the leaderboard store")
    lb.add_argument(
        "action",
        choices=["show", "export", "remove", "rebuild", "render", "sync", "pull"],
        help="show the store; export an entry for review; remove an entry; rebuild the store from "
        "published entries (re-measured where the policy is at hand, else unverified); render the "
        "page; sync queued offline W&B runs; pull entries from a W&B project (likewise)",
    )
    lb.add_argument("--store", help="SQLite store (default: $ECONBENCH_STORE or the user data directory)")
    lb.add_argument("--task", help="show one task only")
    lb.add_argument("entry", nargs="?", metavar="KEY", help="export/remove: the entry's key (or --key)")
    lb.add_argument("--key", help="the entry to export or remove (see `econbench leaderboard show`)")
    lb.add_argument(
        "--dir", default="leaderboard/entries", help="published entries folder (export target, rebuild source)"
    )
    lb.add_argument(
        "--out", help="render: where index.html and LEADERBOARD.md go (default: leaderboard/ beside the store)"
    )
    lb.add_argument("--wandb-project", default="econbench-leaderboard")
    lb.add_argument("--wandb-entity")
    lb.add_argument(
        "--no-verify",
        action="store_true",
        help="rebuild/pull: store every entry unverified instead of re-measuring those whose policy is at "
        "hand (a named policy or a shipped policy folder)",
    )
    lb.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="sync: give up on `wandb sync` after this many seconds (the runs stay queued)",
    )
    lb.set_defaults(func=cmd_leaderboard)
    b = sub.add_parser(
        "bench", help="the main job: every task's reference baselines into the leaderboard, then the page"
    )
    b.add_argument(
        "--quick", action="store_true", help="evaluate shipped SB3 checkpoints instead of training them (minutes)"
    )
    b.add_argument("--task", action="append", help="restrict to these IDs (repeatable)")
    b.add_argument("--backend", default="numpy", choices=["numpy", "torch", "cupy"])
    b.add_argument("--store", help="SQLite store (default: $ECONBENCH_STORE or the user data directory)")
    b.add_argument(
        "--out",
        help="output folder: index.html, LEADERBOARD.md, figures/ and (full mode) runs/ (default: leaderboard/ "
        "beside the store; the checkout is never written, see `econbench publish`)",
    )
    b.add_argument("--no-page", action="store_true", help="skip the figures and the page")
    b.add_argument("--executor", default="local", choices=["local", "ray"], help="run jobs in-process or on Ray")
    b.add_argument("--address", help="Ray cluster address (default: a local Ray instance)")
    b.add_argument(
        "--wandb",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log the new entries to W&B (the default; offline without a key, `econbench leaderboard sync` uploads "
        "the queue); --no-wandb does not",
    )
    b.add_argument("--wandb-project", default="econbench-leaderboard")
    b.add_argument("--wandb-entity")
    b.add_argument("--json", metavar="PATH", help="also write the entries as JSON")
    b.set_defaults(func=cmd_bench)
    pub = sub.add_parser(
        "publish",
        help="write a store as the repository's published leaderboard: entries/*.json, figures/, index.html, "
        "LEADERBOARD.md",
    )
    pub.add_argument("--store", help="SQLite store (default: $ECONBENCH_STORE or the user data directory)")
    pub.add_argument("--to", default="leaderboard", help="the published folder (default: leaderboard)")
    pub.add_argument(
        "--figures", metavar="DIR", help="copy DIR/figures/*.png (default: the store's `econbench bench` output folder)"
    )
    pub.add_argument(
        "--prune", action="store_true", help="remove published entries the store does not hold (old task definitions)"
    )
    pub.set_defaults(func=cmd_publish)
    return parser


def run_script(entry: Callable[[], object], script: str) -> None:
    """A baseline script's entry point: a refused or missing policy or run is one line and exit status 2."""
    from econbench.policies import PolicyFileError

    try:
        entry()
    except (PolicyFileError, FileNotFoundError) as exc:
        print(f"{Path(script).name}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CliError as exc:
        print(f"econbench: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - `econbench list | head`
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
