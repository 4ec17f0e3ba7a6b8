"""GPU speed and memory of GNVC-VD at the paper size: one 25-frame 1080p GOP, next to the seed.

Times the engine's own stages on one GOP (random weights: speed does not depend on them):
encode = VAE encode + latent-codec compress; decode = latent-codec decompress + DiT refinement
(FlowSteps) + chunked VAE decode. ms/frame are medians over --repeat runs after one warm-up;
peak memory is torch.cuda.max_memory_allocated over the whole run. The seed reports 153 ms/frame
encode, 1557 ms/frame decode and 71.41 GB. Writes the `gnvcvd-gpu` section of docs/results.md
when run on CUDA (or with --write).

    python bench/gnvcvd_gpu.py [--config gnvc-vd-paper] [--size 1920x1080] [--frames 25] [--repeat 3]
    python bench/gnvcvd_gpu.py --device cpu --config gnvc-vd-tiny --size 128x128 --frames 5   # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gvcodec.engines.gnvc_vd.engine import ALIGNMENT, _autocast, _device_and_dtype  # noqa: E402
from gvcodec.models.gnvc_vd.flow import refine  # noqa: E402
from gvcodec.models.gnvc_vd.model import GnvcVd  # noqa: E402
from gvcodec.report.results_md import update_section  # noqa: E402

SEED = {"enc_ms": 153.0, "dec_ms": 1557.0, "peak_gb": 71.41}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str):
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="gnvc-vd-paper")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--frames", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--flow-steps", type=int, default=5)
    ap.add_argument("--qp-index", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write docs/results.md even when not on CUDA")
    opts = ap.parse_args()
    if (opts.frames - 1) % 4:
        raise SystemExit(f"--frames {opts.frames}: a GOP has 1 + 4k frames")
    device, precision = _device_and_dtype(opts.device, opts.precision)
    width, height = (int(v) for v in opts.size.split("x"))
    cw, ch = (-(-width // ALIGNMENT) * ALIGNMENT, -(-height // ALIGNMENT) * ALIGNMENT)

    torch.manual_seed(0)
    model = GnvcVd.from_config(opts.config).to(device).eval()
    model.finish_tables()
    params = sum(p.numel() for p in model.parameters())
    ctx = model.context(0)
    # A smooth moving pattern in [-1, 1] (R'G'B'): cheap to make, not constant, so the codec codes real symbols.
    t = torch.arange(opts.frames, dtype=torch.float32).view(-1, 1, 1)
    y = torch.linspace(0, 6.28, ch).view(1, -1, 1)
    x = torch.linspace(0, 6.28, cw).view(1, 1, -1)
    video = torch.stack([torch.sin(x + y * k + 0.2 * t) for k in (0.5, 1.0, 1.5)])[None].to(device)

    def encode():
        with torch.no_grad(), _autocast(device, precision):
            latents = model.vae.encode(video).float()
        return model.codec.compress(latents, opts.qp_index)

    def decode(gop):
        shape = (1, model.vae.cfg.z_dim, gop.latents.shape[2], gop.latents.shape[3], gop.latents.shape[4])
        latents, context = model.codec.decompress(gop.payload, shape, opts.qp_index)
        with torch.no_grad(), _autocast(device, precision):
            z = latents.to(device)
            if opts.flow_steps > 0:
                cond = torch.cat([z, context.to(device)], dim=1)
                z = refine(model.dit, z, ctx, cond, opts.flow_steps, 0.7, 0)
            n = 0
            for chunk in model.vae.decode_iter(z):
                n += chunk.shape[2]
        return n

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    gop = encode()
    decode(gop)  # warm-up (kernels, allocator)
    enc, dec = [], []
    for _ in range(opts.repeat):
        gop, s = timed(encode, device)
        enc.append(s)
        _, s = timed(lambda: decode(gop), device)
        dec.append(s)
    peak_gb = torch.cuda.max_memory_allocated() / 1e9 if device.startswith("cuda") else float("nan")
    row = {
        "enc_ms": 1000 * statistics.median(enc) / opts.frames,
        "dec_ms": 1000 * statistics.median(dec) / opts.frames,
        "peak_gb": peak_gb,
        "bytes": len(gop.payload),
    }
    print(row, flush=True)
    if not (device.startswith("cuda") or opts.write):
        return
    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    lines = [
        f"`python bench/gnvcvd_gpu.py --config {opts.config} --size {opts.size} --frames {opts.frames} "
        f"--repeat {opts.repeat}` on {name}, {precision}, torch {torch.__version__}; {params:,} parameters "
        f"(random weights), one {opts.frames}-frame GOP coded at {cw}x{ch}, FlowSteps {opts.flow_steps}; "
        "medians after one warm-up.",
        "",
        "| | encode ms/frame | decode ms/frame | peak GB |",
        "|---|---:|---:|---:|",
        f"| gvcodec {opts.config} | {row['enc_ms']:.0f} | {row['dec_ms']:.0f} | {row['peak_gb']:.2f} |",
        f"| seed (paper) | {SEED['enc_ms']:.0f} | {SEED['dec_ms']:.0f} | {SEED['peak_gb']:.2f} |",
        f"| ratio | {row['enc_ms'] / SEED['enc_ms']:.2f} | {row['dec_ms'] / SEED['dec_ms']:.2f} | "
        f"{row['peak_gb'] / SEED['peak_gb']:.2f} |",
    ]
    path = update_section(ROOT / "docs" / "results.md", "gnvcvd-gpu",
                          "GNVC-VD paper size on a GPU (bench/gnvcvd_gpu.py)", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
