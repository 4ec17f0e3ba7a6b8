"""Anchor fidelity: gvcodec's x265 against the same x265 run directly through PyAV, in one run.

For each clip and QP, x265 codes the same frames twice with the same settings (the FFmpeg options
gvcodec's classical engine builds, `engines/classical/engine.py:encoder_options`): once directly
(PyAV, packets only) and once through `gvcodec encode` in this process with each picture hash
(0 off, 2 CRC, 1 MD5). The engine payload is checked to be byte-identical to the direct packets, so
quality is equal and the BD-rate (PSNR-YUV, PCHIP) measures the container alone. Rewrites the
section between `<!-- bench:anchors:start -->` and `<!-- bench:anchors:end -->` in docs/results.md.

    python bench/anchors.py [--frames 9] [--qps 22,27,32,37,42] [--preset medium]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gvcodec.engines.classical.engine import encoder_options  # noqa: E402
from gvcodec.engines.classical.params import ClassicalParams  # noqa: E402
from gvcodec.metrics.bdrate import bd_rate  # noqa: E402
from gvcodec.options.parse import parse_options  # noqa: E402
from gvcodec.pipeline.encode import run_encode  # noqa: E402
from gvcodec.report.console import Console  # noqa: E402
from gvcodec.report.results_md import update_section  # noqa: E402

SHARED = ROOT.parent / "shared" / "sequences"
CLIPS = [  # (file, extra options)
    ("container_ship_176x144_1700f.264", []),
    ("bus_352x288_17f_yuv420p.yuv", ["-wdt", "352", "-hgt", "288", "-fr", "30"]),
    ("mobile_calendar_352x288_30f_pcm.264", []),
]
HASHES = {0: "off", 2: "CRC", 1: "MD5"}
RA = ["-g", "8"]  # random access: GOPSize 8 -> 7 B-frames (b-pyramid), hashes off


def direct_x265(path: str, extra: list[str], frames: int, qp: int, preset: str) -> tuple[int, list[int]]:
    """x265 through PyAV on the frames gvcodec reads, with gvcodec's settings: (bytes, per-packet sizes)."""
    import av

    from gvcodec.io.container import frame_to_av, pixel_format
    from gvcodec.io.source import open_source

    opts = parse_options(["-i", path, *extra, "-f", str(frames), "-q", str(qp), "--Codec=x265",
                          f"--Preset={preset}", "--Threads=1"], "encode")
    src = open_source(path, width=opts.source_width, height=opts.source_height, chroma_format=420, bit_depth=8,
                      frame_rate=opts.frame_rate or None, skip=0, count=frames, ratio=1)
    cc = av.CodecContext.create("libx265", "w")
    cc.width, cc.height, cc.pix_fmt = src.fmt.width, src.fmt.height, pixel_format(src.fmt)
    from fractions import Fraction

    rate = Fraction(src.frame_rate).limit_denominator(1 << 20)
    cc.time_base, cc.framerate = 1 / rate, rate
    cc.options = encoder_options("x265", ClassicalParams.from_options(opts), src.num_frames or 0)
    cc.open()
    sizes = []
    for frame in src.frames():
        sizes += [len(bytes(p)) for p in cc.encode(frame_to_av(frame, cc.pix_fmt))]
    sizes += [len(bytes(p)) for p in cc.encode(None)]
    return sum(sizes), sizes


def gvcodec_x265(path: str, extra: list[str], frames: int, qp: int, preset: str, hash_kind: int, out: str) -> dict:
    opts = parse_options(["-i", path, *extra, "-f", str(frames), "-q", str(qp), "--Codec=x265", f"--Preset={preset}",
                          "--Threads=1", "-b", out, f"--SEIDecodedPictureHash={hash_kind}"], "encode")
    return run_encode(opts, Console(0, "0"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--qps", default="22,27,32,37,42")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    qps = [int(q) for q in args.qps.split(",")]
    rows, bd_lines = [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in CLIPS:
            path = str(SHARED / name)
            if not Path(path).is_file():
                print(f"skip {name}: not in {SHARED}", file=sys.stderr)
                continue
            curves = {k: ([], []) for k in ["direct", *HASHES]}
            for qp in qps:
                raw, sizes = direct_x265(path, extra, args.frames, qp, args.preset)
                for kind in HASHES:
                    r = gvcodec_x265(path, extra, args.frames, qp, args.preset, kind, f"{tmp}/s.gvc")
                    assert r["payload_bits"] == raw * 8, (name, qp, kind, r["payload_bits"], raw * 8)
                    curves[kind][0].append(r["bits"])
                    curves[kind][1].append(r["psnr_yuv"])
                    rows.append((Path(name).stem, qp, HASHES[kind], raw, r["bits"] // 8, r["container_bits"] // 8,
                                 r["frames"]))
                curves["direct"][0].append(raw * 8)
                curves["direct"][1].append(curves[0][1][-1])  # same payload bytes: same pictures
            bds = {HASHES[k]: bd_rate(*curves["direct"], *curves[k]) for k in HASHES}
            ra = ([], [], [])
            for qp in qps:
                raw, _ = direct_x265(path, extra + RA, args.frames, qp, args.preset)
                r = gvcodec_x265(path, extra + RA, args.frames, qp, args.preset, 0, f"{tmp}/s.gvc")
                assert r["payload_bits"] == raw * 8, (name, qp, "RA", r["payload_bits"], raw * 8)
                ra[0].append(raw * 8), ra[1].append(r["bits"]), ra[2].append(r["psnr_yuv"])
            bds["RA"] = bd_rate(ra[0], ra[2], ra[1], ra[2])
            bd_lines.append((Path(name).stem, bds))
    seconds = time.perf_counter() - t0
    body = [f"x265 `--Preset={args.preset}`, {args.frames} frames, QP {args.qps}, one thread, low delay P (last "
            "column: random access, `-g 8`: 7 B-frames, b-pyramid), the intra QP x265's own (ipratio 1.4). gvcodec's engine payload is byte-identical to the direct packets at every "
            "point (checked), so the difference is the .gvc container (format "
            "2: docs/bitstream.md). BD-rate on PSNR-YUV (6:1:1), PCHIP, against x265 run directly.", "",
            "| sequence | hash off | CRC | MD5 | random access (GOPSize 8), hash off |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for seq, bds in bd_lines:
        body.append(f"| {seq} | {bds['off']:+.2f} % | {bds['CRC']:+.2f} % | {bds['MD5']:+.2f} % | {bds['RA']:+.2f} % |")
    body += ["", "Container bytes per stream and per picture (QP 42, the smallest streams):", "",
             "| sequence | hash | x265 bytes | .gvc bytes | container bytes | per picture | share |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for seq, qp, hash_name, raw, total, container, n in rows:
        if qp == max(qps):
            body.append(f"| {seq} | {hash_name} | {raw} | {total} | {container} | {container / n:.1f} | "
                        f"{100.0 * container / total:.2f} % |")
    body += ["", f"Format 1 (before): 494 container bytes for the 9-frame CIF stream without MD5 (213 of them the "
             f"sequence header, 32 per picture) and 48 more per picture with MD5; +18.4 % BD-rate against x265 run "
             f"directly with its defaults, of which the MD5 ~7 points and ipratio 1 ~3. Now a picture costs 12 bytes "
             f"(framing with its CRC-32 6..7, picture info 5) and the classical sequence header 31, so QCIF streams of "
             f"under 200 bytes a picture still pay a few percent; CIF is within 1 %. Run time {seconds:.0f} s."]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        update_section(ROOT / "docs" / "results.md", "anchors",
                       "Container overhead: gvcodec-x265 against x265 run directly (bench/anchors.py)", text)


if __name__ == "__main__":
    main()
