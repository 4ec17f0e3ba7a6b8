"""CPU speed and memory of the GNVC-VD engine through the real CLI, next to x264/x265.

For each resolution: `gvcodec encode` then `gvcodec decode` of the first FRAMES frames of a
shared clip (one GOP), each in its own process, timed by wall clock with the peak resident
memory of that process (os.wait4). x264 and x265 (medium, LD-P) code the same frames in the same
run. Medians over --repeat runs. Writes the `gnvc-vd-cpu` section of docs/results.md.

    python bench/gnvc_vd_cpu.py [--model gnvc-vd-tiny] [--frames 9] [--repeat 1] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gvcodec.report.results_md import update_section  # noqa: E402

# resolution label -> (clip in shared/sequences, width, height, frame rate); 832x480 (CTC class C)
# is the top-left crop of the 854x480 DAVIS clip since no shared clip has that size.
CLIPS = {
    "352x288": ("bus_352x288_17f_yuv420p.yuv", 352, 288, 30),
    "832x480": ("davis_bear_854x480_82f.mp4", 832, 480, 24),
    "1280x720": ("cockatoo_1280x720_280f.mp4", 1280, 720, 25),
}


def raw_clip(src: Path, width: int, height: int, frames: int, out: Path) -> Path:
    """The first `frames` frames of `src`, cropped to width x height, as 8-bit raw YUV 4:2:0."""
    from gvcodec.io.padding import crop_frame
    from gvcodec.io.source import open_source
    from gvcodec.io.yuv import planes_to_bytes

    raw = src.suffix.lower() == ".yuv"
    source = open_source(str(src), width=width if raw else 0, height=height if raw else 0, count=frames)
    with open(out, "wb") as f:
        for frame in source.frames():
            f.write(planes_to_bytes(crop_frame(frame, width, height), 8))
    return out


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one gvcodec command."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gvcodec", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"gvcodec {' '.join(args)} failed: {err.strip()}")
    return wall, usage.ru_maxrss / 1024.0


def bench_one(label: str, shared: Path, opts) -> list[dict]:
    name, w, h, fps = CLIPS[label]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = raw_clip(shared / "sequences" / name, w, h, opts.frames, tmp / f"src_{label}.yuv")
        src = ["-i", str(clip), "-f", str(opts.frames), "-wdt", str(w), "-hgt", str(h), "-fr", str(fps)]
        for codec in (opts.model, "x264", "x265"):
            pick = [f"--Model={codec}", f"--GOPFrames={opts.frames}"] if codec.startswith("gnvc") else [f"--Codec={codec}"]
            enc, dec = [], []
            for _ in range(opts.repeat):
                enc.append(run(["encode", "-c", str(ROOT / "cfg" / "lowdelay.cfg"), *src, *pick, "-q", "32",
                                f"--Threads={opts.threads}", "-b", "s.gvc"], tmp))
                dec.append(run(["decode", "-b", "s.gvc", "-o", "d.yuv", f"--Threads={opts.threads}"], tmp))
            bits = (tmp / "s.gvc").stat().st_size * 8
            rows.append({
                "res": label, "codec": codec, "bpp": bits / (opts.frames * w * h),
                "enc_fps": opts.frames / statistics.median(t for t, _ in enc),
                "dec_fps": opts.frames / statistics.median(t for t, _ in dec),
                "enc_mib": max(m for _, m in enc), "dec_mib": max(m for _, m in dec),
            })
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gnvc-vd-tiny")
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shared", default=os.environ.get("GVCODEC_SHARED", str(ROOT.parent / "shared")))
    ap.add_argument("--res", default=",".join(CLIPS))
    opts = ap.parse_args()
    rows = [r for label in opts.res.split(",") for r in bench_one(label, Path(opts.shared), opts)]
    lines = [
        f"`python bench/gnvc_vd_cpu.py --model {opts.model} --frames {opts.frames} --repeat {opts.repeat} "
        f"--threads {opts.threads}` on {platform.machine()} ({os.cpu_count()} cores), torch threads "
        f"{opts.threads}; one GOP of {opts.frames} frames per clip, QP 32, FlowSteps 5; whole-process wall "
        "time (model load, I/O, metrics included) and peak RSS; medians over the repeats. Clips: "
        + ", ".join(f"{k} {v[0]}" for k, v in CLIPS.items() if k in opts.res.split(","))
        + " (832x480 = its top-left crop), converted to raw YUV first. With 9 frames the x264/x265 "
        "times still include the process start (about 0.2 s since the start-up work; docs/results.md "
        "\"Start-up\"), so the ratios below understate the classical codecs' throughput; the GNVC-VD "
        "times are mostly the VAE (see docs/gnvc-vd.md).",
        "",
        "| resolution | codec | bpp | encode fps | decode fps | encode peak MiB | decode peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['res']} | {r['codec']} | {r['bpp']:.4f} | {r['enc_fps']:.3f} | {r['dec_fps']:.3f} | "
                     f"{r['enc_mib']:.0f} | {r['dec_mib']:.0f} |")
    for label in dict.fromkeys(r["res"] for r in rows):
        by = {r["codec"]: r for r in rows if r["res"] == label}
        n = by[opts.model]
        lines.append("")
        lines.append(f"{label}: {opts.model} decodes at {n['dec_fps'] / by['x265']['dec_fps']:.3g}x x265's speed "
                     f"and encodes at {n['enc_fps'] / by['x265']['enc_fps']:.3g}x.")
    path = update_section(ROOT / "docs" / "results.md", "gnvc-vd-cpu", "GNVC-VD on the CPU (bench/gnvc_vd_cpu.py)",
                          "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
