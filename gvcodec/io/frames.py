"""The picture types every module shares: a sample format and a frame of planes.

Samples are always held as ``numpy.uint16`` planes (Y, then U and V unless 4:0:0),
whatever the bit depth, so metrics, hashes and engines never branch on the depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CHROMA_FORMATS = (400, 420, 422, 444)


@dataclass(frozen=True)
class VideoFormat:
    """Geometry and sample format of a sequence.

    Attributes:
        width, height: luma size in samples.
        chroma_format: 400, 420, 422 or 444.
        bit_depth: bits per sample (8..16).
    """

    width: int
    height: int
    chroma_format: int = 420
    bit_depth: int = 8

    @property
    def num_planes(self) -> int:
        return 1 if self.chroma_format == 400 else 3

    @property
    def chroma_shift(self) -> tuple[int, int]:
        """(vertical, horizontal) log2 subsampling of the chroma planes."""
        return {400: (0, 0), 420: (1, 1), 422: (0, 1), 444: (0, 0)}[self.chroma_format]

    def plane_shapes(self) -> list[tuple[int, int]]:
        """(height, width) of each plane."""
        sy, sx = self.chroma_shift
        shapes = [(self.height, self.width)]
        if self.chroma_format != 400:
            shapes += [(self.height >> sy, self.width >> sx)] * 2
        return shapes

    def samples_per_frame(self) -> int:
        return sum(h * w for h, w in self.plane_shapes())

    def frame_bytes(self, file_bit_depth: int | None = None) -> int:
        """Bytes of one frame in a raw file: 1 byte per sample at 8 bit, else 2 (little-endian)."""
        depth = self.bit_depth if file_bit_depth is None else file_bit_depth
        return self.samples_per_frame() * (1 if depth <= 8 else 2)

    def with_size(self, width: int, height: int) -> "VideoFormat":
        return VideoFormat(width, height, self.chroma_format, self.bit_depth)

    def with_bit_depth(self, bit_depth: int) -> "VideoFormat":
        return VideoFormat(self.width, self.height, self.chroma_format, bit_depth)


@dataclass
class Frame:
    """One picture: its planes (uint16, Y[, U, V]), format and picture order count."""

    planes: tuple[np.ndarray, ...]
    fmt: VideoFormat
    poc: int = 0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = [p.shape for p in self.planes]
        if shapes != self.fmt.plane_shapes():
            raise ValueError(f"plane shapes {shapes} do not match {self.fmt}")

    @classmethod
    def blank(cls, fmt: VideoFormat, poc: int = 0) -> "Frame":
        """A mid-grey frame (useful for padding GOPs and tests)."""
        mid = 1 << (fmt.bit_depth - 1)
        planes = tuple(np.full(s, mid, np.uint16) for s in fmt.plane_shapes())
        return cls(planes, fmt, poc)


def convert_bit_depth(frame: Frame, bit_depth: int) -> Frame:
    """Change the sample bit depth as HM does: left shift up, rounded right shift down, clipped."""
    src = frame.fmt.bit_depth
    if src == bit_depth:
        return frame
    if bit_depth > src:
        planes = tuple((p.astype(np.uint32) << (bit_depth - src)).astype(np.uint16) for p in frame.planes)
    else:
        shift = src - bit_depth
        top = (1 << bit_depth) - 1
        planes = tuple(
            np.minimum((p.astype(np.uint32) + (1 << (shift - 1))) >> shift, top).astype(np.uint16)
            for p in frame.planes
        )
    return Frame(planes, frame.fmt.with_bit_depth(bit_depth), frame.poc, dict(frame.meta))


def convert_chroma_format(frame: Frame, chroma_format: int) -> Frame:
    """Change the chroma format as HM does between file and internal formats (ChromaFormatIDC):
    up by sample repetition, down by keeping the top-left sample of each 2x2 / 2x1 group;
    to 4:0:0 the chroma planes are dropped, from 4:0:0 they are mid-grey."""
    src = frame.fmt
    if src.chroma_format == chroma_format:
        return frame
    fmt = VideoFormat(src.width, src.height, chroma_format, src.bit_depth)
    if chroma_format == 400:
        return Frame(frame.planes[:1], fmt, frame.poc, dict(frame.meta))
    shapes = fmt.plane_shapes()
    if src.chroma_format == 400:
        grey = np.full(shapes[1], 1 << (src.bit_depth - 1), np.uint16)
        return Frame((frame.planes[0], grey, grey.copy()), fmt, frame.poc, dict(frame.meta))
    (sy, sx), (ty, tx) = src.chroma_shift, fmt.chroma_shift
    planes = [frame.planes[0]]
    for c, (h, w) in zip(frame.planes[1:], shapes[1:]):
        if ty <= sy and tx <= sx:  # finer or equal grid: repeat
            c = np.repeat(np.repeat(c, 1 << (sy - ty), axis=0), 1 << (sx - tx), axis=1)
        c = c[:: 1 << max(ty - sy, 0), :: 1 << max(tx - sx, 0)] if (ty > sy or tx > sx) else c
        planes.append(np.ascontiguousarray(c[:h, :w]))
    return Frame(tuple(planes), fmt, frame.poc, dict(frame.meta))
