"""GPU speed and memory of GNVC-VD at the paper size: one 25-frame GOP per size, next to the seed.

Times the engine's own stages on one GOP (seeded random weights: speed does not depend on them) and
prints each as it finishes: VAE encode, latent-codec compress (encoder), latent-codec decompress,
every DiT refinement step, VAE decode. encode = VAE encode + compress, decode = decompress + DiT
steps + chunked VAE decode, in ms/frame (medians over --repeat runs after an untimed warm-up run, per size
or with --warmup first only before the first size); peak memory
is torch.cuda.max_memory_allocated per size. The seed reports 153 / 1557 ms/frame and 71.41 GB at
1920x1080, 58 / 386 and 40.90 GB at 1280x720, 25 / 129 and 29.36 GB at 640x480.

The model is built directly on the device (`with torch.device(...)`: parameters are allocated and
initialised there from the seeded generator; no CPU initialisation of the 2.33 B parameters), so
the run starts in seconds. `--max-seconds` bounds the whole run: no new size or repeat starts past
it, and sizes that did not run are marked so. Writes the `gnvc-vd-gpu` section of docs/results.md
on CUDA (or with --write).

    python bench/gnvc_vd_gpu.py [--config gnvc-vd-paper] [--sizes 1920x1080,1280x720,640x480] [--max-seconds 240]
    python bench/gnvc_vd_gpu.py --device cpu --config gnvc-vd-tiny --sizes 128x128 --frames 5 --repeat 1   # smoke run
"""

from __future__ import annotations

import argparse
import json
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

SEED = {  # seed (paper) figures: encode ms/frame, decode ms/frame, peak GB
    "1920x1080": (153.0, 1557.0, 71.41),
    "1280x720": (58.0, 386.0, 40.90),
    "640x480": (25.0, 129.0, 29.36),
}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class Clock:
    """Synchronised stage timer that prints each stage as it finishes."""

    def __init__(self, device: str, start: float, verbose: bool = True):
        self.device, self.start, self.verbose = device, start, verbose
        self.stages: dict[str, float] = {}

    def run(self, name: str, fn):
        sync(self.device)
        t0 = time.perf_counter()
        out = fn()
        sync(self.device)
        dt = time.perf_counter() - t0
        self.stages[name] = self.stages.get(name, 0.0) + dt
        if self.verbose:
            print(f"  [{time.perf_counter() - self.start:7.1f} s] {name:<16} {1000 * dt:9.1f} ms", flush=True)
        return out


def build(config: str, device: str) -> GnvcVd:
    """The model built on `device` (allocation and seeded init there), tables finished."""
    with torch.device(device):
        model = GnvcVd.from_config(config, seed=0)
    model = model.to(device).eval().requires_grad_(False)  # pieces made from numpy start on the CPU
    model.finish_tables()
    return model


def pattern(frames: int, cw: int, ch: int, device: str) -> torch.Tensor:
    """A smooth moving pattern in [-1, 1] (R'G'B'): not constant, so the codec codes real symbols."""
    t = torch.arange(frames, dtype=torch.float32, device=device).view(-1, 1, 1)
    y = torch.linspace(0, 6.28, ch, device=device).view(1, -1, 1)
    x = torch.linspace(0, 6.28, cw, device=device).view(1, 1, -1)
    return torch.stack([torch.sin(x + y * k + 0.2 * t) for k in (0.5, 1.0, 1.5)])[None]


def bench_size(model, size: str, opts, device: str, precision: str, start: float, deadline: float,
               warm_up: bool = True) -> dict:
    width, height = (int(v) for v in size.split("x"))
    cw, ch = (-(-width // ALIGNMENT) * ALIGNMENT, -(-height // ALIGNMENT) * ALIGNMENT)
    ctx = model.context(0)
    video = pattern(opts.frames, cw, ch, device)

    def one(clock: Clock):
        with torch.no_grad(), _autocast(device, precision):
            latents = clock.run("vae encode", lambda: model.vae.encode(video).float())
        gop = clock.run("codec compress", lambda: model.codec.compress(latents, opts.qp_index))
        shape = tuple(latents.shape)
        lat, context = clock.run("codec decompress", lambda: model.codec.decompress(gop.payload, shape, opts.qp_index))
        with torch.no_grad(), _autocast(device, precision):
            z = lat
            if opts.flow_steps > 0:
                cond = torch.cat([z, context], dim=1)
                step = iter(range(opts.flow_steps))
                dit = lambda *a: clock.run(f"dit step {next(step)}", lambda: model.dit(*a))  # noqa: E731
                z = refine(dit, z, ctx, cond, opts.flow_steps, 0.7, 0)

            def vae_decode():
                n = 0
                for chunk in model.vae.decode_iter(z):
                    n += chunk.shape[2]
                return n

            clock.run("vae decode", vae_decode)
        return gop

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    warm = Clock(device, start)
    if warm_up:
        print(f"{size} (coded {cw}x{ch}, {opts.frames} frames): warm-up", flush=True)
        gop = one(warm)
    runs = []
    for r in range(opts.repeat):
        if time.perf_counter() > deadline and (r > 0 or warm_up):  # without a warm-up, time one run at least
            print(f"  --max-seconds reached: {r} timed run(s) of {size}", flush=True)
            break
        print(f"{size}: run {r + 1}/{opts.repeat}", flush=True)
        clock = Clock(device, start)
        gop = one(clock)
        runs.append(clock.stages)
    only_warm = not runs
    if only_warm:  # only the warm-up fitted: report it (runs 0: it includes first-call costs)
        runs = [warm.stages]
    enc_keys, dit_keys = ("vae encode", "codec compress"), [k for k in runs[0] if k.startswith("dit step")]
    dec_keys = ("codec decompress", *dit_keys, "vae decode")
    med = lambda keys: statistics.median(sum(r.get(k, 0.0) for k in keys) for r in runs)  # noqa: E731
    row = {
        "size": size, "coded": f"{cw}x{ch}", "frames": opts.frames, "runs": 0 if only_warm else len(runs),
        "enc_ms": 1000 * med(enc_keys) / opts.frames, "dec_ms": 1000 * med(dec_keys) / opts.frames,
        "stages_ms": {k: 1000 * statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]},
        "peak_gb": torch.cuda.max_memory_allocated() / 1e9 if device.startswith("cuda") else float("nan"),
        "bytes": len(gop.payload),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="gnvc-vd-paper")
    ap.add_argument("--sizes", "--size", default="1920x1080,1280x720,640x480")
    ap.add_argument("--frames", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--flow-steps", type=int, default=5)
    ap.add_argument("--qp-index", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="no new size or run starts after this")
    ap.add_argument("--warmup", default="each", choices=("each", "first"),
                    help="an untimed warm-up run per size, or only before the first size (faster, bounded runs)")
    ap.add_argument("--json", default="", help="also write the rows to this JSON file")
    ap.add_argument("--write", action="store_true", help="write docs/results.md even when not on CUDA")
    ap.add_argument("--from-json", default="", help="write docs/results.md from a --json file of a GPU run")
    opts = ap.parse_args(argv)
    if opts.from_json:
        run = json.loads(Path(opts.from_json).read_text())
        for k in ("config", "frames", "repeat", "flow_steps", "warmup"):
            setattr(opts, k, run.get(k, getattr(opts, k)))
        write_section(run["rows"], opts, run["device"], run["precision"], run["params"], run.get("device_name"),
                      run.get("torch"))
        return run["rows"]
    if (opts.frames - 1) % 4:
        raise SystemExit(f"--frames {opts.frames}: a GOP has 1 + 4k frames")
    start = time.perf_counter()
    deadline = start + opts.max_seconds
    device, precision = _device_and_dtype(opts.device, opts.precision)
    model = build(opts.config, device)  # cudnn.benchmark stays off, as in the engine
    sync(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"built {opts.config} on {device} in {time.perf_counter() - start:.1f} s: {params:,} parameters", flush=True)
    rows = []
    for i, size in enumerate([s for s in opts.sizes.split(",") if s]):
        if time.perf_counter() > deadline:
            print(f"--max-seconds reached: {size} not run", flush=True)
            rows.append({"size": size, "skipped": True})
            continue
        try:
            rows.append(bench_size(model, size, opts, device, precision, start, deadline,
                                   warm_up=opts.warmup == "each" or i == 0))
        except torch.OutOfMemoryError as exc:
            print(f"{size}: out of memory ({str(exc).splitlines()[0]})", flush=True)
            rows.append({"size": size, "oom": True})
    if opts.json:
        name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.machine()
        Path(opts.json).write_text(json.dumps({"config": opts.config, "device": device, "precision": precision,
                                               "params": params, "frames": opts.frames, "repeat": opts.repeat,
                                               "flow_steps": opts.flow_steps, "warmup": opts.warmup,
                                               "device_name": name,
                                               "torch": torch.__version__, "rows": rows}, indent=1))
    if device.startswith("cuda") or opts.write:
        write_section(rows, opts, device, precision, params)
    return rows


def write_section(rows, opts, device: str, precision: str, params: int, name=None, version=None) -> None:
    if name is None:
        name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    lines = [
        f"`python bench/gnvc_vd_gpu.py --config {opts.config} --frames {opts.frames} --repeat {opts.repeat}` on "
        f"{name}, {precision}, torch {version or torch.__version__}; {params:,} parameters (seeded random weights), one "
        f"{opts.frames}-frame GOP per size, FlowSteps {opts.flow_steps}; medians after an untimed warm-up "
        f"({'per size' if getattr(opts, 'warmup', 'each') == 'each' else 'before the first size only'}); runs 0 = "
        "the warm-up itself. encode = VAE "
        "encode + latent-codec compress; decode = decompress + DiT steps + VAE decode.",
        "",
        "| size | runs | encode ms/frame | decode ms/frame | peak GB | seed enc | seed dec | seed GB | VAE enc ms | compress ms | decompress ms | DiT ms/step | VAE dec ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        se, sd, sg = SEED.get(r["size"], (float("nan"),) * 3)
        if r.get("skipped") or r.get("oom"):
            lines.append(f"| {r['size']} | 0 | {'not run (time)' if r.get('skipped') else 'out of memory'} | | | "
                         f"{se:.0f} | {sd:.0f} | {sg:.2f} | | | | | |")
            continue
        st = r["stages_ms"]
        dit = [v for k, v in st.items() if k.startswith("dit step")]
        lines.append(
            f"| {r['size']} | {r['runs']} | {r['enc_ms']:.0f} | {r['dec_ms']:.0f} | {r['peak_gb']:.2f} | {se:.0f} | {sd:.0f} | "
            f"{sg:.2f} | {st.get('vae encode', 0):.0f} | {st.get('codec compress', 0):.0f} | "
            f"{st.get('codec decompress', 0):.0f} | {statistics.mean(dit) if dit else 0:.0f} | {st.get('vae decode', 0):.0f} |")
    path = update_section(ROOT / "docs" / "results.md", "gnvc-vd-gpu",
                          "GNVC-VD paper size on a GPU (bench/gnvc_vd_gpu.py)", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
