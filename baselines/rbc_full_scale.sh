#!/usr/bin/env bash
# The RBC economy at the paper's scale on one GPU: upstream's sweep (docs/models/rbc.md §7),
# 128 economies x 10 quarters per update, 200,000 updates (2.56e8 env-steps) with the card's "short"
# curriculum at upstream's pace (one iteration = one update), 2 x 128 ReLU networks, Adam 1e-3 (government
# x0.05), PPO clip 0.1, 4 epochs on the full batch (no row subsampling), entropy 0.5 -> 0.05. The economies
# run on the GPU too (torch backend). Then the trained best response of each group, as the paper's Table 3
# (each group's result also goes to RUN/trained_gap_<group>.txt).
#
#   baselines/rbc_full_scale.sh [SEED] [OUT]          # needs a CUDA GPU; `--resume` continues an interrupted run
#   baselines/rbc_full_scale.sh --smoke [SEED] [OUT]  # the same steps on the CPU (torch backend) at a tiny budget:
#                                                     # 2 economies x 2 updates, one 1-update best response per group
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
source ci/env.sh marl,baselines,track
seed="${1:-0}"
out="${2:-baselines/runs/rbc_full_scale}"
if [ "$smoke" = 1 ]; then
  device=cpu threads=1 n_envs=2 timesteps=40 track=--no-track eval=(--eval-episodes 1)
  br_budget=320 br_seeds=(0) br_episodes=1  # one update of the task's batch (32 economies x 10 quarters)
else
  python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU visible to torch: install a CUDA build of torch into .venv first (pip install torch)')"
  device=cuda threads=8 n_envs=128 timesteps=256000000 track=--track eval=()
  br_budget=1280000 br_seeds=(0 1 2) br_episodes=32
fi
python baselines/shared_ppo.py --task econbench/RBCTax-v0 --seed "$seed" --out "$out" --run-name "paper_seed$seed" \
  --device "$device" --backend torch --threads "$threads" \
  --n-envs "$n_envs" --num-steps 10 --total-timesteps "$timesteps" --update-rows 0 --update-epochs 4 \
  --curriculum short --curriculum-pace source --lr-scale government=0.05 "$track" --resume "${eval[@]}"
run="$out/RBCTax-v0/paper_seed$seed"
for group in consumers firms government; do  # one group retrained against the others, 3 seeds (CPU, the
  econbench gap --task econbench/RBCTax-v0 --policy "$run" --method trained --group "$group" \
    --budget "$br_budget" --br-seeds "${br_seeds[@]}" --sampled --episodes "$br_episodes" \
    | tee "$run/trained_gap_$group.txt"   # hyperparameter file's settings: 4,000 updates of 32 economies)
done
