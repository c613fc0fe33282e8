#!/usr/bin/env bash
# The test command: installs what it needs into .venv, then runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track,distributed,onnx,interop,dev
ruff check --quiet .              # lint rules: pyproject.toml [tool.ruff.lint]
ruff format --check --quiet .
lint-imports --no-cache | tail -n +12  # the layers' contracts: pyproject.toml [tool.importlinter]
exec python -m pytest -q -n auto "$@"  # one worker per core (pytest-xdist)
