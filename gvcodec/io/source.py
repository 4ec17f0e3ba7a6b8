"""Opening inputs and outputs by file type, and the frame selection HM applies to inputs
(FrameSkip, TemporalSubsampleRatio, FramesToBeEncoded)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, VideoFormat

DEFAULT_FRAME_RATE = Fraction(25)  # what FFmpeg assumes for raw H.264 elementary streams


@dataclass
class Source:
    """A selected run of input frames.

    Attributes:
        path: the input file.
        fmt: sample format of the frames yielded.
        frame_rate: frames per second after temporal subsampling.
        full_range: sample range hint from the file (None when the file says nothing).
        num_frames: frames that `frames()` yields, or None when the file cannot tell in advance.
    """

    path: str
    reader: object
    fmt: VideoFormat
    frame_rate: Fraction
    full_range: bool | None
    num_frames: int | None
    skip: int
    ratio: int
    limit: int

    def frames(self) -> Iterator[Frame]:
        """Yield the selected frames with POC renumbered from 0."""
        it = itertools.islice(self.reader.frames(self.skip), 0, None, self.ratio)
        if self.limit:
            it = itertools.islice(it, self.limit)
        for poc, frame in enumerate(it):
            frame.poc = poc
            yield frame


def open_source(path: str, *, width: int = 0, height: int = 0, chroma_format: int = 420,
                bit_depth: int = 8, frame_rate: Fraction | None = None, skip: int = 0,
                count: int = 0, ratio: int = 1) -> Source:
    """Open `path` as raw YUV, Y4M or (otherwise) through PyAV, and select frames.

    Args:
        path: input file.
        width, height, chroma_format, bit_depth: raw YUV geometry (Y4M and PyAV files carry theirs).
        frame_rate: overrides the file's rate when non-zero.
        skip: frames skipped at the start (FrameSkip).
        count: frames to take (0 = all).
        ratio: take every `ratio`-th frame (TemporalSubsampleRatio).
    """
    from gvcodec.io.container import PyAvReader
    from gvcodec.io.y4m import Y4mReader
    from gvcodec.io.yuv import YuvReader, is_raw_yuv

    if not path:
        raise InputError("no input file: give -i/--InputFile")
    if not os.path.exists(path):
        raise InputError(f"input `{path}' does not exist")
    if not os.access(path, os.R_OK) or os.path.isdir(path):
        raise InputError(f"input `{path}' is not a readable file")
    suffix = Path(path).suffix.lower()
    if suffix == ".y4m":
        reader = Y4mReader(path)
        _check_size(path, reader.fmt, width, height)
    elif is_raw_yuv(path):
        reader = YuvReader(path, VideoFormat(width, height, chroma_format, bit_depth))
    else:
        reader = PyAvReader(path)
        _check_size(path, reader.fmt, width, height)
    total = reader.num_frames
    if total is not None and skip >= total:
        raise InputError(f"FrameSkip {skip} skips all {total} frames of `{path}'")
    selected = None
    if total is not None:
        selected = -(-(total - skip) // ratio)
        if count:
            selected = min(selected, count)
    rate = frame_rate if frame_rate else (reader.frame_rate or DEFAULT_FRAME_RATE)
    if ratio > 1:
        rate = rate / ratio
    return Source(path, reader, reader.fmt, Fraction(rate), reader.full_range, selected, skip, ratio, count)


def _check_size(path: str, fmt: VideoFormat, width: int, height: int) -> None:
    if (width and width != fmt.width) or (height and height != fmt.height):
        raise InputError(f"input `{path}' is {fmt.width}x{fmt.height}, not the {width}x{height} given")


def open_sink(path: str, fmt: VideoFormat, frame_rate: Fraction, bit_depth: int, full_range: bool = False):
    """A writer for `path`: Y4M by extension, raw YUV otherwise; written atomically."""
    from gvcodec.io.y4m import Y4mWriter
    from gvcodec.io.yuv import YuvWriter

    if Path(path).suffix.lower() == ".y4m":
        return Y4mWriter(path, fmt, frame_rate, bit_depth, full_range)
    return YuvWriter(path, bit_depth)
