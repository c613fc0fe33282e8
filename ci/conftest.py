"""Prints the throughput figures (env-steps/s and ratios) as one table after the benchmark run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import bench_throughput as bt  # noqa: PLC0415 - only once the benchmarks ran

    if not bt.RATES and not bt.RATIOS and not bt.GOALS:
        return
    tr = terminalreporter
    tr.section("econbench throughput (median env-steps/s)")
    sizes = sorted({n for _, n in bt.RATES})
    tr.write_line(f"{'task':44s}" + "".join(f"{n:>14,d}" for n in sizes) + f"{'native/sync':>14s}")
    for task_id in sorted({t for t, _ in bt.RATES} | set(bt.RATIOS)):
        cells = "".join(f"{bt.RATES[(task_id, n)] / 1e6:>13.3f}M" if (task_id, n) in bt.RATES else f"{'-':>14s}" for n in sizes)
        ratio = f"{bt.RATIOS[task_id]:>13.0f}x" if task_id in bt.RATIOS else f"{'-':>14s}"
        tr.write_line(f"{task_id:44s}{cells}{ratio}")
    tr.write_line("goals: native/sync >= 20x at 4,096 envs (investment tasks); LQ tasks >= 10M env-steps/s at 65,536 envs")
    for task_id, rate in sorted(bt.GOALS.items()):
        tr.write_line(f"  {task_id}: {rate / 1e6:.2f}M env-steps/s at 65,536 envs (separate run of {bt.ROUNDS} rounds)")
