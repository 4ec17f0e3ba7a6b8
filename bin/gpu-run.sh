#!/usr/bin/env bash
# bin/gpu-run.sh [--dry-run] OUTDIR: the prepared GPU session (docs/training.md, "GPU runs").
#
# On the GPU machine (the working tree plus the carried .gpu/ from bin/gpu-prepare.sh): installs the
# carried wheels (constriction, pytorch-msssim, tqdm) into /tmp/site, then runs bin/gpu_run.py: every
# CUDA entry point on the bus clip, the paper-size timings, training throughput, continued training of
# gnvc-vd-default with deadlines and its conversion, and an RD check new vs shipped weights. At most
# 9 minutes wall and 8 files in OUTDIR (gpu-run.log and those gpu_run.py writes).
#
#   run (device tool): carry [".gpu"], command "bash bin/gpu-run.sh $OUT", timeout_s 600
#   bash bin/gpu-run.sh --dry-run OUTDIR     # the same at tiny sizes on the CPU (< 4 minutes; tests/bin)
set -u -o pipefail
cd "$(dirname "$0")/.."
DRY=""
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
OUT="${1:?usage: bin/gpu-run.sh [--dry-run] OUTDIR}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -n "$DRY" ]; then
    GPU_DIR="${GPU_DIR:-$(mktemp -d)/gpu}"
    TMP="$(mktemp -d)"
    python3 bin/gpu_prepare.py --dry-run --out "$GPU_DIR" > "$TMP/prepare.log" 2>&1 || { cat "$TMP/prepare.log"; exit 1; }
    OMP_NUM_THREADS=1 timeout 250 python3 bin/gpu_run.py "$OUT" --dry-run --gpu-dir "$GPU_DIR" --tmp "$TMP/run" \
        --budget 190 --paper-seconds 20 --givic-seconds 20 --train-bench-seconds 30 --reserve 20 2>&1 | tee "$OUT/gpu-run.log"
    exit "${PIPESTATUS[0]}"
fi
GPU_DIR="${GPU_DIR:-.gpu}"
if ls "$GPU_DIR"/wheels/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$GPU_DIR"/wheels/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; python3 -c \
  "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"; } 2>&1 \
  | tee "$OUT/gpu-run.log"
timeout 530 python3 bin/gpu_run.py "$OUT" --gpu-dir "$GPU_DIR" --budget 505 2>&1 | tee -a "$OUT/gpu-run.log"
exit "${PIPESTATUS[0]}"
