"""Raw planar YUV files: Y, then U and V per frame, frames back to back, no header.

Samples take 1 byte at 8 bit and 2 bytes little-endian at 9..16 bit, as HM reads and writes them.
Frames are read one at a time, so memory does not grow with sequence length.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from gvcodec.errors import InputError
from gvcodec.io.atomic import AtomicFile
from gvcodec.io.frames import Frame, VideoFormat, convert_bit_depth


def check_format(fmt: VideoFormat, name: str) -> None:
    """Reject sizes the chroma format cannot represent."""
    if fmt.width <= 0 or fmt.height <= 0:
        raise InputError(f"raw input `{name}' needs its size: give -wdt/--SourceWidth and -hgt/--SourceHeight")
    sy, sx = fmt.chroma_shift
    if (fmt.width % (1 << sx)) or (fmt.height % (1 << sy)):
        raise InputError(f"size {fmt.width}x{fmt.height} of `{name}' is odd: chroma format {fmt.chroma_format} "
                         f"needs a width divisible by {1 << sx} and a height divisible by {1 << sy}")


def planes_from_bytes(buf: bytes, fmt: VideoFormat, file_bit_depth: int) -> tuple[np.ndarray, ...]:
    """Split one frame's bytes into uint16 planes."""
    dtype = np.uint8 if file_bit_depth <= 8 else np.dtype("<u2")
    data = np.frombuffer(buf, dtype=dtype)
    planes, pos = [], 0
    for h, w in fmt.plane_shapes():
        planes.append(data[pos:pos + h * w].reshape(h, w).astype(np.uint16))
        pos += h * w
    return tuple(planes)


def planes_to_bytes(frame: Frame, file_bit_depth: int) -> bytes:
    """Serialise a frame's planes at `file_bit_depth` (converted as HM does)."""
    frame = convert_bit_depth(frame, file_bit_depth)
    dtype = np.uint8 if file_bit_depth <= 8 else np.dtype("<u2")
    return b"".join(np.ascontiguousarray(p).astype(dtype).tobytes() for p in frame.planes)


class YuvReader:
    """Streams frames from a raw YUV file.

    Args:
        path: the file.
        fmt: geometry, chroma format and bit depth of the samples.
        frame_rate: nominal rate (raw files carry none).
    """

    def __init__(self, path: str, fmt: VideoFormat, frame_rate: Fraction | None = None):
        self.path = path
        check_format(fmt, path)
        self.fmt = fmt
        self.frame_rate = frame_rate
        self.full_range: bool | None = None
        self.frame_bytes = fmt.frame_bytes()
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise InputError(f"cannot open input `{path}': {exc.strerror}") from None
        whole, rest = divmod(size, self.frame_bytes)
        if rest:
            raise InputError(
                f"input `{path}' is not a whole number of {fmt.width}x{fmt.height} {fmt.chroma_format} "
                f"{fmt.bit_depth}-bit frames: {size} bytes = {whole} frames of {self.frame_bytes} bytes "
                f"+ {rest} bytes left over")
        if whole == 0:
            raise InputError(f"input `{path}' holds no frame")
        self.num_frames = whole

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Yield frames from index `start` on, POC counted from `start`."""
        try:
            f = open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open input `{self.path}': {exc.strerror}") from None
        with f:
            f.seek(start * self.frame_bytes)
            for index in range(start, self.num_frames):
                buf = f.read(self.frame_bytes)
                if len(buf) < self.frame_bytes:
                    raise InputError(f"input `{self.path}' ended inside frame {index}")
                yield Frame(planes_from_bytes(buf, self.fmt, self.fmt.bit_depth), self.fmt, index - start)


class YuvWriter:
    """Writes frames to a raw YUV file atomically (temp file, renamed on close)."""

    def __init__(self, path: str, file_bit_depth: int):
        self.out = AtomicFile(path, "output")
        self.bit_depth = file_bit_depth

    def write(self, frame: Frame) -> None:
        self.out.write(planes_to_bytes(frame, self.bit_depth))

    def close(self) -> None:
        self.out.commit()

    def discard(self) -> None:
        self.out.discard()


def is_raw_yuv(path: str) -> bool:
    return Path(path).suffix.lower() in (".yuv", ".raw", ".rgb", "")
