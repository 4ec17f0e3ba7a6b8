"""Training throughput per stage: steps/s and pixels/s, and the share of time waiting for data.

Runs the real training loop (`gvcodec.train.loop.train_stage`) for --warmup + --steps steps of each
stage (GNVC-VD 0, I, II; GIViC P) at the batch / crop / frames of a preset, with no checkpoints
but the loop's final one, and reads the loop's own per-step marks (`loop.LAST_STATS`): steps/s and
pixels/s over the steps after the warm-up, and the share of that time the host spent waiting for
the data loader (on CUDA the host runs ahead of the device, so this is the time the GPU could have
been starved, not an exact idle time). Stages I and II start from the seeded initialisation.

Presets (what a run would use):
    tiny: the CPU sizes of cfg/train/*-tiny.yaml (stage 0: 2 x 5 x 64x64; I, II: 1 x 5 x 64x64;
          P: 1 x 4 x 32x32), Workers 0
    gpu:  stage 0: 16 x 9 x 256x256; I, II: 8 x 9 x 256x256; P: 4 x 8 x 128x128, Workers 8

    python bench/train_step.py --preset tiny --device cpu --steps 4 --warmup 1
    python bench/train_step.py --preset gpu --device cuda --data .gpu/train/MANIFEST.tsv --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESETS = {  # stage -> (batch, frames, crop, workers)
    "tiny": {"0": (2, 5, 64, 0), "I": (1, 5, 64, 0), "II": (1, 5, 64, 0), "P": (1, 4, 32, 0)},
    "gpu": {"0": (16, 9, 256, 8), "I": (8, 9, 256, 8), "II": (8, 9, 256, 8), "P": (4, 8, 128, 8)},
}
CFG = {"0": "gnvc-vd-tiny", "I": "gnvc-vd-tiny", "II": "gnvc-vd-tiny", "P": "givic-tiny"}


def bench_stage(stage: str, opts, run_dir: Path, init: Path) -> dict:
    from gvcodec.train import loop
    from gvcodec.train.distributed import World
    from gvcodec.train.options import parse_train_args

    batch, frames, crop, workers = PRESETS[opts.preset][stage]
    workers = opts.workers if opts.workers >= 0 else workers
    total = opts.warmup + opts.steps
    argv = ["-c", str(ROOT / "cfg" / "train" / f"{CFG[stage]}.yaml"), f"--RunDir={run_dir / stage}",
            f"--Data={opts.data}", "--Images=", "--CacheDir=", f"--Steps={total}", f"--BatchSize={batch}",
            f"--Frames={frames}", f"--Crop={crop}", f"--Workers={workers}", f"--LogEvery={opts.log_every}",
            f"--CheckpointEvery={10 ** 6}", "--Progress=0", "--Verbosity=0", f"--WarmupSteps={total}",
            "--MaxFrames=0", "--MaxStride=1", *opts.extra]
    if opts.max_seconds_per_stage:
        argv.append(f"--MaxSeconds={opts.max_seconds_per_stage}")
    if stage in ("I", "II"):
        argv.append(f"--Init={init}")
    if opts.compile:
        argv.append("--Compile=1")
    topts = parse_train_args(argv).resolve(stage)
    device = torch.device(opts.device)
    t0 = time.perf_counter()
    loop.train_stage(topts, stage, run_dir / stage, World(), device, say=lambda *_: None)
    wall = time.perf_counter() - t0
    st = getattr(loop, "LAST_STATS", {})  # absent in older loops
    marks = st.get("marks") or []
    if len(marks) > opts.warmup:
        (s0, d0), (s1, d1) = (marks[opts.warmup - 1] if opts.warmup else (0.0, 0.0)), marks[-1]
        n = len(marks) - opts.warmup
        secs, data = s1 - s0, d1 - d0
    else:  # a loop without marks (older code): whole loop, warm-up included
        n, secs, data = int(st.get("steps", total)), float(st.get("seconds", wall)), float("nan")
    pixels = batch * frames * crop * crop
    row = {"stage": stage, "batch": batch, "frames": frames, "crop": crop, "workers": workers, "steps": n,
           "s_per_step": secs / max(n, 1), "steps_per_s": n / secs if secs else float("nan"),
           "mpixels_per_s": n * pixels / secs / 1e6 if secs else float("nan"),
           "data_share": data / secs if secs else float("nan"), "stage_wall_s": wall}
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--stages", default="0,I,II,P")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "sequences" / "MANIFEST.tsv"))
    ap.add_argument("--steps", type=int, default=10, help="timed steps per stage (after the warm-up)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--workers", type=int, default=-1, help="DataLoader workers (-1: the preset's)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--max-seconds-per-stage", type=float, default=0.0)
    ap.add_argument("--json", default="")
    ap.add_argument("--label", default="", help="row label in docs/results.md (e.g. before / after)")
    ap.add_argument("--write", action="store_true", help="write the docs/results.md section")
    ap.add_argument("--from-json", default="", help="write docs/results.md from a --json file of a GPU run")
    ap.add_argument("extra", nargs="*", help="more training options (--Key=value)")
    opts = ap.parse_args(argv)
    if opts.from_json:
        run = json.loads(Path(opts.from_json).read_text())
        opts.device, opts.preset = run["device"], run["preset"]
        opts.steps, opts.warmup = run.get("steps", opts.steps), run.get("warmup", opts.warmup)
        write_section(run["rows"], opts, run.get("device_name"), run.get("torch"))
        return run["rows"]
    if opts.threads:
        torch.set_num_threads(opts.threads)
    from gvcodec.models.gnvc_vd.model import GnvcVd
    from gvcodec.train.checkpoint import save_weights

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        init = Path(tmp) / "init.safetensors"
        save_weights(init, GnvcVd.from_config("gnvc-vd-tiny").state_dict(), {"gvcodec.model": "gnvc-vd-tiny"})
        for stage in [s for s in opts.stages.split(",") if s]:
            rows.append(bench_stage(stage, opts, Path(tmp) / "run", init))
    if opts.json:
        name = torch.cuda.get_device_name() if opts.device.startswith("cuda") else platform.machine()
        Path(opts.json).write_text(json.dumps({"device": opts.device, "preset": opts.preset, "steps": opts.steps,
                                               "warmup": opts.warmup, "device_name": name,
                                               "torch": torch.__version__, "rows": rows}, indent=1))
    if opts.write:
        write_section(rows, opts)
    return rows


def write_section(rows, opts, dev=None, version=None) -> None:
    from gvcodec.report.results_md import update_section

    if dev is None:
        dev = torch.cuda.get_device_name() if opts.device.startswith("cuda") else \
            f"CPU ({platform.machine()}, {opts.threads or torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    lines = [f"`python bench/train_step.py --preset {opts.preset} --device {opts.device} --steps {opts.steps} "
             f"--warmup {opts.warmup}` on {dev}, torch {version or torch.__version__}{', ' + opts.label if opts.label else ''}. "
             "Real training loop; data share = host time waiting for the loader.", "",
             "| stage | batch x frames x crop | workers | s/step | steps/s | Mpixel/s | data share |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['stage']} | {r['batch']} x {r['frames']} x {r['crop']}x{r['crop']} | {r['workers']} | "
                     f"{r['s_per_step']:.3f} | {r['steps_per_s']:.2f} | {r['mpixels_per_s']:.3f} | "
                     f"{100 * r['data_share']:.0f} % |")
    key = f"train-step-{opts.preset}-{'cuda' if opts.device.startswith('cuda') else 'cpu'}"
    path = update_section(ROOT / "docs" / "results.md", key,
                          f"Training throughput, {opts.preset} preset on {opts.device} (bench/train_step.py)",
                          "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
