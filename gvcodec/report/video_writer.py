"""Viewing copies: RGB frames written as yuv420p video through PyAV, atomically.

These files are for people (side-by-side videos, study clips), not for measurement: they are
coded at a high quality (x264 CRF 14 by default) so the artefacts on show are the codecs' own.
The container follows the file name (.mp4/.m4v/.mov, .mkv, .webm); the video codec is the
first of the container's candidates that this PyAV build has: H.264 (libx264) for MP4/MOV/MKV,
with MPEG-4 Part 2 as the fallback, and VP9 (libvpx-vp9) for WebM. Odd picture sizes are padded
to even ones (by repeating the last row/column) because 4:2:0 needs them.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from gvcodec.errors import OptionError, OutputError
from gvcodec.io.atomic import AtomicFile

# suffix -> (FFmpeg muxer, codec candidates in order of preference)
CONTAINERS = {
    ".mp4": ("mp4", ("libx264", "mpeg4")),
    ".m4v": ("mp4", ("libx264", "mpeg4")),
    ".mov": ("mov", ("libx264", "mpeg4")),
    ".mkv": ("matroska", ("libx264", "mpeg4")),
    ".webm": ("webm", ("libvpx-vp9",)),
}
BROWSER_CODECS = {"libx264": ".mp4", "libvpx-vp9": ".webm"}  # what every current browser plays


def has_encoder(name: str) -> bool:
    """Whether this PyAV build can encode with `name`."""
    import av

    try:
        av.codec.Codec(name, "w")
    except Exception:  # noqa: BLE001 - PyAV raises different errors across versions for unknown codecs
        return False
    return True


def browser_suffix() -> str:
    """File suffix of study clips: .mp4 (H.264) where libx264 is available, else .webm (VP9)."""
    for codec, suffix in BROWSER_CODECS.items():
        if has_encoder(codec):
            return suffix
    raise OutputError("this PyAV build has neither libx264 nor libvpx-vp9: cannot write browser-playable clips")


class RgbVideoWriter:
    """Encode ``uint8 [H, W, 3]`` RGB frames into `path`; the file appears only on :meth:`close`.

    Args:
        path: output file; its suffix picks the container (see ``CONTAINERS``).
        width, height: picture size of the frames given to :meth:`write`.
        frame_rate: frames per second.
        crf: quality for x264 (VP9 uses crf + 16, MPEG-4 a proportional quantiser); lower is better.
    """

    def __init__(self, path: str | Path, width: int, height: int, frame_rate: Fraction, crf: int = 14):
        import av

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in CONTAINERS:
            raise OptionError(f"cannot write video `{path}': use one of {', '.join(CONTAINERS)}")
        muxer, candidates = CONTAINERS[suffix]
        codec = next((c for c in candidates if has_encoder(c)), None)
        if codec is None:
            raise OutputError(f"cannot write `{path}': this PyAV build has none of {', '.join(candidates)}")
        self.codec, self.size = codec, (width, height)
        self.padded = (width + width % 2, height + height % 2)
        self._file = AtomicFile(self.path, "video")
        try:
            self._container = av.open(str(self._file.tmp), "w", format=muxer,
                                      options={"movflags": "+faststart"} if muxer in ("mp4", "mov") else {})
            stream = self._container.add_stream(codec, rate=Fraction(frame_rate).limit_denominator(1001))
            stream.width, stream.height = self.padded
            stream.pix_fmt = "yuv420p"
            cc = stream.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1  # BT.709, limited range
            if codec == "libx264":
                stream.options = {"crf": str(crf), "preset": "veryfast"}
            elif codec == "libvpx-vp9":
                stream.options = {"crf": str(min(63, crf + 16)), "b": "0", "deadline": "realtime", "cpu-used": "8"}
            else:
                stream.bit_rate = int(self.padded[0] * self.padded[1] * float(frame_rate) * 0.6)
            self._stream = stream
        except Exception as exc:  # noqa: BLE001 - FFmpeg errors become one line
            self._file.discard()
            raise OutputError(f"cannot write video `{path}': {exc}") from None
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        """Encode one ``uint8 [H, W, 3]`` frame."""
        import av

        if rgb.shape != (self.size[1], self.size[0], 3):
            raise ValueError(f"frame shape {rgb.shape} is not {self.size[1]}x{self.size[0]}x3")
        if self.padded != self.size:
            rgb = np.pad(rgb, ((0, self.padded[1] - self.size[1]), (0, self.padded[0] - self.size[0]), (0, 0)),
                         mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709")  # matches the BT.709 tags
        frame.pts = self.frames
        self._mux(self._stream.encode(frame))
        self.frames += 1

    def _mux(self, packets) -> None:
        try:
            self._container.mux(packets)
        except Exception as exc:  # noqa: BLE001
            self.discard()
            raise OutputError(f"cannot write video `{self.path}': {exc}") from None

    def close(self) -> Path:
        """Flush the encoder, close the container and move the file into place."""
        self._mux(self._stream.encode(None))
        self._container.close()
        self._file.commit()
        return self.path

    def discard(self) -> None:
        """Drop the partial file."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - closing a broken container must not hide the first error
            pass
        self._file.discard()
