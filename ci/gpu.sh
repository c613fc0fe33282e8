#!/usr/bin/env bash
# GPU readiness, one command on one CUDA GPU (H100/H200 class), under 10 minutes: the backend agreement tests on
# torch (CUDA) and CuPy for every task ID; each task's batched core at 65,536 envs (where memory allows) and the
# large EV city at 10,000,000 drivers on both; a short shared-PPO run of RBCTax-v0 with the economies and the
# networks on the GPU, its device-to-host copies per env step counted; the trainer (ci/gpu_trainer.py): shared PPO
# end to end on the GPU for issue 19's four tasks (RBC, oligopoly, RICE-Bilateral, EV) at their packaged settings,
# agent-steps/s against the CPU before issue 19 and against the FLOP bound at the GPU's measured matmul rate.
# ci/gpu_check.py runs the steps, prints a summary and writes .benchmarks/gpu-gpu.json. Prepared without a GPU:
# tested on the CPU path only (--cpu).
#
#   ci/gpu.sh [--json OUT]          # GPU mode; with no GPU visible: one line saying so, exit 0
#   ci/gpu.sh --cpu [--json OUT]    # the same steps on torch's CPU device at tiny sizes (tests this script)
#   ci/gpu.sh --steps trainer       # only the named steps (agreement, throughput, host_copies, trainer)
#
# GPU mode installs into .venv (ci/env.sh) what it lacks: econbench with the baselines, dev and gpu-cuda12 (CuPy)
# extras, and torch's CUDA build from ECONBENCH_TORCH_INDEX (default https://download.pytorch.org/whl/cu128) when
# the installed torch cannot see the GPU. A machine without network uses what is installed and names what is
# missing in one line; the check fails if neither torch nor CuPy can use the GPU. ECONBENCH_ENV=current: use the
# Python on PATH as it is and install nothing. CUDA_VISIBLE_DEVICES="" hides the GPUs (the no-GPU line).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=gpu
if [ "${1:-}" = "--cpu" ]; then mode=cpu; shift; fi

if [ "$mode" = cpu ]; then
  source ci/env.sh marl,baselines,track,distributed,onnx,interop,dev  # ci/test.sh's extras: no reinstall after it
  exec python ci/gpu_check.py --mode cpu "$@"
fi

py=python3
if [ "${ECONBENCH_ENV:-}" = current ]; then  # the Python on PATH: `python`, or `python3` where only that exists
  py="$(command -v python || command -v python3)"
elif [ -x .venv/bin/python ]; then py=.venv/bin/python; fi
probe() {  # $1: torch | cupy; succeeds when that library can use a CUDA device
  case "$1" in
    torch) "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null ;;
    cupy) "$py" -c "import sys, cupy; sys.exit(0 if cupy.cuda.is_available() else 1)" 2>/dev/null ;;
  esac
}
if [ -n "${CUDA_VISIBLE_DEVICES+set}" ] && { [ -z "$CUDA_VISIBLE_DEVICES" ] || [ "$CUDA_VISIBLE_DEVICES" = -1 ]; }; then
  echo "ci/gpu.sh: no CUDA GPU visible (CUDA_VISIBLE_DEVICES='$CUDA_VISIBLE_DEVICES' hides them); nothing run"
  exit 0
fi
if ! { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; } && ! probe torch && ! probe cupy; then
  echo "ci/gpu.sh: no CUDA GPU visible (no nvidia-smi GPU, torch.cuda.is_available() is False, no CuPy device); nothing run"
  exit 0
fi

missing=()
extras=baselines,dev,gpu-cuda12
if [ "${ECONBENCH_ENV:-}" != current ]; then
  if bash -c 'source ci/env.sh "$1"' _ "$extras"; then
    source ci/env.sh "$extras"  # installed: now only puts .venv on PATH
  elif [ -x .venv/bin/python ]; then
    missing+=("econbench[$extras] (pip failed: no network?)")
    export PATH="$PWD/.venv/bin:$PATH"
  else
    echo "ci/gpu.sh: could not create .venv (pip failed: no network?); nothing run"
    exit 1
  fi
  py=python
  if ! probe torch; then  # a CPU build (ci/env.sh installs one on machines without a GPU): swap in the CUDA build
    index="${ECONBENCH_TORCH_INDEX:-https://download.pytorch.org/whl/cu128}"
    version="$(python -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || echo "")"
    spec="torch${version:+==$version+${index##*/}}"  # one pip transaction: the CPU build stays if it fails
    python -m pip install --quiet "$spec" --index-url "$index" --extra-index-url https://pypi.org/simple >/dev/null 2>&1 \
      || missing+=("torch's CUDA build ($spec from $index)")
  fi
  if ! python -c "import cupy" 2>/dev/null; then
    python -m pip install --quiet "cupy-cuda12x>=13" >/dev/null 2>&1 || missing+=("CuPy (pip install cupy-cuda12x)")
  fi
fi
usable=()
probe torch && usable+=(torch) || true
probe cupy && usable+=(cupy) || true
if [ ${#usable[@]} -eq 0 ]; then
  echo "ci/gpu.sh: a GPU is visible but neither torch nor CuPy can use it${missing:+; missing: ${missing[*]}}"
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci/gpu.sh: missing: $(IFS=';'; echo "${missing[*]}"); running on ${usable[*]}"
fi
exec "$py" ci/gpu_check.py --mode gpu "$@"
