"""Input through PyAV: any file FFmpeg opens (mp4, mkv, webm, raw .264/.265, ...).

Frames are decoded one at a time. Planar YUV/grey pixel formats are taken as they are (the
`yuvj*` formats are marked full range); anything else is converted to 4:2:0 by FFmpeg.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterator

import numpy as np

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, VideoFormat

# pixel format -> (chroma format, bit depth, full range)
NATIVE_FORMATS = {
    "yuv420p": (420, 8, False), "yuvj420p": (420, 8, True), "yuv422p": (422, 8, False),
    "yuvj422p": (422, 8, True), "yuv444p": (444, 8, False), "yuvj444p": (444, 8, True),
    "gray": (400, 8, False), "yuv420p10le": (420, 10, False), "yuv422p10le": (422, 10, False),
    "yuv444p10le": (444, 10, False), "gray10le": (400, 10, False),
}


class PyAvReader:
    """Streams decoded frames from a media file."""

    def __init__(self, path: str):
        import av

        self.path = path
        try:
            self.container = av.open(path)
        except (av.error.FFmpegError, OSError) as exc:
            raise InputError(f"cannot open input `{path}': {exc}") from None
        if not self.container.streams.video:
            raise InputError(f"input `{path}' has no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        cc = self.stream.codec_context
        pix = cc.pix_fmt or "yuv420p"
        self.pix_fmt = pix if pix in NATIVE_FORMATS else "yuv420p"
        chroma, depth, full = NATIVE_FORMATS[self.pix_fmt]
        if cc.width <= 0 or cc.height <= 0:
            raise InputError(f"input `{path}': video size unknown")
        self.fmt = VideoFormat(cc.width, cc.height, chroma, depth)
        self.full_range = full or (getattr(cc, "color_range", 0) == 2)
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.frame_rate = Fraction(rate) if rate else None
        self.num_frames = self.stream.frames or None

    def frames(self, start: int = 0) -> Iterator[Frame]:
        import av

        index = 0
        try:
            for vf in self.container.decode(self.stream):
                if index >= start:
                    yield Frame(self._planes(vf), self.fmt, index - start)
                index += 1
        except av.error.FFmpegError as exc:
            raise InputError(f"input `{self.path}': decoding failed at frame {index}: {exc}") from None
        finally:
            self.container.close()

    def _planes(self, vf) -> tuple[np.ndarray, ...]:
        if vf.format.name != self.pix_fmt or vf.width != self.fmt.width or vf.height != self.fmt.height:
            vf = vf.reformat(width=self.fmt.width, height=self.fmt.height, format=self.pix_fmt)
        return av_to_planes(vf, self.fmt)

def pixel_format(fmt: VideoFormat) -> str:
    """FFmpeg planar pixel format name for a VideoFormat."""
    base = {400: "gray", 420: "yuv420p", 422: "yuv422p", 444: "yuv444p"}[fmt.chroma_format]
    if fmt.bit_depth == 8:
        return base
    return f"{base}{fmt.bit_depth}le"


def frame_to_av(frame: Frame, pix_fmt: str):
    """Copy a Frame into a new av.VideoFrame of a planar format with the same layout."""
    import av

    fmt = frame.fmt
    vf = av.VideoFrame(fmt.width, fmt.height, pix_fmt)
    dtype = np.dtype(np.uint8) if fmt.bit_depth <= 8 else np.dtype("<u2")
    for plane, arr in zip(vf.planes, frame.planes):
        stride = plane.line_size // dtype.itemsize
        buf = np.zeros((arr.shape[0], stride), dtype)
        buf[:, :arr.shape[1]] = arr
        plane.update(buf.tobytes())
    vf.pts = frame.poc
    return vf


def av_to_planes(vf, fmt: VideoFormat) -> tuple[np.ndarray, ...]:
    """Copy the planes of a decoded av.VideoFrame (already in `fmt`'s layout) to uint16 arrays."""
    dtype = np.dtype(np.uint8) if fmt.bit_depth <= 8 else np.dtype("<u2")
    out = []
    for plane, (h, w) in zip(vf.planes, fmt.plane_shapes()):
        stride = plane.line_size // dtype.itemsize
        out.append(np.frombuffer(memoryview(plane), dtype=dtype).reshape(-1, stride)[:h, :w].astype(np.uint16))
    return tuple(out)
