"""Random access to cropped runs of frames, as R'G'B' in [-1, 1] or as native 4:2:0 planes.

* Raw YUV (listed with its size) is read by seeking: only the rows of the crop of the frames
  asked for are read, so a 1080p clip is never read whole.
* Anything PyAV opens is decoded from the start up to the last frame asked for (compressed
  streams rarely have keyframes close enough for seeking to help), or, with a cache folder,
  transcoded once into raw YUV there and then read like raw YUV.

Colour: BT.709 (gvcodec.io.colour), limited range unless the file says full range. The crop is
converted with a margin of two luma samples where the picture has them, so its chroma is
up-sampled exactly as in a whole-picture conversion. `read(win, yuv420=True)` skips the colour
conversion and returns the code values of a 4:2:0 source as the GIViC engine sees them (see
`planes_to_yuv420`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gvcodec.errors import InputError
from gvcodec.io.colour import ycbcr_to_rgb
from gvcodec.io.frames import VideoFormat
from gvcodec.train.manifest import MediaEntry

MARGIN = 2  # luma samples of context around a crop (one chroma sample at 4:2:0)


@dataclass(frozen=True)
class Window:
    """Which samples a clip takes: frames start, start + stride, ... (count of them), crop x, y, w, h."""

    start: int
    count: int
    stride: int
    x: int
    y: int
    w: int
    h: int

    @property
    def last(self) -> int:
        return self.start + (self.count - 1) * self.stride


def _padded(win: Window, fmt: VideoFormat) -> tuple[int, int, int, int]:
    """The crop grown by MARGIN on each side, kept inside the picture and chroma aligned."""
    x0, y0 = max(0, win.x - MARGIN), max(0, win.y - MARGIN)
    x1, y1 = min(fmt.width, win.x + win.w + MARGIN), min(fmt.height, win.y + win.h + MARGIN)
    sy, sx = fmt.chroma_shift
    x0, y0 = x0 >> sx << sx, y0 >> sy << sy
    x1, y1 = -(-x1 >> sx) << sx, -(-y1 >> sy) << sy
    return x0, y0, min(x1, fmt.width), min(y1, fmt.height)


def planes_to_video(frames: list[tuple[np.ndarray, ...]], fmt: VideoFormat, full_range: bool,
                    inner: tuple[int, int, int, int]) -> torch.Tensor:
    """Frames of planes (already cut to the padded crop) -> float32 [3, T, h, w] in [-1, 1].

    Args:
        frames: per frame (Y, U, V) or (Y,) uint16 arrays.
        fmt: the source format (bit depth, chroma format).
        full_range: sample range.
        inner: (x, y, w, h) of the crop inside the padded arrays.
    """
    planes = [torch.from_numpy(np.stack([f[i] for f in frames]).astype(np.float32))[:, None]
              for i in range(len(frames[0]))]
    u, v = (planes[1], planes[2]) if len(planes) == 3 else (None, None)
    rgb = ycbcr_to_rgb(planes[0], u, v, fmt.bit_depth, "bt709", full_range)
    x, y, w, h = inner
    rgb = rgb[..., y:y + h, x:x + w].clamp_(0.0, 1.0)
    return (rgb * 2.0 - 1.0).permute(1, 0, 2, 3).contiguous()


def planes_to_yuv420(frames: list[tuple[np.ndarray, ...]], fmt: VideoFormat, inner: tuple[int, int, int, int],
                     flip: bool = False) -> torch.Tensor:
    """Frames of 4:2:0 planes (cut to the padded crop) -> float32 [2, T, h, w] in [-1, 1].

    The code values are mapped as the GIViC engine maps its input (v / (2^bits - 1) * 2 - 1, no
    range conversion), optionally flipped, and packed losslessly as GIViC's full-size target:
    luma and the checkerboard multiplex of U and V (gvcodec.models.givic.yuv420.pack420).
    """
    from gvcodec.models.givic.yuv420 import pack420

    if fmt.chroma_format != 420:
        raise InputError(f"native 4:2:0 clips need a 4:2:0 source, not {fmt.chroma_format}")
    x, y, w, h = inner  # even (chroma-aligned origin, even crop offsets)
    top = float((1 << fmt.bit_depth) - 1)
    cuts = ((y, y + h, x, x + w), (y // 2, (y + h) // 2, x // 2, (x + w) // 2))
    planes = []
    for i in range(3):
        r0, r1, c0, c1 = cuts[min(i, 1)]
        p = torch.from_numpy(np.stack([f[i][r0:r1, c0:c1] for f in frames]).astype(np.float32)) / top * 2.0 - 1.0
        planes.append(p.flip(-1) if flip else p)
    return pack420(*planes).permute(1, 0, 2, 3).contiguous()


class RawVideo:
    """A raw planar YUV file read by seeking.

    Args:
        path: the file.
        fmt: its sample format.
        full_range: sample range.
        frames: frames to use (at most those in the file).
    """

    def __init__(self, path: str, fmt: VideoFormat, full_range: bool = False, frames: int = 0) -> None:
        self.path, self.fmt, self.full_range = path, fmt, full_range
        self.bytes_per_sample = 1 if fmt.bit_depth <= 8 else 2
        self.frame_bytes = fmt.frame_bytes()
        size = os.path.getsize(path)
        if size % self.frame_bytes:
            raise InputError(f"raw video `{path}' is not a whole number of {fmt.width}x{fmt.height} "
                             f"{fmt.chroma_format} frames ({size} bytes)")
        in_file = size // self.frame_bytes
        self.num_frames = min(frames, in_file) if frames else in_file

    def read(self, win: Window, yuv420: bool = False, flip: bool = False) -> torch.Tensor:
        """The window as float32 [3, count, h, w] R'G'B' in [-1, 1] (flip: the caller's), or with `yuv420`
        as [2, count, h, w] packed 4:2:0 code values (`planes_to_yuv420`, flipped here when asked)."""
        x0, y0, x1, y1 = _padded(win, self.fmt)
        sy, sx = self.fmt.chroma_shift
        dtype = np.uint8 if self.bytes_per_sample == 1 else np.dtype("<u2")
        frames = []
        with open(self.path, "rb") as f:
            for t in range(win.start, win.last + 1, win.stride):
                base, planes = t * self.frame_bytes, []
                for p, (ph, pw) in enumerate(self.fmt.plane_shapes()):
                    ky, kx = (sy, sx) if p else (0, 0)
                    r0, r1, c0, c1 = y0 >> ky, y1 >> ky, x0 >> kx, x1 >> kx
                    f.seek(base + r0 * pw * self.bytes_per_sample)
                    buf = f.read((r1 - r0) * pw * self.bytes_per_sample)
                    if len(buf) < (r1 - r0) * pw * self.bytes_per_sample:
                        raise InputError(f"raw video `{self.path}' ended inside frame {t}")
                    planes.append(np.frombuffer(buf, dtype=dtype).reshape(r1 - r0, pw)[:, c0:c1])
                    base += ph * pw * self.bytes_per_sample
                frames.append(tuple(planes))
        inner = (win.x - x0, win.y - y0, win.w, win.h)
        if yuv420:
            return planes_to_yuv420(frames, self.fmt, inner, flip)
        return planes_to_video(frames, self.fmt, self.full_range, inner)


class AvVideo:
    """A file PyAV opens, decoded from the start for every read.

    Args:
        path: the file.
        frames: frames to use (0 = the count the file or the manifest gives; counted when neither does).
    """

    def __init__(self, path: str, frames: int = 0, max_frames: int = 0) -> None:
        from gvcodec.io.container import PyAvReader

        reader = PyAvReader(path)
        self.path, self.fmt, self.full_range = path, reader.fmt, bool(reader.full_range)
        count = frames or reader.num_frames or 0
        reader.container.close()
        if not count:
            count = count_frames(path)
        self.num_frames = min(count, max_frames) if max_frames else count

    def read(self, win: Window, yuv420: bool = False, flip: bool = False) -> torch.Tensor:
        """As `RawVideo.read`."""
        from gvcodec.io.container import PyAvReader

        x0, y0, x1, y1 = _padded(win, self.fmt)
        sy, sx = self.fmt.chroma_shift
        wanted = range(win.start, win.last + 1, win.stride)
        frames: list[tuple[np.ndarray, ...]] = []
        recent: list[tuple[np.ndarray, ...]] = []  # the last frames seen, if the file ends early
        reader = PyAvReader(self.path)
        for index, frame in enumerate(reader.frames()):
            cut = tuple(p[(y0 >> (sy if i else 0)):(y1 >> (sy if i else 0)), (x0 >> (sx if i else 0)):(x1 >> (sx if i else 0))].copy()
                        for i, p in enumerate(frame.planes))
            recent = (recent + [cut])[-(win.last - win.start + 1):]
            if index in wanted:
                frames.append(cut)
            if index >= win.last:
                break
        reader.container.close()
        if len(frames) < win.count:  # fewer frames than announced: take the run ending at the last one
            if len(recent) < win.last - win.start + 1:
                raise InputError(f"video `{self.path}' has fewer frames than the {win.last + 1} needed")
            frames = recent[::win.stride][:win.count]
        inner = (win.x - x0, win.y - y0, win.w, win.h)
        if yuv420:
            return planes_to_yuv420(frames, self.fmt, inner, flip)
        return planes_to_video(frames, self.fmt, self.full_range, inner)


def count_frames(path: str) -> int:
    """Frames of a file PyAV opens, counted by demuxing (no decoding)."""
    import av

    with av.open(path) as c:
        stream = c.streams.video[0]
        return sum(1 for p in c.demux(stream) if p.size)


def _cache_name(entry: MediaEntry, max_frames: int) -> str:
    st = os.stat(entry.path)
    key = f"{os.path.abspath(entry.path)}|{st.st_size}|{st.st_mtime_ns}|{max_frames}"
    return f"{Path(entry.path).stem}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def cache_raw(entry: MediaEntry, cache_dir: str, max_frames: int = 0) -> RawVideo:
    """Transcode a PyAV file into raw YUV in `cache_dir` once (atomically), then open that.

    The cache file is named after the source's path, size, modification time and `max_frames`,
    with a JSON sidecar holding the format; an interrupted transcode leaves only a temporary file.
    """
    from gvcodec.io.container import PyAvReader

    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = _cache_name(entry, max_frames)
    raw, meta = folder / f"{name}.yuv", folder / f"{name}.json"
    if not (raw.is_file() and meta.is_file()):
        reader = PyAvReader(entry.path)
        fmt, full = reader.fmt, bool(reader.full_range)
        tmp = raw.with_suffix(f".yuv.{os.getpid()}.part")
        count = 0
        dtype = np.uint8 if fmt.bit_depth <= 8 else np.dtype("<u2")
        with open(tmp, "wb") as f:
            for frame in reader.frames():
                f.write(b"".join(p.astype(dtype).tobytes() for p in frame.planes))
                count += 1
                if max_frames and count >= max_frames:
                    break
        reader.container.close()
        if not count:
            tmp.unlink(missing_ok=True)
            raise InputError(f"video `{entry.path}' holds no frame")
        info = {"source": entry.path, "width": fmt.width, "height": fmt.height, "chroma_format": fmt.chroma_format,
                "bit_depth": fmt.bit_depth, "full_range": full, "frames": count}
        meta_tmp = meta.with_suffix(f".json.{os.getpid()}.part")
        meta_tmp.write_text(json.dumps(info))
        os.replace(tmp, raw)
        os.replace(meta_tmp, meta)
    info = json.loads(meta.read_text())
    fmt = VideoFormat(info["width"], info["height"], info["chroma_format"], info["bit_depth"])
    return RawVideo(str(raw), fmt, info["full_range"], info["frames"])


def open_video(entry: MediaEntry, cache_dir: str = "", max_frames: int = 0):
    """A RawVideo or AvVideo for a listed file."""
    if entry.is_raw:
        full = entry.pix_fmt.startswith("yuvj")
        return RawVideo(entry.path, entry.raw_format(), full, min(entry.frames, max_frames) if max_frames and entry.frames
                        else (max_frames or entry.frames))
    if cache_dir:
        return cache_raw(entry, cache_dir, max_frames)
    return AvVideo(entry.path, entry.frames, max_frames)
