#!/usr/bin/env bash
# Runs examples/gpt2_heads/gpt2_heads.prm with every Q_h, K_h (64 x 768) and
# V_h (768 x 768) read from a weight file that scripts/make_gpt2_weights.py
# writes first (GPT-2-style initialisation: N(0, 0.02^2) entries, seed
# 2019; nothing is downloaded). Needs a python3 with NumPy (Debian:
# python3-numpy, /usr/bin/python3).
#   examples/gpt2_heads/run_with_weights.sh [BUILD_DIR] [OUTPUT_DIR]
set -euo pipefail
build=${1:-build}
out=${2:-output/gpt2_heads_weights}
python=${PYTHON:-/usr/bin/python3}
mkdir -p "$out"
"$python" scripts/make_gpt2_weights.py --out "$out/gpt2_weights" --layers 3
"$build/attnflow" examples/gpt2_heads/gpt2_heads.prm \
  --set "Model/weights file=$out/gpt2_weights.safetensors" \
  --set "Model/Q=file" --set "Model/K=file" --set "Model/V=file" \
  --set "Output/directory=$out/run"
