"""`gvcodec metrics -r REF -d DEC`: per-frame and average quality of any decoded video.

PSNR is HM's (per frame, then averaged; YUV-PSNR from the 6:1:1 weighted MSE), RGB PSNR and
MS-SSIM (luma) as in the encoder's statistics, VMAF through the optional ffmpeg with libvmaf.
"""

from __future__ import annotations

import os
import tempfile

import typer

from gvcodec.cli.common import parse_or_help


def _as_raw(source, tmpdir: str, name: str) -> str:
    """A raw planar file of `source`'s selected frames, for libvmaf."""
    from gvcodec.io.yuv import YuvWriter, is_raw_yuv

    if is_raw_yuv(source.path) and source.skip == 0 and source.ratio == 1:
        return source.path
    path = os.path.join(tmpdir, name + ".yuv")
    w = YuvWriter(path, source.fmt.bit_depth)
    for f in source.frames():
        w.write(f)
    w.close()
    return path


def command(ctx: typer.Context) -> None:
    """Measure DEC against REF (same size options as encode: -wdt -hgt -fr -fs -f ...)."""
    from gvcodec.errors import InputError, OptionError
    from gvcodec.io.source import open_source
    from gvcodec.metrics.psnr import sequence_psnr
    from gvcodec.pipeline.measure import measure
    from gvcodec.report.records import FrameRecord

    opts, console = parse_or_help(ctx, "metrics")
    if not opts.reference_file or not opts.decoded_file:
        raise OptionError("give both -r REF and -d DEC")
    wanted = {m.strip().lower() for m in opts.metrics.split(",") if m.strip()}
    unknown = wanted - {"psnr", "rgbpsnr", "msssim", "vmaf"}
    if unknown:
        raise OptionError(f"unknown metric(s): {', '.join(sorted(unknown))} (known: psnr, rgbpsnr, msssim, vmaf)")

    def open_one(path):
        return open_source(path, width=opts.source_width, height=opts.source_height,
                           chroma_format=opts.input_chroma_format, bit_depth=opts.input_bit_depth,
                           frame_rate=opts.frame_rate or None, skip=opts.frame_skip, count=opts.frames_to_be_encoded)

    ref, dec = open_one(opts.reference_file), open_one(opts.decoded_file)
    if (ref.fmt.width, ref.fmt.height, ref.fmt.chroma_format) != (dec.fmt.width, dec.fmt.height, dec.fmt.chroma_format):
        raise InputError(f"reference is {ref.fmt.width}x{ref.fmt.height} {ref.fmt.chroma_format}, decoded is "
                         f"{dec.fmt.width}x{dec.fmt.height} {dec.fmt.chroma_format}")
    full = opts.colour_range == "full" if "ColourRange" in opts.explicit else bool(ref.full_range)
    depth = max(ref.fmt.bit_depth, dec.fmt.bit_depth)
    records = []
    from gvcodec.io.frames import convert_bit_depth

    for r, d in zip(ref.frames(), dec.frames()):
        rec = FrameRecord(r.poc)
        measure(rec, convert_bit_depth(r, depth), convert_bit_depth(d, depth), msssim="msssim" in wanted,
                rgb="rgbpsnr" in wanted, matrix=opts.colour_matrix, full_range=full)
        records.append(rec)
    if not records:
        raise InputError("no frame to compare")
    vmaf = None
    if "vmaf" in wanted:
        from gvcodec.metrics.vmaf import vmaf_yuv_files

        with tempfile.TemporaryDirectory(prefix="gvcodec-metrics-") as tmp:
            a, b = _as_raw(open_one(opts.reference_file), tmp, "ref"), _as_raw(open_one(opts.decoded_file), tmp, "dec")
            if ref.fmt.bit_depth != dec.fmt.bit_depth:
                raise InputError("VMAF needs reference and decoded files at the same bit depth")
            vmaf = vmaf_yuv_files(a, b, ref.fmt, len(records))
        for rec, v in zip(records, vmaf):
            rec.extra["vmaf"] = v
    for rec in records:
        p = rec.psnr.psnr
        line = f"POC {rec.poc:4d} [Y {p[0]:6.4f} dB" + (f"    U {p[1]:6.4f} dB    V {p[2]:6.4f} dB" if len(p) > 1 else "")
        line += f"] [YUV {rec.psnr.psnr_yuv:6.4f} dB]"
        if rec.rgb_psnr is not None:
            line += f" [RGB {rec.rgb_psnr:6.4f} dB]"
        if rec.msssim is not None:
            line += f" [MS-SSIM Y {rec.msssim[0]:1.6f}]"
        if "vmaf" in rec.extra:
            line += f" [VMAF {rec.extra['vmaf']:7.4f}]"
        console.line(line)
    s = sequence_psnr([r.psnr for r in records])
    avg = {"frames": len(records), "psnr_y": s["psnr_y"], "psnr_u": s["psnr_u"], "psnr_v": s["psnr_v"],
           "psnr_yuv": s["psnr_yuv"]}
    rgb = [r.rgb_psnr for r in records if r.rgb_psnr is not None]
    ms = [r.msssim[0] for r in records if r.msssim is not None]
    avg["psnr_rgb"] = sum(rgb) / len(rgb) if rgb else None
    avg["msssim"] = sum(ms) / len(ms) if ms else None
    avg["vmaf"] = sum(vmaf) / len(vmaf) if vmaf else None
    console.line("")
    console.line("\tFrames |   Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR   RGB-PSNR    MS-SSIM       VMAF")
    fmt = lambda v, w, p=4: ("-".rjust(w) if v is None else f"{v:{w}.{p}f}")  # noqa: E731
    console.line(f"\t{avg['frames']:6d}   {fmt(avg['psnr_y'], 8)}  {fmt(avg['psnr_u'], 8)}  {fmt(avg['psnr_v'], 8)}  "
                 f"{fmt(avg['psnr_yuv'], 8)}   {fmt(avg['psnr_rgb'], 8)}   {fmt(avg['msssim'], 8, 6)}   {fmt(avg['vmaf'], 8)}")
    if opts.stats_file:
        from gvcodec.report.stats import write_stats

        write_stats(opts.stats_file, records, avg)
