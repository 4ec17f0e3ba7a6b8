"""YUV4MPEG2 (.y4m) files: a text header, then `FRAME` + raw planes per frame.

Chroma tags read and written: mono, 420 (420jpeg, 420mpeg2, 420paldv), 422, 444, each with an
optional `pN` bit-depth suffix (`C420p10`); samples above 8 bit are 16-bit little-endian.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterator

from gvcodec.errors import InputError
from gvcodec.io.atomic import AtomicFile
from gvcodec.io.frames import Frame, VideoFormat, convert_bit_depth
from gvcodec.io.yuv import check_format, planes_from_bytes, planes_to_bytes

MAGIC = b"YUV4MPEG2"
MAX_HEADER = 4096


def parse_colour_tag(tag: str) -> tuple[int, int]:
    """`420p10` -> (420, 10); `mono` -> (400, 8)."""
    t = tag.lower()
    depth = 8
    if "p" in t and t.split("p")[-1].isdigit() and not t.startswith("420paldv"):
        t, d = t.rsplit("p", 1)
        depth = int(d)
    if t.startswith("mono"):
        return 400, depth
    for fmt in ("420", "422", "444"):
        if t.startswith(fmt):
            return int(fmt), depth
    raise InputError(f"unsupported Y4M colour space `C{tag}'")


def colour_tag(fmt: VideoFormat) -> str:
    base = {400: "mono", 420: "420jpeg", 422: "422", 444: "444"}[fmt.chroma_format]
    if fmt.bit_depth > 8:
        base = {400: "mono", 420: "420", 422: "422", 444: "444"}[fmt.chroma_format] + f"p{fmt.bit_depth}"
    return base


class Y4mReader:
    """Streams frames from a .y4m file."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.file = open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open input `{path}': {exc.strerror}") from None
        header = self.file.readline(MAX_HEADER)
        if not header.startswith(MAGIC) or not header.endswith(b"\n"):
            raise InputError(f"input `{path}' is not a YUV4MPEG2 file")
        width = height = 0
        chroma, depth = 420, 8
        self.frame_rate: Fraction | None = None
        self.full_range: bool | None = None
        for tok in header[len(MAGIC):].decode("ascii", "replace").split():
            key, val = tok[0], tok[1:]
            try:
                if key == "W":
                    width = int(val)
                elif key == "H":
                    height = int(val)
                elif key == "F":
                    n, d = val.split(":")
                    self.frame_rate = Fraction(int(n), int(d)) if int(d) and int(n) else None
                elif key == "C":
                    chroma, depth = parse_colour_tag(val)
                elif key == "X" and val.upper().startswith("COLORRANGE="):
                    self.full_range = val.upper().endswith("FULL")
            except (ValueError, ZeroDivisionError):
                raise InputError(f"input `{path}': bad Y4M header field `{tok}'") from None
        if not (0 < width <= 16384 and 0 < height <= 16384):
            raise InputError(f"input `{path}': Y4M size {width}x{height} is missing or beyond 16384")
        self.fmt = VideoFormat(width, height, chroma, depth)
        check_format(self.fmt, path)
        self.data_start = self.file.tell()
        self.frame_bytes = self.fmt.frame_bytes()
        size = self.file.seek(0, 2)
        per_frame = len(b"FRAME\n") + self.frame_bytes
        self.num_frames = (size - self.data_start) // per_frame  # exact when frames carry no parameters
        self.file.seek(self.data_start)
        if self.num_frames and self.file.readline(MAX_HEADER) != b"FRAME\n":
            self.num_frames = None  # frame parameters: the count is unknown until read (the header says 0)

    def frames(self, start: int = 0) -> Iterator[Frame]:
        f = self.file
        f.seek(self.data_start)
        index = 0
        while True:
            line = f.readline(MAX_HEADER)
            if not line:
                return
            if not line.startswith(b"FRAME"):
                raise InputError(f"input `{self.path}': frame {index} does not start with FRAME")
            if index < start:
                f.seek(self.frame_bytes, 1)
                index += 1
                continue
            buf = f.read(self.frame_bytes)
            if len(buf) < self.frame_bytes:
                raise InputError(f"input `{self.path}' ended inside frame {index} "
                                 f"({len(buf)} of {self.frame_bytes} bytes)")
            yield Frame(planes_from_bytes(buf, self.fmt, self.fmt.bit_depth), self.fmt, index - start)
            index += 1


class Y4mWriter:
    """Writes a .y4m file atomically."""

    def __init__(self, path: str, fmt: VideoFormat, frame_rate: Fraction, file_bit_depth: int,
                 full_range: bool = False):
        self.out = AtomicFile(path, "output")
        self.fmt = fmt.with_bit_depth(file_bit_depth)
        rate = Fraction(frame_rate) if frame_rate else Fraction(25)
        header = (f"YUV4MPEG2 W{fmt.width} H{fmt.height} F{rate.numerator}:{rate.denominator} Ip A1:1 "
                  f"C{colour_tag(self.fmt)} XCOLORRANGE={'FULL' if full_range else 'LIMITED'}\n")
        self.out.write(header.encode("ascii"))

    def write(self, frame: Frame) -> None:
        self.out.write(b"FRAME\n" + planes_to_bytes(convert_bit_depth(frame, self.fmt.bit_depth), self.fmt.bit_depth))

    def close(self) -> None:
        self.out.commit()

    def discard(self) -> None:
        self.out.discard()
