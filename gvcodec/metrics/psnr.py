"""PSNR exactly as the HM encoder computes and prints it (per picture and in the SUMMARY).

* Per plane: ``SSD`` over all samples at the picture bit depth, ``maxval = 255 << (bd - 8)``
  (1020 at 10 bit, not 1023), ``PSNR = 10 log10(maxval^2 N / SSD)``; ``SSD == 0`` gives 999.99.
* YUV-PSNR: ``10 log10(maxval^2 / MSE_yuv)`` with the plane MSEs weighted by sample count as HM does:
  Y:U:V = 4:1:1 for 4:2:0, 4:2:2 for 4:2:2, 4:4:4 for 4:4:4 (so /6, /8, /12), Y only for 4:0:0.
* Sequence: Y/U/V-PSNR are the means of the per-picture PSNRs; YUV-PSNR comes from the means of
  the per-picture MSEs (HM's SUMMARY line), so it is not the mean of per-picture YUV-PSNRs.

``rgb_psnr`` is gvcodec's own addition for RGB-domain papers: both pictures are converted with
:func:`gvcodec.io.colour.frame_to_rgb` (clamped to [0, 1]) and PSNR uses peak 1 over all three
channels' samples together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, convert_bit_depth

# HM prints this for a lossless plane instead of infinity.
PSNR_LOSSLESS = 999.99

# Sample-count weights of (Y, U, V) in HM's YUV-PSNR: 4 >> (chroma x shift + chroma y shift).
_YUV_WEIGHTS = {420: (4, 1, 1), 422: (4, 2, 2), 444: (4, 4, 4), 400: (4,)}


def max_value(bit_depth: int) -> int:
    """HM's PSNR peak: 255 scaled to the bit depth by a shift (1020 at 10 bit)."""
    return 255 << (bit_depth - 8) if bit_depth >= 8 else 255 >> (8 - bit_depth)


def plane_mse(ref: np.ndarray, dec: np.ndarray) -> float:
    """Mean squared error of two integer sample planes, computed exactly in int64.

    Args:
        ref, dec: planes of equal shape.

    Returns:
        SSD / number of samples.
    """
    if ref.shape != dec.shape:
        raise InputError(f"plane shapes differ: {ref.shape} vs {dec.shape}")
    diff = (ref.astype(np.int64) - dec.astype(np.int64)).ravel()
    return float(diff @ diff) / diff.size


def psnr_from_mse(mse: float, bit_depth: int) -> float:
    """PSNR in dB from an MSE at ``bit_depth``; 999.99 for a zero MSE, as HM prints.

    Args:
        mse: mean squared error in code values squared.
        bit_depth: bit depth the MSE was measured at.

    Returns:
        ``10 log10(maxval^2 / mse)`` with ``maxval = 255 << (bit_depth - 8)``.
    """
    if mse <= 0.0:
        return PSNR_LOSSLESS
    return 10.0 * math.log10(max_value(bit_depth) ** 2 / mse)


def _weighted_yuv_mse(mse: Sequence[float], chroma_format: int) -> float:
    weights = _YUV_WEIGHTS[chroma_format]
    return sum(w * m for w, m in zip(weights, mse)) / sum(weights)


@dataclass(frozen=True)
class FramePsnr:
    """PSNR of one picture.

    Attributes:
        mse: per-plane MSE (Y[, U, V]) at ``bit_depth``.
        psnr: per-plane PSNR in dB.
        psnr_yuv: HM's sample-weighted YUV-PSNR of this picture.
        bit_depth: bit depth the values were measured at.
        chroma_format: 400, 420, 422 or 444.
    """

    mse: tuple[float, ...]
    psnr: tuple[float, ...]
    psnr_yuv: float
    bit_depth: int
    chroma_format: int


def frame_psnr(ref: Frame, dec: Frame, bit_depth: int | None = None) -> FramePsnr:
    """PSNR of a decoded picture against its original, as HM computes it.

    Args:
        ref: original picture.
        dec: decoded picture; same size and chroma format as ``ref``.
        bit_depth: depth to measure at (HM uses the internal depth); both pictures are converted
            with HM's shift rules when given. Otherwise both must already have the same depth.

    Returns:
        A :class:`FramePsnr`.

    Raises:
        InputError: sizes, chroma formats or bit depths do not match.
    """
    if bit_depth is not None:
        ref, dec = convert_bit_depth(ref, bit_depth), convert_bit_depth(dec, bit_depth)
    if ref.fmt != dec.fmt:
        raise InputError(f"cannot compare pictures of different formats: {ref.fmt} vs {dec.fmt}")
    depth = ref.fmt.bit_depth
    mse = tuple(plane_mse(r, d) for r, d in zip(ref.planes, dec.planes))
    psnr = tuple(psnr_from_mse(m, depth) for m in mse)
    yuv = psnr_from_mse(_weighted_yuv_mse(mse, ref.fmt.chroma_format), depth)
    return FramePsnr(mse, psnr, yuv, depth, ref.fmt.chroma_format)


def sequence_psnr(frames: Sequence[FramePsnr]) -> dict:
    """Summarise per-picture PSNRs the way HM's SUMMARY line does.

    Args:
        frames: per-picture results, all at the same bit depth and chroma format.

    Returns:
        Dict with ``frames``, ``psnr_y``, ``psnr_u``, ``psnr_v`` (means of picture PSNRs),
        ``mse_y``, ``mse_u``, ``mse_v`` (means of picture MSEs), ``mse_yuv`` and ``psnr_yuv``
        (from the mean MSEs). Chroma entries are ``None`` for 4:0:0.
    """
    if not frames:
        raise ValueError("sequence_psnr needs at least one picture")
    first = frames[0]
    if any((f.bit_depth, f.chroma_format) != (first.bit_depth, first.chroma_format) for f in frames):
        raise ValueError("all pictures of a sequence must share bit depth and chroma format")
    n_planes = len(first.mse)
    mean_mse = [sum(f.mse[c] for f in frames) / len(frames) for c in range(n_planes)]
    mean_psnr = [sum(f.psnr[c] for f in frames) / len(frames) for c in range(n_planes)]
    mse_yuv = _weighted_yuv_mse(mean_mse, first.chroma_format)
    out: dict = {"frames": len(frames)}
    for c, name in enumerate("yuv"):
        out[f"psnr_{name}"] = mean_psnr[c] if c < n_planes else None
        out[f"mse_{name}"] = mean_mse[c] if c < n_planes else None
    out["mse_yuv"] = mse_yuv
    out["psnr_yuv"] = psnr_from_mse(mse_yuv, first.bit_depth)
    return out


def rgb_psnr(ref: Frame, dec: Frame, matrix: str = "bt709", full_range: bool = False) -> float:
    """PSNR in the RGB domain, for comparisons with RGB-trained learned codecs.

    Both pictures go through :func:`~gvcodec.io.colour.frame_to_rgb` (the shared chroma
    up-sampling, clamped to [0, 1]); the MSE is taken over all R, G and B samples together
    and the peak is 1.0.

    Args:
        ref, dec: original and decoded pictures of the same format.
        matrix: colour matrix name.
        full_range: whether the samples are full range.

    Returns:
        PSNR in dB; 999.99 if the RGB pictures are identical.
    """
    if ref.fmt != dec.fmt:
        raise InputError(f"cannot compare pictures of different formats: {ref.fmt} vs {dec.fmt}")
    from gvcodec.io.colour import frame_to_rgb  # torch: imported when an RGB metric is asked for

    diff = frame_to_rgb(ref, matrix, full_range).astype(np.float64) - frame_to_rgb(dec, matrix, full_range)
    mse = float(np.mean(diff * diff))
    return PSNR_LOSSLESS if mse == 0.0 else -10.0 * math.log10(mse)
