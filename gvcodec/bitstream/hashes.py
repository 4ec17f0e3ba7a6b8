"""Decoded-picture hashes, as HM's SEI computes them: an MD5 per plane over the samples
(1 byte each at 8 bit, 2 bytes little-endian above)."""

from __future__ import annotations

import hashlib

import numpy as np

from gvcodec.io.frames import Frame


def picture_md5(frame: Frame) -> tuple[bytes, ...]:
    """MD5 digest of each plane of `frame` at its bit depth."""
    dtype = np.uint8 if frame.fmt.bit_depth <= 8 else np.dtype("<u2")
    return tuple(hashlib.md5(np.ascontiguousarray(p).astype(dtype).tobytes()).digest() for p in frame.planes)
