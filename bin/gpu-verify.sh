#!/usr/bin/env bash
# bin/gpu-verify.sh DIR: check and record what bin/gpu-run.sh brought back (docs/training.md, "GPU runs").
#   1. decodes DIR/gnvc-cuda-fp32.gvc and DIR/givic-cuda.gvc on the CPU: symbol hashes checked per unit
#      (-dph 0: float synthesis differs across devices, so picture MD5s are not compared)
#   2. writes the GPU sections of docs/results.md from DIR/bench-gnvc-vd.json and DIR/bench-train.json
#   3. with DIR/final.safetensors: bin/ctc.sh on two clips, shipped vs returned weights (x264 anchor)
set -u
cd "$(dirname "$0")/.."
DIR="${1:?usage: bin/gpu-verify.sh DIR}"
rc=0
for s in gnvc-cuda-fp32 givic-cuda; do
    if [ -f "$DIR/$s.gvc" ]; then
        if python3 -m gvcodec decode -b "$DIR/$s.gvc" -o /dev/null -dph 0 > /dev/null; then
            echo "$s.gvc: decoded on the CPU, symbol hashes match"
        else
            echo "$s.gvc: FAILED on the CPU"; rc=1
        fi
    fi
done
[ -f "$DIR/bench-gnvc-vd.json" ] && python3 bench/gnvc_vd_gpu.py --from-json "$DIR/bench-gnvc-vd.json"
[ -f "$DIR/bench-train.json" ] && python3 bench/train_step.py --from-json "$DIR/bench-train.json"
if [ -f "$DIR/final.safetensors" ] && [ -z "${NO_CTC:-}" ]; then
    CTC_EXTRA="--Threads=2" bin/ctc.sh -s "bus_352x288_17f_yuv420p.yuv davis_bear_854x480_82f.mp4" -q "32 37 42" -f 9 \
        -c "x264 gnvc-vd-default gnvc-vd-default:ModelWeights=$(realpath "$DIR/final.safetensors"):CodecLabel=gpu-run" \
        -a x264 || rc=1
fi
exit $rc
