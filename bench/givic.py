"""GIViC complexity benchmark (the seed's Tables S3 and S4 structure) -> docs/results.md.

Encode time per GOP with overfitting, without it (OverfitSteps=0) and with the grids, hidden
states and updates initialized from the previous GOP; then decoding frames/s and peak memory per
diffusion step count. Each decode variant runs in a fresh process so the CPU peak (ru_maxrss)
belongs to it alone; on CUDA, torch's peak allocation is reported.

    python bench/givic.py                               # givic-tiny, bus 352x288 (CPU)
    python bench/givic.py --model givic-s --device cuda --gop 32 --gops 4 --overfit-steps 200
    python bench/givic.py --models givic-s,givic-m,givic-original --device cuda --max-seconds 120   # Table S4 sizes

The model is the registered one (its shipped weights, or the seeded initialization of a bare
size) unless --weights is given (see docs/givic.md); timings depend only on the architecture, RD
is measured through bin/ctc.sh instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SEED_S3 = "seed (A100, 1080p, GOP 32): w/ overfit 1.78 h / 0.85 h / 0.84 h / 0.84 h per GOP; w/o overfit 0.06 h"
SEED_S4 = {"givic-s": "S: 4.5 / 1.9 GB enc/dec, dec 18.90 fps (4 steps) / 14.86 (8) on A100",
           "givic-m": "M: 11.5 / 4.3 GB, dec 15.55 fps (4) / 12.21 (8)", "givic-original": "Original: 22.8 / 8.5 GB, dec 9.79 fps (8)"}


def read_gop(path: Path, w: int, h: int, first: int, count: int, total: int):
    fb = w * h * 3 // 2
    raw = np.fromfile(path, np.uint8, count=total * fb)
    frames = []
    for t in range(first, first + count):
        f = raw[(t % total) * fb:(t % total + 1) * fb]
        frames.append((f[:w * h].reshape(h, w).astype(np.uint16),
                       f[w * h:w * h + fb // 6].reshape(h // 2, w // 2).astype(np.uint16),
                       f[w * h + fb // 6:].reshape(h // 2, w // 2).astype(np.uint16)))
    return frames


def build(args):
    import torch

    from gvcodec.models.givic.cards import card, weights_for
    from gvcodec.models.givic.codec import GivicCodec
    from gvcodec.models.givic.config import load_givic_config, load_overfit_config
    from gvcodec.models.givic.loading import load_model

    torch.set_num_threads(args.threads)
    config = card(args.model).config
    cfg = load_givic_config(config)
    model, _, _ = load_model(config, cfg, weights_for(args.model, args.weights), args.gop, args.device)
    ocfg = load_overfit_config(config)
    if args.objective:
        ocfg = dataclasses.replace(ocfg, objective=args.objective)
    return GivicCodec(model, ocfg, args.steps or cfg.sample_steps, grid_step=ocfg.grid_step_for_qp(args.qp))


def build_objective(args) -> str:
    from gvcodec.models.givic.cards import card
    from gvcodec.models.givic.config import load_overfit_config

    return args.objective or load_overfit_config(card(args.model).config).objective


def weights_note(args) -> str:
    from gvcodec.models.givic.cards import weights_for

    w = weights_for(args.model, args.weights)
    return f"weights {Path(w).name}" if w else "seeded initialization"


def encode_table(args) -> tuple[str, list[bytes]]:
    from gvcodec.models.givic.codec import planes_to_video

    codec = build(args)
    rows, payloads = [], []
    lam = codec.ocfg.lambda_for_qp(args.qp)
    for variant, steps, warm in (("w/ overfit", args.overfit_steps, False), ("w/o overfit", 0, False),
                                 ("w/ overfit, init from previous GOP", args.warm_steps, True)):
        times, previous = [], None
        for g in range(args.gops):
            frames = read_gop(Path(args.input), args.width, args.height, g * args.gop, args.gop, args.total)
            video = planes_to_video(frames, 8, args.gop, codec.device)
            t0 = time.perf_counter()
            n = args.overfit_steps if (warm and previous is None) else steps
            params = codec.fit(video, n, lam, g * args.gop, init=previous if warm else None)
            payload, _ = codec.encode(params, args.gop, g * args.gop)
            times.append(time.perf_counter() - t0)
            previous = params
            if variant == "w/ overfit" and g == 0:
                payloads.append(payload)
        per = " | ".join(f"{t:.2f}" for t in times)
        rows.append(f"| {variant} | {per} | {sum(times) / len(times):.2f} |")
    head = "| encoding | " + " | ".join(f"GOP{g + 1} (s)" for g in range(args.gops)) + " | avg (s) |"
    sep = "|---" * (args.gops + 2) + "|"
    return "\n".join([head, sep, *rows]), payloads


def decode_once(args) -> dict:
    """Decode the stored GOP payload `args.payload` (child process): seconds and peak memory."""
    import resource

    import torch

    codec = build(args)
    payload = Path(args.payload).read_bytes()
    size = (args.gop, args.height, args.width)
    codec.decode(payload, size, "warm-up") if args.device.startswith("cuda") else None
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    codec.decode(payload, size, "bench")
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"seconds": time.perf_counter() - t0, "peak_gib": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="givic-tiny")
    ap.add_argument("--models", default="", help="comma list: run each model in turn (e.g. givic-s,givic-m,givic-original)")
    ap.add_argument("--max-seconds", type=float, default=0.0, help="with --models: start no model after this")
    ap.add_argument("--weights", default="")
    ap.add_argument("--input", default=str(REPO.parent / "shared" / "sequences" / "bus_352x288_17f_yuv420p.yuv"))
    ap.add_argument("--width", type=int, default=352)
    ap.add_argument("--height", type=int, default=288)
    ap.add_argument("--total", type=int, default=17, help="frames in the input (GOPs wrap around)")
    ap.add_argument("--gop", type=int, default=4)
    ap.add_argument("--gops", type=int, default=2)
    ap.add_argument("--overfit-steps", type=int, default=5)
    ap.add_argument("--warm-steps", type=int, default=3)
    ap.add_argument("--qp", type=int, default=32)
    ap.add_argument("--objective", default="", choices=("", "sample", "denoise"),
                    help="overfit distortion (default: the model's; denoise is ~5x cheaper per step)")
    ap.add_argument("--decode-steps", default="4,8")
    ap.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--payload", default="", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", default=str(REPO / "docs" / "results.md"))
    args = ap.parse_args()
    if args.payload:  # child: one decode measurement
        print(json.dumps(decode_once(args)))
        return
    if args.models:
        start = time.monotonic()
        for model in [m for m in args.models.split(",") if m]:
            if args.max_seconds and time.monotonic() - start > args.max_seconds:
                print(f"--max-seconds reached: {model} not run ({SEED_S4.get(model, '')})", flush=True)
                continue
            args.model = model
            print(f"== {model} ({SEED_S4.get(model, 'no seed figures')})", flush=True)
            try:
                run_one(args)
            except Exception as exc:  # noqa: BLE001 - one size failing (e.g. out of memory) must not stop the others
                print(f"{model}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", flush=True)
        return
    run_one(args)


def run_one(args) -> None:
    from gvcodec.report.results_md import update_section

    t_enc, payloads = encode_table(args)
    tmp = Path(args.results).with_suffix(".givic-payload.bin")
    dec_rows = []
    for steps in [int(s) for s in args.decode_steps.split(",")]:
        # the payload does not depend on the step count; the sampler does
        tmp.write_bytes(payloads[0])
        cmd = [sys.executable, __file__, "--payload", str(tmp), "--steps", str(steps)] + \
              [f"--{k}={getattr(args, k.replace('-', '_'))}" for k in
               ("model", "weights", "width", "height", "gop", "device", "threads", "qp")]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        dec_rows.append(f"| {args.model} | {steps} | {args.gop / r['seconds']:.3f} | {r['peak_gib']:.2f} |")
    tmp.unlink(missing_ok=True)
    import torch

    where = f"{args.device}, {args.threads} thread(s), torch {torch.__version__}"
    body = "\n".join([
        f"{args.model} ({weights_note(args)}) on {Path(args.input).name} {args.width}x{args.height}, "
        f"{args.gop}-frame GOPs, overfit {args.overfit_steps} steps (warm start {args.warm_steps}, "
        f"objective {build_objective(args)}), QP {args.qp}; {where}. "
        "Command: `python bench/givic.py " + " ".join(sys.argv[1:]) + "`.",
        "", "Encoding time per GOP (Table S3 structure):", "", t_enc, "", SEED_S3, "",
        "Decoding (Table S4 structure; peak = process max RSS on CPU, torch peak allocation on CUDA):", "",
        "| model | steps | dec. fps | peak memory (GiB) |", "|---|---|---|---|", *dec_rows, "",
        SEED_S4.get(args.model, "seed: S/M/Original only"),
    ])
    update_section(args.results, f"givic-{args.model}-{args.device.split(':')[0]}",
                   f"GIViC complexity ({args.model}, {args.device})", body)
    print(body)


if __name__ == "__main__":
    main()
