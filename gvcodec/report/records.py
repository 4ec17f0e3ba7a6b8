"""Per-picture records: the only thing the report layer sees of a coding run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FrameRecord:
    """One coded or decoded picture.

    Attributes:
        poc: picture order count.
        slice_type: I, P or B.
        qp: slice QP.
        temporal_id: temporal layer.
        refs: reference POCs (L0).
        bits: bits attributed to the picture (encoder side; sums to the file size).
        psnr: FramePsnr (metrics.psnr) or None when not measured.
        rgb_psnr: PSNR of the RGB conversion (peak 1.0), if measured.
        msssim: (Y, U, V) MS-SSIM, if measured.
        md5: hex MD5 per plane of the output picture.
        md5_ok: decoder: whether the MD5 matched the stream (None = stream has none).
        seconds: CPU seconds spent on the picture (encode or decode).
    """

    poc: int
    slice_type: str = "P"
    qp: int = 0
    temporal_id: int = 0
    refs: tuple[int, ...] = ()
    bits: int = 0
    psnr: object | None = None
    rgb_psnr: float | None = None
    msssim: tuple[float, ...] | None = None
    md5: tuple[str, ...] = ()
    md5_ok: bool | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
