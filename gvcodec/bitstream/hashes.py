"""Decoded-picture hashes, as HM's decoded-picture-hash SEI computes them (SEIDecodedPictureHash):

* 1 MD5: MD5 per plane over the samples, 1 byte each at 8 bit, 2 bytes little-endian above (16 bytes).
* 2 CRC: CRC-16 (polynomial 0x1021, register 0xFFFF, each sample's low byte then high byte most
  significant bit first, 16 zero bits appended), i.e. CRC-16/AUG-CCITT over those bytes (2 bytes).
* 3 checksum: the 32-bit sum over the samples of (low byte XOR mask) (+ (high byte XOR mask) above
  8 bit) with mask = (x & 0xff) ^ (y & 0xff) ^ (x >> 8) ^ (y >> 8) (4 bytes, big-endian).
"""

from __future__ import annotations

import binascii
import hashlib

import numpy as np

from gvcodec.bitstream.syntax import HASH_CHECKSUM, HASH_CRC, HASH_MD5, HASH_NAMES, HASH_NONE
from gvcodec.io.frames import Frame

__all__ = ["HASH_NAMES", "picture_hash", "picture_md5"]


def _sample_bytes(plane: np.ndarray, bit_depth: int) -> bytes:
    dtype = np.uint8 if bit_depth <= 8 else np.dtype("<u2")
    return np.ascontiguousarray(plane).astype(dtype).tobytes()


def _checksum(plane: np.ndarray, bit_depth: int) -> bytes:
    h, w = plane.shape
    y = np.arange(h, dtype=np.uint32)[:, None]
    x = np.arange(w, dtype=np.uint32)[None, :]
    mask = (x & 0xFF) ^ (y & 0xFF) ^ (x >> 8) ^ (y >> 8)
    p = plane.astype(np.uint32)
    total = int(np.sum(((p & 0xFF) ^ mask).astype(np.uint64)))
    if bit_depth > 8:
        total += int(np.sum(((p >> 8) ^ mask).astype(np.uint64)))
    return (total & 0xFFFFFFFF).to_bytes(4, "big")


def picture_hash(frame: Frame, kind: int) -> tuple[bytes, ...]:
    """The hash of each plane of `frame` at its bit depth: kind 1 MD5, 2 CRC, 3 checksum, 0 none."""
    depth = frame.fmt.bit_depth
    if kind == HASH_NONE:
        return ()
    if kind == HASH_MD5:
        return tuple(hashlib.md5(_sample_bytes(p, depth)).digest() for p in frame.planes)
    if kind == HASH_CRC:
        return tuple(binascii.crc_hqx(_sample_bytes(p, depth), 0x1D0F).to_bytes(2, "big") for p in frame.planes)
    if kind == HASH_CHECKSUM:
        return tuple(_checksum(p, depth) for p in frame.planes)
    raise ValueError(f"picture hash kind {kind} unknown")


def picture_md5(frame: Frame) -> tuple[bytes, ...]:
    """MD5 digest of each plane of `frame` at its bit depth."""
    return picture_hash(frame, HASH_MD5)
