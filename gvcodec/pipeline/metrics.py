"""run_metrics: reference + decoded video -> per-frame and average quality -> HM-style lines, stats, results row.

PSNR is HM's (per frame, then averaged; YUV-PSNR from the 6:1:1 weighted MSE), RGB PSNR and
MS-SSIM (luma) as in the encoder's statistics, VMAF through the optional ffmpeg with libvmaf;
E_warp, LPIPS, DISTS, CLIP-F and FVD through gvcodec.metrics.video (docs/metrics.md). A learned
metric whose weights are missing is reported on stderr and left empty; the others still run.
With --ResultsFile and -b STREAM the run is also appended as one results row for bdrate/plot.
"""

from __future__ import annotations

import os
import tempfile

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


def _open_learned(names: list[str], opts, console) -> list:
    """The requested temporal/learned metrics; one whose weights are missing is reported and skipped."""
    from gvcodec.metrics.video import open_metric
    from gvcodec.metrics.weight_files import WeightsUnavailable

    out = []
    for name in names:
        try:
            out.append(open_metric(name, opts))
        except WeightsUnavailable as exc:
            console.warn(f"gvcodec: {name} not measured: {exc}")
    return out


def _measure_learned(learned: list, columns: list[str], rec, ref, dec, matrix: str, full: bool) -> None:
    """Per-frame values of the requested temporal/learned `columns` into rec.extra (None where there is none)."""
    rec.extra.update(dict.fromkeys(columns))
    if not learned:
        return
    import math

    from gvcodec.io.colour import frame_to_rgb

    ref_rgb, dec_rgb = frame_to_rgb(ref, matrix, full), frame_to_rgb(dec, matrix, full)
    for metric in learned:
        value = metric.update(ref, dec, ref_rgb, dec_rgb)
        rec.extra[metric.column] = value if value is not None and math.isfinite(value) else None


def _learned_summary(learned: list, columns: list[str], console) -> dict:
    """Sequence value of each requested column (None for skipped metrics and undefined values)."""
    out = dict.fromkeys(columns)
    for metric in learned:
        out[metric.column] = metric.result()
        if out[metric.column] is None and getattr(metric, "problem", ""):
            console.warn(f"gvcodec: {metric.column} not measured: {metric.problem}")
    return out


def _append_results_row(opts, avg: dict) -> None:
    """One results-CSV row: rate, codec and QP from the stream (-b), the averages of this run."""
    from pathlib import Path

    from gvcodec.bitstream.reader import StreamReader
    from gvcodec.report.results import append_result, results_row

    reader = StreamReader(opts.bitstream_file)
    h = reader.header
    frames = sum(len(u.pictures) for u in reader.units())
    row = results_row(opts.sequence_name or Path(opts.reference_file).stem, opts.codec_label or h.model or h.engine,
                      h.qp, frames, h.width, h.height, float(h.frame_rate), reader.size * 8,
                      **{k: v for k, v in avg.items() if k != "frames"})
    append_result(opts.results_file, row)


def _count_mismatch(ref, dec) -> str:
    return (f"reference has {ref} frames, decoded file {dec}: give -f N to measure the first N frames of both "
            "(FrameSkip and FramesToBeEncoded apply to both)")


def run_metrics(opts, console) -> dict:
    """Measure opts.decoded_file against opts.reference_file; returns the sequence averages."""
    from gvcodec.errors import InputError, OptionError
    from gvcodec.io.source import open_source
    from gvcodec.metrics.video import LABELS
    from gvcodec.metrics.psnr import sequence_psnr
    from gvcodec.pipeline.measure import measure
    from gvcodec.report.records import FrameRecord

    if not opts.reference_file or not opts.decoded_file:
        raise OptionError("give both -r REF and -d DEC")
    from gvcodec.metrics.video import COLUMNS

    wanted = {m.strip().lower() for m in opts.metrics.split(",") if m.strip()}
    known = ["psnr", "rgbpsnr", "msssim", "rgbmsssim", "vmaf", *COLUMNS]
    unknown = wanted - set(known)
    if unknown:
        raise OptionError(f"unknown metric(s): {', '.join(sorted(unknown))} (known: {', '.join(known)})")
    if opts.results_file and not opts.bitstream_file:
        raise OptionError("ResultsFile rows need the decoded stream's rate: give -b STREAM.gvc")

    def open_one(path):
        return open_source(path, width=opts.source_width, height=opts.source_height,
                           chroma_format=opts.input_chroma_format, bit_depth=opts.input_bit_depth,
                           frame_rate=opts.frame_rate or None, skip=opts.frame_skip, count=opts.frames_to_be_encoded)

    from gvcodec.io.outputs import check_outputs

    check_outputs({"reference": opts.reference_file, "decoded file": opts.decoded_file,
                   "bitstream": opts.bitstream_file},
                  {"statistics file": opts.stats_file, "results file": opts.results_file})
    ref, dec = open_one(opts.reference_file), open_one(opts.decoded_file)
    if ref.num_frames is not None and dec.num_frames is not None and ref.num_frames != dec.num_frames:
        raise InputError(_count_mismatch(ref.num_frames, dec.num_frames))
    if (ref.fmt.width, ref.fmt.height, ref.fmt.chroma_format) != (dec.fmt.width, dec.fmt.height, dec.fmt.chroma_format):
        raise InputError(f"reference is {ref.fmt.width}x{ref.fmt.height} {ref.fmt.chroma_format}, decoded is "
                         f"{dec.fmt.width}x{dec.fmt.height} {dec.fmt.chroma_format}")
    full = opts.colour_range == "full" if "ColourRange" in opts.explicit else bool(ref.full_range)
    depth = max(ref.fmt.bit_depth, dec.fmt.bit_depth)
    records = []
    from gvcodec.io.frames import convert_bit_depth

    learned = _open_learned([n for n in COLUMNS if n in wanted], opts, console)
    columns = [COLUMNS[n] for n in COLUMNS if n in wanted]
    import itertools

    for r, d in itertools.zip_longest(ref.frames(), dec.frames()):
        if r is None or d is None:
            n = len(records)
            raise InputError(_count_mismatch(n if r is None else f"more than {n}", n if d is None else f"more than {n}"))
        rec = FrameRecord(r.poc)
        r, d = convert_bit_depth(r, depth), convert_bit_depth(d, depth)
        measure(rec, r, d, msssim="msssim" in wanted, rgb="rgbpsnr" in wanted, matrix=opts.colour_matrix,
                full_range=full, msssim_rgb="rgbmsssim" in wanted)
        _measure_learned(learned, columns, rec, r, d, opts.colour_matrix, full)
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
        if rec.msssim_rgb is not None:
            line += f" [MS-SSIM RGB {rec.msssim_rgb:1.6f}]"
        if "vmaf" in rec.extra:
            line += f" [VMAF {rec.extra['vmaf']:7.4f}]"
        for column, label in LABELS.items():
            if rec.extra.get(column) is not None:
                line += f" [{label} {rec.extra[column]:.6f}]"
        console.line(line)
    s = sequence_psnr([r.psnr for r in records])
    avg = {"frames": len(records), "psnr_y": s["psnr_y"], "psnr_u": s["psnr_u"], "psnr_v": s["psnr_v"],
           "psnr_yuv": s["psnr_yuv"]}
    rgb = [r.rgb_psnr for r in records if r.rgb_psnr is not None]
    ms = [r.msssim[0] for r in records if r.msssim is not None]
    avg["psnr_rgb"] = sum(rgb) / len(rgb) if rgb else None
    avg["msssim"] = sum(ms) / len(ms) if ms else None
    ms_rgb = [r.msssim_rgb for r in records if r.msssim_rgb is not None]
    avg["msssim_rgb"] = sum(ms_rgb) / len(ms_rgb) if ms_rgb else None
    avg["vmaf"] = sum(vmaf) / len(vmaf) if vmaf else None
    console.line("")
    console.line("\tFrames |   Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR   RGB-PSNR    MS-SSIM  MS-SSIM-RGB       VMAF")
    fmt = lambda v, w, p=4: ("-".rjust(w) if v is None else f"{v:{w}.{p}f}")  # noqa: E731
    console.line(f"\t{avg['frames']:6d}   {fmt(avg['psnr_y'], 8)}  {fmt(avg['psnr_u'], 8)}  {fmt(avg['psnr_v'], 8)}  "
                 f"{fmt(avg['psnr_yuv'], 8)}   {fmt(avg['psnr_rgb'], 8)}   {fmt(avg['msssim'], 8, 6)}     {fmt(avg['msssim_rgb'], 8, 6)}   {fmt(avg['vmaf'], 8)}")
    for column, value in _learned_summary(learned, columns, console).items():
        avg[column] = value
    if columns:
        console.line("\t" + "".join(f"{LABELS[c]:>12}" for c in columns))
        console.line("\t" + "".join(fmt(avg[c], 12, 6) for c in columns))
    if opts.results_file:
        _append_results_row(opts, avg)
    if opts.stats_file:
        from gvcodec.report.stats import write_stats

        write_stats(opts.stats_file, records, avg)
    return avg
