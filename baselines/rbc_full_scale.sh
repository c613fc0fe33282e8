#!/usr/bin/env bash
# The RBC economy at the paper's scale on one GPU: upstream's sweep (docs/models/rbc.md §7),
# 128 economies x 10 quarters per update, 200,000 updates (2.56e8 env-steps) with the card's "short"
# curriculum at upstream's pace (one iteration = one update), 2 x 128 ReLU networks, Adam 1e-3 (government
# x0.05), PPO clip 0.1, 4 epochs on the full batch (no row subsampling), entropy 0.5 -> 0.05. The economies
# run on the GPU too (torch backend). Then the trained best response of each group, as the paper's Table 3.
#
#   baselines/rbc_full_scale.sh [SEED] [OUT]      # needs a CUDA GPU; `--resume` continues an interrupted run
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh marl,baselines,track
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU visible to torch: install a CUDA build of torch into .venv first (pip install torch)')"
seed="${1:-0}"
out="${2:-baselines/runs/rbc_full_scale}"
python baselines/shared_ppo.py --task econbench/RBCTax-v0 --seed "$seed" --out "$out" --run-name "paper_seed$seed" \
  --device cuda --backend torch --threads 8 \
  --n-envs 128 --num-steps 10 --total-timesteps 256000000 --update-rows 0 --update-epochs 4 \
  --curriculum short --curriculum-pace source --lr-scale government=0.05 --track --resume
run="$out/RBCTax-v0/paper_seed$seed"
for group in consumers firms government; do  # one group retrained against the others, 3 seeds (CPU, the
  econbench gap --task econbench/RBCTax-v0 --policy "$run" --method trained --group "$group" \
    --budget 1280000 --br-seeds 0 1 2 --sampled --episodes 32   # hyperparameter file's settings: 4,000 updates of 32 economies)
done
