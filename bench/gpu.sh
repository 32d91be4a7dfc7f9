#!/usr/bin/env bash
# One command for a GPU machine: install, check TensorFlow sees the GPU, run the backbone and
# task tests on it, then the model-speed benchmark (fp32 and mixed precision, XLA).
#
#   bash bench/gpu.sh                   # everything; results in bench/results/*_gpu.json
#   SKIP_INSTALL=1 bash bench/gpu.sh    # reuse an environment that already has the deps
#   QUICK=1 bash bench/gpu.sh           # tiny configs: a smoke test of this script
#
# Environment: PYTHON (default python3), VENV (default .venv-gpu). The install needs PyPI;
# a machine without network must come with the packages (SKIP_INSTALL=1, VENV=<that env>).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-gpu}
QUICK=${QUICK:-}
OUT=bench/results

if [[ -z "${SKIP_INSTALL:-}" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    # tensorflow[and-cuda] brings the CUDA / cuDNN wheels TensorFlow was built against.
    "$VENV/bin/pip" install -q "tensorflow[and-cuda]>=2.21,<2.22" -e ".[dev]"
fi
PY="$VENV/bin/python"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" - <<'EOF'
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
print("TensorFlow", tf.__version__, "GPUs:", gpus)
assert gpus, "TensorFlow sees no GPU: check the driver and the tensorflow[and-cuda] install"
EOF

# Backbone / task tests with the GPU visible. The tolerances were measured on CPU; TF32
# matmuls on Ampere+ may exceed some of them: a failure here is a finding to look at.
"$PY" -m pytest tests/models tests/tasks -q -x -p no:cacheprovider

QUICK_FLAG=()
[[ -n "$QUICK" ]] && QUICK_FLAG=(--quick)

# fp32 forward + training step under XLA, side by side with keras-hub BERT-base (main),
# XLA on/off (xla), seq 512 and mixed_bfloat16 (bf16).
"$PY" bench/model_speed.py "${QUICK_FLAG[@]}" \
    --models convbert_small,convbert_medium_small,convbert_base,groupbert_base,bert_base \
    --sections main,xla,seq512,bf16 --output "$OUT/model_speed_gpu.json" --plot none

# mixed_float16 (the usual GPU policy; bf16 above) against fp32, forward and training step,
# XLA, ConvBERT-base and BERT-base at batch 32 x 128.
"$PY" bench/gpu_mixed_precision.py "${QUICK_FLAG[@]}" --output "$OUT/gpu_mixed_precision.json"
echo "Wrote $OUT/model_speed_gpu.json and $OUT/gpu_mixed_precision.json"
