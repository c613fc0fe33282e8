#!/usr/bin/env bash
# The wheel on its own: build it, install it into a fresh virtualenv and, from a folder outside the
# repository, list the tasks, solve every ID, evaluate a named and a shipped learned policy and run the
# trained best-response gap on a small budget. Usage: ci/wheel.sh [workdir]   (default: a temporary folder)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
py="${PYTHON:-$root/.venv/bin/python}"  # ci/env.sh made it; it has pip
[ -x "$py" ] || py=python3
mkdir -p "$work"
t0=$SECONDS
"$py" -m pip wheel --quiet --no-deps -w "$work/dist" "$root"
wheel="$(ls "$work"/dist/econbench-*.whl)"
"$py" -m venv "$work/venv"
pip="$work/venv/bin/python -m pip"
$pip install --quiet --upgrade pip
$pip install --quiet "torch==2.13.0" || $pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
$pip install --quiet "${wheel}[baselines]"
echo "[wheel] built and installed $(basename "$wheel") in $((SECONDS - t0)) s" >&2
export PATH="$work/venv/bin:$PATH" PYTHONPATH="" ECONBENCH_STORE="$work/store.sqlite"
cd "$work"  # outside the repository: nothing is read from the checkout
[ "$(python -c 'import econbench, pathlib; print(pathlib.Path(econbench.__file__).parent.parent)')" != "$root" ]
econbench list > list.txt
ids=$(python -c 'from econbench.registry import task_ids; print(" ".join(task_ids()))')
[ "$(echo "$ids" | wc -w)" -eq "$(grep -c '^| econbench/' list.txt)" ]
for id in $ids; do
  econbench solve --task "$id" > "solve-${id#econbench/}.txt"
done
echo "[wheel] list and solve on $(echo "$ids" | wc -w) IDs" >&2
econbench evaluate --task econbench/InvestmentLQ-Planner-v0 --policy exact --seeds 1000 --episodes 8 --json > named.json
econbench evaluate --task econbench/RBCTax-v0 --policy shared_ppo_cpu_seed0 --seeds 1000 --episodes 2 --json > shipped.json
econbench gap --task econbench/InvestmentOligopoly-v0 --policy freeze --method trained --budget 2048 --br-seeds 0 \
  --episodes 4 --json > trained_gap.json
python - <<'PY'
import json, math
named, shipped, gap = (json.load(open(f)) for f in ("named.json", "shipped.json", "trained_gap.json"))
assert math.isfinite(named["score"]) and abs(named["optimality_gap"]) < 1e-9, named
assert shipped["policy"] == "shared_ppo_cpu_seed0" and math.isfinite(shipped["score"]), shipped
assert gap["kind"].startswith("equilibrium (trained") and math.isfinite(gap["epsilon"]), gap
print(f"[wheel] named {named['score']:.6g}, shipped RBC profile {shipped['score']:.6g}, trained gap {gap['epsilon']:.3g}")
PY
echo "[wheel] ok in $((SECONDS - t0)) s" >&2
