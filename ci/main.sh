#!/usr/bin/env bash
# The main job, quick mode: every task's exact solution, fixed policies and shipped SB3 checkpoints
# into the leaderboard store, then the page, table and figures into the output folder (leaderboard/ beside
# the store, or --out): the checkout is left as it is. `econbench publish` updates the repository's
# leaderboard/ from the store. Extra arguments go to `econbench bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track,distributed,onnx,interop,dev
exec econbench bench --quick "$@"
