#!/usr/bin/env bash
# Throughput benchmarks (pytest-benchmark). --short: the CI mode (fewer rounds, n_envs up to 4096).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track,distributed,onnx,interop,dev
mode=full
if [ "${1:-}" = "--short" ]; then mode=short; shift; fi
ECONBENCH_BENCH_MODE=$mode exec python -m pytest -q ci/bench_throughput.py --benchmark-enable \
  --benchmark-columns=median,iqr,rounds --benchmark-sort=name --benchmark-json=.benchmarks/throughput-$mode.json "$@"
