"""Prints the throughput figures (env-steps/s and ratios) as tables after the benchmark run, with the issues' goals."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import sys

    import bench_throughput as bt

    tr = terminalreporter
    if bt.RATES or bt.RATIOS or bt.GOALS:
        _vector_summary(tr, bt)
    if bt.BLOCK_RATES:
        _blocks_summary(tr, bt)
    _rbc_summary(tr, bt)
    _rice_summary(tr, bt)
    _ev_summary(tr, bt)
    if "bench_gpu" in sys.modules:
        _device_summary(tr, sys.modules["bench_gpu"])


def _device_summary(tr: Any, bg: Any) -> None:
    """ci/bench_gpu.py: each task's batched core on each device backend, and the large EV city."""
    for spec, rows in sorted(bg.CORE.items()):
        tr.section(f"batched cores on {spec} (BatchedEnv.step, actions on the device, synchronized)")
        tr.write_line(f"{'task':44s}{'n_envs':>10s}{'env-steps/s':>16s}{'agent-steps/s':>18s}")
        for task_id, r in sorted(rows.items()):
            tr.write_line(
                f"{task_id:44s}{r['n_envs']:>10,d}{r['env_steps_per_sec']:>16,.0f}{r['agent_steps_per_sec']:>18,.0f}"
            )
    for spec, r in sorted(bg.EV.items()):
        tr.write_line(
            f"{bg.bt.EV_ID} on {spec}: {r['drivers']:,d} drivers, {r['env_steps_per_sec']:.2f} steps/s "
            f"({r['driver_steps_per_sec'] / 1e6:.1f}M driver-steps/s), {r['state_bytes_per_driver']:.0f} B of state "
            "per driver"
        )


def _vector_summary(tr: Any, bt: Any) -> None:
    tr.section("econbench throughput (median env-steps/s)")
    sizes = sorted({n for _, n in bt.RATES})
    tr.write_line(f"{'task':44s}" + "".join(f"{n:>14,d}" for n in sizes) + f"{'native/sync':>14s}")
    for task_id in sorted({t for t, _ in bt.RATES} | set(bt.RATIOS)):
        cells = "".join(
            f"{bt.RATES[(task_id, n)] / 1e6:>13.3f}M" if (task_id, n) in bt.RATES else f"{'-':>14s}" for n in sizes
        )
        ratio = f"{bt.RATIOS[task_id]:>13.0f}x" if task_id in bt.RATIOS else f"{'-':>14s}"
        tr.write_line(f"{task_id:44s}{cells}{ratio}")
    tr.write_line(
        "goals: native/sync >= 20x at 4,096 envs (investment tasks); LQ tasks >= 10M env-steps/s at 65,536 envs"
    )
    for task_id, rate in sorted(bt.GOALS.items()):
        tr.write_line(f"  {task_id}: {rate / 1e6:.2f}M env-steps/s at 65,536 envs (separate run of {bt.ROUNDS} rounds)")
    if bt.COPY and bt.STEP_BYTES:
        _bound_summary(tr, bt, sizes)


def _versus_smaller(rates: dict[int, float], label: str, goal: float, short: list[str]) -> dict[int, str]:
    """Per n_envs: the per-env rate over the best at a smaller n_envs ("-" for the smallest); the points under
    ``goal`` are appended to ``short``."""
    out: dict[int, str] = {}
    best = 0.0
    for n in sorted(rates):
        out[n] = f"{rates[n] / best:.2f}x" if best else "-"
        if best and rates[n] < goal * best:
            short.append(f"{label} at {n:,d} ({out[n]})")
        best = max(best, rates[n])
    return out


def _bound_summary(tr: Any, bt: Any, sizes: list[int]) -> None:
    """Per task and n_envs: the fraction of the memory bound (copy bandwidth over the bytes a step writes) and the
    per-env rate over the best at a smaller n_envs (issue 20's goal: never below 0.9)."""
    copy = bt.COPY[0]
    tr.section(f"distance to the memory bound: copy bandwidth {copy / 1e9:.1f} GB/s measured in this run")
    tr.write_line(
        f"{'task':44s}{'B/env-step':>11s}{'bound':>10s}"
        + "".join(f"{f'{n:,d}: bound, vs smaller':>27s}" for n in sizes)
    )
    short: list[str] = []
    for task_id in sorted(bt.STEP_BYTES):
        nbytes = bt.STEP_BYTES[task_id]
        bound = copy / nbytes
        rates = {n: bt.RATES[(task_id, n)] for n in sizes if (task_id, n) in bt.RATES}
        versus = _versus_smaller(rates, task_id.split("/")[-1], bt.BATCH_GOAL, short)
        cells = "".join(
            f"{f'{100 * rates[n] / bound:.1f} %, {versus[n]}':>27s}" if n in rates else f"{'-':>27s}" for n in sizes
        )
        tr.write_line(f"{task_id:44s}{nbytes:>11,.0f}{bound / 1e6:>9.2f}M{cells}")
    tr.write_line(
        "bound: env-steps/s at which a step's bytes (new state, observations, rewards, flags, masks; broadcast "
        "blocks once) take the copy bandwidth; vs smaller: the per-env rate over the best at a smaller n_envs"
    )
    tr.write_line(
        f"goal (issue 20): vs smaller >= {bt.BATCH_GOAL} at every n_envs: "
        + ("met" if not short else f"NOT met: {', '.join(short)}")
    )


def _blocks_summary(tr: Any, bt: Any) -> None:
    """BatchedEnv.step with flat observations against shared observation blocks, same rounds; the bound and the
    per-env rate over the best smaller batch in the blocks mode."""
    copy = bt.COPY[0] if bt.COPY else None
    tr.section("observation blocks: BatchedEnv.step, flat observations vs obs_blocks=True (env-steps/s)")
    sizes = sorted({n for _, n in bt.BLOCK_RATES})
    tr.write_line(
        f"{'task':34s}{'B/env-step':>11s}" + "".join(f"{f'{n:,d}: flat, blocks, x, vs smaller':>40s}" for n in sizes)
    )
    short: list[str] = []
    for task_id in sorted({t for t, _ in bt.BLOCK_RATES}):
        nbytes = bt.BLOCK_BYTES.get(task_id, float("nan"))
        rows = {n: bt.BLOCK_RATES[(task_id, n)] for n in sizes if (task_id, n) in bt.BLOCK_RATES}
        versus = _versus_smaller(
            {n: r["blocks"] for n, r in rows.items()}, task_id.split("/")[-1], bt.BATCH_GOAL, short
        )
        cells = ""
        for n in sizes:
            r = rows.get(n)
            text = (
                "-"
                if r is None
                else (f"{r['flat'] / 1e3:.1f}k, {r['blocks'] / 1e3:.1f}k, {r['blocks'] / r['flat']:.2f}x, {versus[n]}")
            )
            cells += f"{text:>40s}"
        tr.write_line(f"{task_id.split('/')[-1]:34s}{nbytes:>11,.0f}{cells}")
    if copy:
        tr.write_line(
            "bound with blocks: "
            + ", ".join(
                f"{t.split('/')[-1]} {copy / b / 1e3:,.0f}k env-steps/s" for t, b in sorted(bt.BLOCK_BYTES.items())
            )
            + f" (copy bandwidth {copy / 1e9:.1f} GB/s)"
        )
    tr.write_line(
        f"goal (issue 20) with observation blocks: vs smaller >= {bt.BATCH_GOAL} at every n_envs: "
        + ("met" if not short else f"NOT met: {', '.join(short)}")
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _rbc_summary(tr: Any, bt: Any) -> None:
    """RBCTax-v0's agent-steps/s and batching ratio against the RBC issue's goals; shared PPO's end-to-end rate."""
    if bt.RBC_RATES or bt.RBC_RATIO:
        tr.section(f"{bt.RBC_ID} batched core: NumPy float64, BatchedEnv.step with validation and observations")
        tr.write_line(f"{'n_envs':>8s}{'ms/step':>12s}{'env-steps/s':>14s}{'agent-steps/s':>16s}")
        for n, rate in sorted(bt.RBC_RATES.items()):
            env_rate = rate / bt.RBC_AGENTS
            tr.write_line(f"{n:>8,d}{1e3 * n / env_rate:>12.3f}{env_rate:>14,.0f}{rate / 1e6:>15.2f}M")
        if 1024 in bt.RBC_RATES:
            rate = bt.RBC_RATES[1024]
            tr.write_line(
                f"goal >= {bt.RBC_AGENT_GOAL / 1e6:.0f}M agent-steps/s at 1,024 envs: {rate / 1e6:.2f}M, "
                f"{_met(rate >= bt.RBC_AGENT_GOAL)} (CI floor {bt.RBC_AGENT_FLOOR / 1e6:.1f}M)"
            )
        if bt.RBC_RATIO:
            ratio = bt.RBC_RATIO[0]
            tr.write_line(
                f"goal 1,024 envs >= {bt.RBC_RATIO_GOAL:.0f}x one env's per-env rate: {ratio:.1f}x "
                f"(median of same-process rounds), {_met(ratio >= bt.RBC_RATIO_GOAL)} "
                f"(CI floor {bt.RBC_RATIO_FLOOR:.0f}x)"
            )
    if bt.PPO_RATES:
        tr.section("shared PPO end to end (econbench.learn.shared_ppo: simulation + inference + learning)")
        tr.write_line(
            f"{'task':44s}{'agent-steps/s':>15s}{'before':>10s}{'x':>7s}{'bound':>12s}{'of bound':>10s}"
            f"{'shape bound':>13s}{'of it':>7s}{'simulation':>12s}  batch"
        )
        for task_id, r in sorted(bt.PPO_RATES.items()):
            tr.write_line(
                f"{task_id:44s}{r['agent_steps_per_sec']:>15,.0f}{r['before_agent_steps_per_sec']:>10,.0f}"
                f"{r['agent_steps_per_sec'] / r['before_agent_steps_per_sec']:>7.1f}"
                f"{r['bound_agent_steps_per_sec']:>12,.0f}{100 * r['fraction_of_bound']:>9.1f}%"
                f"{r['shape_bound_agent_steps_per_sec']:>13,.0f}{100 * r['fraction_of_shape_bound']:>6.1f}%"
                f"{100 * r['simulation_share']:>11.1f}%  {r['n_envs']} envs x {r['num_steps']} steps"
            )
        first = next(iter(bt.PPO_RATES.values()))
        tr.write_line(
            f"bound: {first['matmul_flops_per_sec'] / 1e9:.0f} GFLOP/s of float32 matmul measured here with "
            f"{first['threads']} torch thread(s), over each task's network FLOPs per agent-step "
            "(econbench.learn.flops); goal: half the bound, or 3x the rate before issue 19"
        )
        tr.write_line(
            "shape bound: the same products, each timed at the shape the trainer runs it (flops.shape_bound): "
            "what is left above it is the work between the products (activations, heads, optimiser, normalisers)"
        )


def _rice_summary(tr: Any, bt: Any) -> None:
    """RICE-N's region-steps/s and, where the reference ran in the same session, the ratios to it."""
    if not bt.RICE_RATES:
        return
    tr.section("RICECooperation batched core: region-steps/s of whole episodes (NumPy float64, float32 observations)")
    sizes = sorted({n for _, n in bt.RICE_RATES})
    tr.write_line(f"{'protocol':12s}" + "".join(f"{n:>14,d}" for n in sizes) + f"{'reference':>14s}")
    for protocol in bt.RICE_IDS:
        cells = "".join(
            f"{bt.RICE_RATES[(protocol, n)]:>14,.0f}" if (protocol, n) in bt.RICE_RATES else f"{'-':>14s}"
            for n in sizes
        )
        ref = bt.RICE_REFERENCE_RATES.get(protocol)
        tr.write_line(f"{protocol:12s}{cells}{(f'{ref:>14,.0f}' if ref else f'{chr(45):>14s}')}")
        for n, goal in bt.RICE_RATIO_GOALS.items():
            if ref and (protocol, n) in bt.RICE_RATES:
                ratio = bt.RICE_RATES[(protocol, n)] / ref
                tr.write_line(f"  {n:,d} env(s): {ratio:,.1f}x the reference (goal {goal:.0f}x): {_met(ratio >= goal)}")
    if not bt.RICE_REFERENCE_RATES:
        tr.write_line("reference not measured: set ECONBENCH_RICE_REFERENCE (and ECONBENCH_RICE_REFERENCE_PYTHON)")


def _ev_summary(tr: Any, bt: Any) -> None:
    """EV charging: steps/s of one city by its number of drivers, and memory per driver, against the issue's goals."""
    if not bt.EV_RATES:
        return
    tr.section(f"{bt.EV_ID}: one economy at the evening peak (NumPy float32, BatchedEnv.step)")
    tr.write_line(
        f"{'drivers':>10s}{'ms/step':>10s}{'steps/s':>10s}{'driver-steps/s':>16s}"
        f"{'state B/driver':>16s}{'step peak B/driver':>20s}"
    )
    for n, rate in sorted(bt.EV_RATES.items()):
        m = bt.EV_MEMORY[n]
        tr.write_line(
            f"{n:>10,d}{1e3 / rate:>10.2f}{rate:>10.1f}{rate * n / 1e6:>15.1f}M{m['state']:>16.0f}{m['peak']:>20.0f}"
        )
    if 1_000_000 in bt.EV_RATES:
        rate = bt.EV_RATES[1_000_000]
        tr.write_line(f"goal >= {bt.EV_GOAL:.0f} steps/s at 1,000,000 drivers: {rate:.1f}, {_met(rate >= bt.EV_GOAL)}")
    else:
        tr.write_line("1,000,000 drivers: full mode only (ci/throughput.sh -k ev_)")
    worst = max(m["state"] for m in bt.EV_MEMORY.values())
    tr.write_line(
        f"goal <= {bt.EV_MEMORY_GOAL:.0f} B of state per driver: {worst:.0f}, {_met(worst <= bt.EV_MEMORY_GOAL)}"
    )
