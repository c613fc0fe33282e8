#!/usr/bin/env bash
# The nightly-style run: the tests CI's 20 minutes leave out (marked nightly: reproductions of shipped runs beyond
# seed 0, about 5 CPU-minutes), then the throughput benchmarks in full mode. Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track,distributed,onnx,interop,dev
ECONBENCH_NIGHTLY=1 python -m pytest -q -n auto -m nightly "$@"
ci/throughput.sh
