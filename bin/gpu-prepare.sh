#!/usr/bin/env bash
# bin/gpu-prepare.sh [DIR]: prepare .gpu/ (git-ignored) for bin/gpu-run.sh on a GPU machine: the raw
# evaluation clip, raw training clips, CPU-made streams and the wheels the GPU image lacks
# (bin/gpu_prepare.py says what and why). Run here, with ../shared and PyAV, before the device call.
set -eu
cd "$(dirname "$0")/.."
python3 bin/gpu_prepare.py --out "${1:-.gpu}"
du -sh "${1:-.gpu}"
