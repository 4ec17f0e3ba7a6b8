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
        msssim_rgb: MS-SSIM on RGB (BT.709 or the stream's matrix from the decoded YCbCr), if measured.
        md5: hex picture hash per plane of the output picture (MD5, CRC or checksum: `hash_name`).
        md5_ok: decoder: whether the hash matched the stream (None = stream has none).
        hash_name: MD5, CRC or Checksum (HM's log label).
        container_bits: of `bits`, those of the container (framing, picture info, hashes, headers).
        refs1: reference POCs in L1 (B pictures).
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
    msssim_rgb: float | None = None
    md5: tuple[str, ...] = ()
    md5_ok: bool | None = None
    hash_name: str = "MD5"
    container_bits: int = 0
    refs1: tuple[int, ...] = ()
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
