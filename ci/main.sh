#!/usr/bin/env bash
# The main job: evaluates the shipped reference policies and exact solutions on every task
# and prints a table of scores and gaps. Extra arguments go to `econbench bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,dev
exec econbench bench "$@"
