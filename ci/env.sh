#!/usr/bin/env bash
# Create or reuse the project's virtual environment (.venv) and install econbench with the given extras.
# Usage: source ci/env.sh [extras]   (default extras: marl,baselines,track,distributed,onnx,interop,dev)
# PyTorch's CPU build goes in first, so no extra can pull a multi-GB CUDA build.
# ECONBENCH_ENV=current: use the Python environment already on PATH as it is, install nothing (the tests run
# the ci/ and baselines/ scripts inside their own environment).
set -euo pipefail
if [ "${ECONBENCH_ENV:-}" = "current" ]; then return 0; fi
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_extras="${1:-marl,baselines,track,distributed,onnx,interop,dev}"
_py="${PYTHON:-python3}"
if [ ! -x "$_root/.venv/bin/python" ]; then
  echo "[econbench] creating virtual environment in .venv" >&2
  "$_py" -m venv "$_root/.venv"
fi
_stamp="$_root/.venv/.econbench-installed"
_want="$(cat "$_root/pyproject.toml" | sha256sum | cut -c1-16)-$_extras"
if [ ! -f "$_stamp" ] || ! grep -qx -- "$_want" "$_stamp"; then
  echo "[econbench] installing econbench[$_extras] into .venv" >&2
  "$_root/.venv/bin/python" -m pip install --quiet --upgrade pip
  if [[ "$_extras" == *baselines* ]] && ! "$_root/.venv/bin/python" -c "import torch" 2>/dev/null; then
    "$_root/.venv/bin/python" -m pip install --quiet "torch==2.13.0" \
      || "$_root/.venv/bin/python" -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
  fi
  "$_root/.venv/bin/python" -m pip install --quiet -e "$_root[$_extras]"
  echo "$_want" > "$_stamp"
fi
export PATH="$_root/.venv/bin:$PATH"
