"""Per-picture quality measurements shared by encode and the metrics command."""

from __future__ import annotations

from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.report.records import FrameRecord


def plane_frames(frame: Frame) -> list[Frame]:
    """Each plane of `frame` as a 4:0:0 picture (for per-plane MS-SSIM)."""
    return [Frame((p,), VideoFormat(p.shape[1], p.shape[0], 400, frame.fmt.bit_depth), frame.poc)
            for p in frame.planes]


def _plane_msssim(fn, ref: Frame, dec: Frame) -> float:
    """MS-SSIM of one plane; NaN for planes under 11 samples a side (chroma of tiny pictures)."""
    if min(ref.fmt.width, ref.fmt.height) < 11:
        return float("nan")
    return fn(ref, dec, mode="y")


def measure(rec: FrameRecord, ref: Frame, dec: Frame, *, msssim: bool = False, rgb: bool = False,
            matrix: str = "bt709", full_range: bool = False, msssim_rgb: bool = False) -> None:
    """Fill `rec` with PSNR (always), per-plane MS-SSIM, RGB PSNR and RGB MS-SSIM (on request).

    RGB MS-SSIM (as the seeds evaluate): both pictures converted to R'G'B' in [0, 1] with `matrix`
    (BT.709 by default) and the range, chroma upsampled (gvcodec.io.colour.frame_to_rgb), MS-SSIM
    of each channel, averaged.
    """
    from gvcodec.metrics.psnr import frame_psnr, rgb_psnr

    rec.psnr = frame_psnr(ref, dec)
    if msssim:
        from gvcodec.metrics.msssim import frame_msssim

        rec.msssim = tuple(_plane_msssim(frame_msssim, r, d) for r, d in zip(plane_frames(ref), plane_frames(dec)))
    if rgb and ref.fmt.chroma_format != 400:
        rec.rgb_psnr = rgb_psnr(ref, dec, matrix, full_range)
    if msssim_rgb and ref.fmt.chroma_format != 400 and min(ref.fmt.width, ref.fmt.height) >= 11:
        from gvcodec.metrics.msssim import frame_msssim

        rec.msssim_rgb = frame_msssim(ref, dec, mode="rgb", matrix=matrix, full_range=full_range)
