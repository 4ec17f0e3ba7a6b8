"""bin/gpu-run.sh --dry-run: the GPU session script end to end at tiny sizes on the CPU (< 4 minutes).

The CUDA entry points go through the pretend accelerator (`gvcodec.testing.vrun`, --Device=meta), so
device mixing fails here as it would on the GPU; the files it lists are the ones a GPU run brings back.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
FILES = {"gpu-run.log", "summary.json", "gnvc-cuda-fp32.gvc", "givic-cuda.gvc", "bench-gnvc-vd.json",
         "bench-train.json", "train-log.csv", "final.safetensors"}


def test_gpu_run_dry_run_writes_its_files(shared, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO), "GVCODEC_SHARED": str(shared), "GPU_DIR": str(tmp_path / "gpu")}
    proc = subprocess.run(["bash", str(REPO / "bin" / "gpu-run.sh"), "--dry-run", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    files = {p.name for p in out.iterdir()}
    assert files == FILES, files
    assert len(files) <= 8 and all(p.stat().st_size < 16 * 2**20 for p in out.iterdir())
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["phases"]["entry"]
    for name in ("gnvc-auto", "gnvc-fp32", "givic"):
        assert entry[name]["encode_rc"] == 0 and entry[name]["decode_rc"] == 0, (name, entry[name])
        assert entry[name]["recon_equals_decode"], name
    for name in ("gnvc-cpu-on-device", "givic-cpu-on-device"):
        # the pretend device computes on the CPU: the CPU-made streams decode to the CPU's pictures
        assert entry[name]["symbols_checked"] and entry[name]["md5_equals_cpu_decode"], (name, entry[name])
    assert summary["phases"]["fit"]["converted"]
    labels = {row["codec"] for row in summary["phases"]["rd"]["rows"]}
    assert labels == {"shipped", "new"}, summary["phases"]["rd"]
    # the streams made on the device decode on the CPU with their symbol hashes
    for name in ("gnvc-cuda-fp32.gvc", "givic-cuda.gvc"):
        dec = subprocess.run(["python", "-m", "gvcodec", "decode", "-b", str(out / name), "-o", str(tmp_path / "d.yuv")],
                             cwd=tmp_path, env=env, capture_output=True, text=True)
        assert dec.returncode == 0, dec.stderr
