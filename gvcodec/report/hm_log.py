"""HM-format log text: per-picture lines and the SUMMARY / I / P / B Slices blocks.

The printf formats are HM-16.25's (TEncGOP / TAppEncoder / TDecGop), so CTC scripts that
parse HM logs parse gvcodec logs unchanged.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

from gvcodec.report.records import FrameRecord

DASHES = "-" * 56
_SLICE_ROWS = (("I Slices", "I", "i"), ("P Slices", "P", "p"), ("B Slices", "B", "b"))


def _f(value: float | None, width: int) -> str:
    """printf `%W.4lf`, with C's `-nan` for an empty average."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-nan".rjust(width)
    return f"{value:{width}.4f}"


def _l1(rec: FrameRecord) -> tuple[int, ...]:
    """L1 of a B picture: its own list, else (generalized P/B, low delay) the L0 list."""
    if rec.slice_type.upper() != "B":
        return ()
    return rec.refs1 or rec.refs


def encoder_poc_line(rec: FrameRecord, with_msssim: bool = False, with_md5: bool = True) -> str:
    """`POC    0 TId: 0 ( I-SLICE, nQP 37 QP 37 )      12345 bits [Y ... dB    U ... dB    V ... dB] [ET     1 ] [L0 ] [L1 ]`."""
    line = f"POC {rec.poc:4d} TId: {rec.temporal_id:1d} ( {rec.slice_type}-SLICE, nQP {rec.qp} QP {rec.qp} ) {rec.bits:10d} bits"
    if rec.psnr is not None:
        p = rec.psnr.psnr
        if len(p) == 1:
            line += f" [Y {p[0]:6.4f} dB]"
        else:
            line += f" [Y {p[0]:6.4f} dB    U {p[1]:6.4f} dB    V {p[2]:6.4f} dB]"
    if with_msssim and rec.msssim is not None:
        m = tuple(rec.msssim) + (0.0,) * (3 - len(rec.msssim))
        line += f" [MS-SSIM Y {m[0]:1.6f}    U {m[1]:1.6f}    V {m[2]:1.6f}]"
    line += f" [ET {rec.seconds:5.0f} ]"
    line += " [L0 " + "".join(f"{r} " for r in rec.refs) + "]"
    line += " [L1 " + "".join(f"{r} " for r in _l1(rec)) + "]"
    if with_md5 and rec.md5:
        line += f" [{rec.hash_name}:{','.join(rec.md5)}]"
    return line


def decoder_poc_line(rec: FrameRecord) -> str:
    """`POC    1 TId: 0 ( P-SLICE, QP 45 ) [DT  0.001] [L0 0 ] [L1 ] [MD5:...,(OK)] `."""
    line = f"POC {rec.poc:4d} TId: {rec.temporal_id:1d} ( {rec.slice_type}-SLICE, QP{rec.qp:3d} ) "
    line += f"[DT {rec.seconds:6.3f}] "
    line += "[L0 " + "".join(f"{r} " for r in rec.refs) + "] "
    line += "[L1 " + "".join(f"{r} " for r in _l1(rec)) + "] "
    fp = rec.extra.get("fingerprint")
    if rec.md5:
        status = "(unk)" if rec.md5_ok is None else ("(OK)" if rec.md5_ok else "(differs)" if fp else "(***ERROR***)")
        line += f"[{rec.hash_name}:{','.join(rec.md5)},{status}] "
    if fp:  # the hash differed: the conformance tolerance of the picture fingerprint decided
        diff, tol = fp
        line += f"[FP:(within {diff:.4f}, OK)] " if diff <= tol else f"[FP:({diff:.4f} > {tol}, ***ERROR***)] "
    return line


def _block(title: str, char: str, records: Sequence[FrameRecord], frame_rate: Fraction, four00: bool) -> str:
    from gvcodec.metrics.psnr import sequence_psnr

    n = len(records)
    bitrate = psnr_y = psnr_u = psnr_v = psnr_yuv = None
    if n:
        bitrate = sum(r.bits for r in records) * float(frame_rate) / 1000.0 / n
        measured = [r.psnr for r in records if r.psnr is not None]
        if measured:
            s = sequence_psnr(measured)
            psnr_y, psnr_u, psnr_v, psnr_yuv = s["psnr_y"], s["psnr_u"], s["psnr_v"], s["psnr_yuv"]
    if four00:
        head = "\tTotal Frames |   Bitrate     Y-PSNR  "
        row = f"\t {n:8d}    {char} {_f(bitrate, 12)}  {_f(psnr_y, 8)}  "
    else:
        head = "\tTotal Frames |   Bitrate     Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR  "
        row = (f"\t {n:8d}    {char} {_f(bitrate, 12)}  {_f(psnr_y, 8)}  {_f(psnr_u, 8)}  "
               f"{_f(psnr_v, 8)}  {_f(psnr_yuv, 8)}  ")
    return f"\n\n{title}{DASHES}\n{head}\n{row}\n"


def summary(records: Sequence[FrameRecord], frame_rate: Fraction, file_bytes: int, chroma_format: int,
            cpu_seconds: float) -> str:
    """The end-of-run text: SUMMARY, I/P/B Slices, RVM, bytes written and total time."""
    four00 = chroma_format == 400
    text = _block("SUMMARY ", "a", records, frame_rate, four00)
    for title, st, char in _SLICE_ROWS:
        text += _block(title, char, [r for r in records if r.slice_type == st], frame_rate, four00)
    kbps = file_bytes * 8 * float(frame_rate) / 1000.0 / max(len(records), 1)
    text += "\nRVM: 0.000\n"
    text += f"Bytes written to file: {file_bytes} ({kbps:.3f} kbps)\n"
    text += f"\n Total Time: {cpu_seconds:12.3f} sec.\n"
    return text
