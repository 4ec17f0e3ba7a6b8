"""Prepare what bin/gpu-run.sh needs on a GPU machine (no ../shared, no PyAV, no constriction there).

Writes OUT (default .gpu, git-ignored, carried to the device):
    clip/bus_352x288_17f.yuv      the evaluation clip (raw 4:2:0, 17 frames; never trained on)
    train/*.yuv, MANIFEST.tsv     training clips: the first --frames frames of ../shared/sequences/train
                                  videos, scaled and centre-cropped to --size, raw 4:2:0
    streams/*.gvc, streams.json   CPU-made streams of the evaluation clip (gnvc-vd-default fp32, givic-default)
                                  and the MD5 of their CPU decodes, for decoding on CUDA
    wheels/*.whl                  constriction, pytorch-msssim, tqdm for CPython 3.12 manylinux x86-64
                                  (`pip download`; gpu-run.sh installs them into /tmp/site)

    python bin/gpu_prepare.py [--out .gpu] [--videos 16] [--frames 13] [--size 320x256]
    python bin/gpu_prepare.py --dry-run --out DIR      # tiny: 2 videos, 64x64, no wheels (tests)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GVCODEC_SHARED", ROOT.parent / "shared"))
EVAL = "bus_352x288_17f_yuv420p.yuv"
WHEELS = ("constriction==0.5.0", "pytorch-msssim==1.0.0", "tqdm")


def read_manifest(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:] if line.strip()]


def frames_of(path: Path, w: int, h: int, n: int, tw: int, th: int):
    """First n frames as (Y, U, V) uint8 planes scaled (aspect kept) and centre-cropped to tw x th."""
    import av

    scale = max(tw / w, th / h)
    sw, sh = max(tw, 4 * -(-int(w * scale) // 4)), max(th, 4 * -(-int(h * scale) // 4))  # 4:2:0 rows: multiples of 4
    x0, y0 = (sw - tw) // 4 * 2, (sh - th) // 4 * 2
    out = []
    with av.open(str(path)) as box:
        for frame in box.decode(video=0):
            a = frame.reformat(width=sw, height=sh, format="yuv420p").to_ndarray()
            y = a[:sh, :sw]
            u = a[sh:sh + sh // 4].reshape(sh // 2, sw // 2)
            v = a[sh + sh // 4:].reshape(sh // 2, sw // 2)
            out.append((y[y0:y0 + th, x0:x0 + tw], u[y0 // 2:(y0 + th) // 2, x0 // 2:(x0 + tw) // 2],
                        v[y0 // 2:(y0 + th) // 2, x0 // 2:(x0 + tw) // 2]))
            if len(out) == n:
                break
    return out


def write_yuv(path: Path, planes) -> None:
    with open(path, "wb") as f:
        for fr in planes:
            for p in fr:
                f.write(np.ascontiguousarray(p, np.uint8).tobytes())


def bus_planes(n: int, size: int | None = None):
    """The evaluation clip's first n frames, optionally a centre crop of size x size."""
    w, h = 352, 288
    raw = np.fromfile(SHARED / "sequences" / EVAL, np.uint8).reshape(-1, w * h * 3 // 2)[:n]
    out = []
    for f in raw:
        y = f[:w * h].reshape(h, w)
        u = f[w * h:w * h * 5 // 4].reshape(h // 2, w // 2)
        v = f[w * h * 5 // 4:].reshape(h // 2, w // 2)
        if size:
            x0, y0 = (w - size) // 4 * 2, (h - size) // 4 * 2
            c = slice(y0 // 2, (y0 + size) // 2), slice(x0 // 2, (x0 + size) // 2)
            y, u, v = y[y0:y0 + size, x0:x0 + size], u[c], v[c]
        out.append((y, u, v))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".gpu"))
    ap.add_argument("--videos", type=int, default=16)
    ap.add_argument("--frames", type=int, default=13)
    ap.add_argument("--size", default="320x256")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes, no wheels (CPU tests)")
    opts = ap.parse_args(argv)
    out = Path(opts.out)
    for sub in ("clip", "train", "streams", "wheels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if not (SHARED / "sequences" / EVAL).is_file():
        raise SystemExit(f"gpu_prepare: {SHARED / 'sequences' / EVAL} not found (set GVCODEC_SHARED)")

    # evaluation clip
    if opts.dry_run:
        eval_w = eval_h = 64
        eval_frames = 9  # givic-default codes 8-frame GOPs
        write_yuv(out / "clip" / f"bus_{eval_w}x{eval_h}_{eval_frames}f.yuv", bus_planes(eval_frames, 64))
    else:
        eval_w, eval_h, eval_frames = 352, 288, 17
        write_yuv(out / "clip" / f"bus_{eval_w}x{eval_h}_{eval_frames}f.yuv", bus_planes(eval_frames))
    clip = out / "clip" / f"bus_{eval_w}x{eval_h}_{eval_frames}f.yuv"

    # training clips
    tw, th = (64, 64) if opts.dry_run else (int(v) for v in opts.size.split("x"))
    rows = ["file\twidth\theight\tframes\tpix_fmt"]
    if opts.dry_run:  # two crops of the bus clip: no decoder needed
        for i, planes in enumerate([bus_planes(9, 64), bus_planes(9, 128)]):
            planes = [tuple(p[::s, ::s] for p in fr) for fr, s in zip(planes, [1 if i == 0 else 2] * 9)]
            name = f"train{i}_64x64_9f.yuv"
            write_yuv(out / "train" / name, planes)
            rows.append(f"{name}\t64\t64\t9\tyuv420p")
    else:
        videos = [r for r in read_manifest(SHARED / "sequences" / "train" / "MANIFEST.tsv")
                  if int(r["frames"]) >= opts.frames and not r["file"].endswith((".tar.xz", ".yuv"))]
        for r in videos[:opts.videos]:
            planes = frames_of(SHARED / "sequences" / "train" / r["file"], int(r["width"]), int(r["height"]),
                               opts.frames, tw, th)
            if len(planes) < opts.frames:
                continue
            name = f"{Path(r['file']).stem}_{tw}x{th}_{opts.frames}f.yuv"
            write_yuv(out / "train" / name, planes)
            rows.append(f"{name}\t{tw}\t{th}\t{opts.frames}\tyuv420p")
            print(f"train clip {name}", flush=True)
    (out / "train" / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")

    # CPU-made streams, decoded here for their MD5s
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = ["-i", str(clip), "-wdt", str(eval_w), "-hgt", str(eval_h), "-fr", "30", "-f", str(eval_frames),
              "-q", "37", "--Device=cpu"]
    streams = {}
    for name, extra in (("gnvc-cpu", ["-c", "cfg/lowdelay.cfg", "--Model=gnvc-vd-default", "--Precision=fp32",
                                      f"--GOPFrames={eval_frames}"]),
                        ("givic-cpu", ["-c", "cfg/randomaccess.cfg", "--Model=givic-default",
                                       "--OverfitSteps=0", "--GOPFrames=8",
                                       "-f", str(8 if opts.dry_run else 16)])):
        bits, dec = out / "streams" / f"{name}.gvc", out / "streams" / f"{name}.yuv"
        subprocess.run([sys.executable, "-m", "gvcodec", "encode", *common, *extra, "-b", str(bits)],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "gvcodec", "decode", "-b", str(bits), "-o", str(dec)],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        streams[name] = {"file": bits.name, "cpu_decode_md5": hashlib.md5(dec.read_bytes()).hexdigest()}
        dec.unlink()
        print(f"stream {bits.name}: {bits.stat().st_size} bytes", flush=True)
    (out / "streams" / "streams.json").write_text(json.dumps({"clip": clip.name, "width": eval_w, "height": eval_h,
                                                              "frames": eval_frames, "streams": streams}, indent=1))

    if not opts.dry_run:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
                        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                        "--platform", "any", "-d", str(out / "wheels"), *WHEELS], check=True)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"prepared {out}: {total / 2**20:.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
