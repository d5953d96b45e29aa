#!/usr/bin/env bash
# The GPU path of the default model, in a few minutes on a machine with CUDA:
#   1. the CUDA tests (tests/test_gpu.py: fit and predict on cuda, raw frames, save/load,
#      pickles of GPU models loaded where CUDA is absent);
#   2. benchmarks/gpu_speed.py: the default on the UCI small sets (split 0) and a
#      50,000-row synthetic table, on the GPU against the CPU, written to
#      benchmarks/results/gpu_speed.md.
# Run from the repository root, with the project's venv set up for a CUDA build of torch
# (make install TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126")
# or any Python whose torch sees a GPU: PYTHON=python bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
"$PYTHON" -c "import torch, sys; ok = torch.cuda.is_available(); print('CUDA:', ok, torch.__version__); sys.exit(0 if ok else 1)"
start=$(date +%s)
"$PYTHON" -m pytest -q -p no:cacheprovider tests/test_gpu.py
"$PYTHON" benchmarks/gpu_speed.py --rows 50000 --out benchmarks/results/gpu_speed.md
echo "gpu_check finished in $(( $(date +%s) - start )) s"
