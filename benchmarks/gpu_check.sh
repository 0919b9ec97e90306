#!/usr/bin/env bash
# minigan's GPU checks in one go, on a machine with an NVIDIA GPU and the project's Python
# environment with the gpu extra (pip install -e ".[gpu]"; PyTorch with CUDA for its column).
# It installs nothing and writes nothing outside the system's temporary folder. Prints, in order:
#   1. the card, the driver, the commit and the versions of Python, NumPy, CuPy and PyTorch;
#   2. pytest -m gpu: every test marked gpu (each layer's gradient on the GPU, the GPU's forward
#      against the CPU's, the data pipeline on the device, the flat parameter buffer and FlatAdam
#      against NumPy's Adam);
#   3. bench_step.py --backend cupy --zoo at batch 64, 128 and 256: each model's step in ms,
#      images/s, PyTorch CUDA's step timed in the same run (pairs interleaved) and the ratio
#      minigan / PyTorch, and the peak memory of a fresh process;
#   4. the same zoo at batch 64 and 256 with minigan's Adam paired with FlatAdam (the ratio
#      Adam / FlatAdam: above 1, the flat buffer is faster).
# Usage: bash benchmarks/gpu_check.sh [SECONDS]   (SECONDS: timed minigan steps per table row, default 1)
# A few minutes on an H100. The exit status is pytest's when a test fails, else the benchmarks';
# 2 at once when CuPy finds no GPU (every gpu test would be skipped).
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
[[ -z ${PYTHON:-} && -x .venv/bin/python ]] && python=.venv/bin/python
seconds=${1:-1}
bench=("$python" benchmarks/bench_step.py --backend cupy --zoo --steps 10 --warmup 3 --min-seconds "$seconds")

echo "== the machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
"$python" - <<'EOF'
import sys

import numpy

print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}", end="")
try:
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f", cupy {cupy.__version__} on {name} (CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()})", end="")
except Exception as exc:  # the tests below say what is missing
    print(f", no usable CuPy ({type(exc).__name__}: {exc})", end="")
try:
    import torch

    print(f", torch {torch.__version__} (CUDA available: {torch.cuda.is_available()})")
except ImportError:
    print(", no torch (no PyTorch column)")
EOF

if ! "$python" -c "import cupy; cupy.zeros(1)" 2>/dev/null; then
    echo "no usable GPU through CuPy: the gpu tests would all be skipped; stopping" >&2
    exit 2
fi

echo "== pytest -m gpu"
"$python" -m pytest -q -m gpu -p no:cacheprovider tests
status=$?

echo "== the zoo on the GPU beside PyTorch CUDA (batch 64, 128, 256)"
"${bench[@]}" --batches 64,128,256 || status=$((status ? status : $?))

echo "== the zoo on the GPU: Adam paired with FlatAdam (batch 64, 256)"
"${bench[@]}" --batches 64,256 --against flat-adam || status=$((status ? status : $?))
exit "$status"
