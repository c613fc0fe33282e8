#!/usr/bin/env bash
# The test command: installs what it needs into .venv, then runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track,distributed,onnx,dev
ruff check --quiet . && ruff format --check --quiet . && lint-imports --no-cache >/dev/null \
  || { echo "ci/test.sh: lint failed (ruff check . ; ruff format --check . ; lint-imports)" >&2; exit 1; }
exec python -m pytest -q -n auto "$@"  # one worker per core (pytest-xdist)
