"""Side-by-side viewing: the reference and the decoded videos in one grid, each panel captioned
with its name and, when known, its rate and metric values.

Pictures are converted to R'G'B' by the one conversion of gvcodec/io/colour.py (matrix chosen by
the caller, range from each file), optionally cropped to the same window, and tiled left to
right (up to three panels in a row, then further rows), with a 2-pixel black gap between panels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from gvcodec.errors import InputError, OptionError
from gvcodec.report.text_overlay import Caption, blend, render_caption

GAP = 2
SHOWN_METRICS = ("psnr_y", "psnr_rgb", "msssim", "vmaf", "lpips", "lpips_alex", "lpips_vgg", "dists", "e_warp",
                 "clip_f", "fvd")  # fmt: skip


@dataclass(frozen=True)
class Crop:
    """A window of the pictures: `width` x `height` samples from (`x`, `y`)."""

    width: int
    height: int
    x: int = 0
    y: int = 0

    @classmethod
    def parse(cls, text: str) -> "Crop":
        """`WxH+X+Y` (or `WxH`, from the top-left corner)."""
        m = re.fullmatch(r"\s*(\d+)x(\d+)(?:\+(\d+)\+(\d+))?\s*", text)
        if not m or int(m[1]) == 0 or int(m[2]) == 0:
            raise OptionError(f"crop `{text}' is not WxH+X+Y (for example 320x180+640+360)")
        return cls(int(m[1]), int(m[2]), int(m[3] or 0), int(m[4] or 0))

    def check(self, width: int, height: int) -> None:
        if self.x + self.width > width or self.y + self.height > height:
            raise OptionError(f"crop {self.width}x{self.height}+{self.x}+{self.y} does not fit in {width}x{height}")


def to_rgb8(frame, matrix: str, full_range: bool, crop: Crop | None = None) -> np.ndarray:
    """A frame as ``uint8 [H, W, 3]`` R'G'B' (cropped when `crop` is given)."""
    from gvcodec.io.colour import frame_to_rgb

    rgb = frame_to_rgb(frame, matrix, full_range)
    if crop is not None:
        rgb = rgb[:, crop.y:crop.y + crop.height, crop.x:crop.x + crop.width]
    return np.ascontiguousarray((rgb.transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8))


def caption_lines(name: str, row: dict | None = None, metrics: Sequence[str] = SHOWN_METRICS,
                  extra: str = "") -> list[str]:
    """Caption text of a panel: the name; then bpp and the metric values of its results row, two
    metrics a line; then `extra` (free text)."""
    from gvcodec.report.metric_names import format_value

    lines = [name]
    if row:
        bpp = row.get("bpp")
        if isinstance(bpp, (int, float)):
            lines.append(f"{bpp:.4f} bpp" + (f" @ QP {row['qp']}" if row.get("qp") not in (None, "") else ""))
        values = [format_value(m, row[m]) for m in metrics if isinstance(row.get(m), (int, float))]
        lines += ["   ".join(values[i:i + 2]) for i in range(0, len(values), 2)]
    if extra:
        lines.append(extra)
    return lines


def pick_row(rows: Iterable[dict], codec: str, sequence: str = "", qp: str = "") -> dict:
    """The one results row of `codec` (and `sequence`, `qp` where given).

    Raises:
        OptionError: no row, or several rows that `sequence`/`qp` would tell apart.
    """
    found = [r for r in rows if str(r.get("codec")) == codec and (not sequence or str(r.get("sequence")) == sequence)
             and (not qp or str(r.get("qp")) == str(qp))]  # fmt: skip
    where = f"codec `{codec}'" + (f", sequence `{sequence}'" if sequence else "") + (f", QP {qp}" if qp else "")
    if not found:
        raise OptionError(f"the results CSV has no row for {where}")
    if len(found) > 1:
        keys = sorted({(str(r.get("sequence")), str(r.get("qp"))) for r in found})
        raise OptionError(f"the results CSV has {len(found)} rows for {where} (sequence, QP: "
                          f"{', '.join(f'{s} {q}' for s, q in keys)}); narrow it with --sequence and --qp")
    return found[0]


@dataclass
class Grid:
    """Panel layout: `count` panels of `panel_w` x `panel_h`, `columns` per row, and their captions."""

    panel_w: int
    panel_h: int
    count: int
    captions: list[Caption] = field(default_factory=list)
    columns: int = 0

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = self.count if self.count <= 3 else math.ceil(self.count / 2)
        self.rows = math.ceil(self.count / self.columns)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the whole picture."""
        return (self.columns * self.panel_w + (self.columns - 1) * GAP,
                self.rows * self.panel_h + (self.rows - 1) * GAP)

    def origin(self, i: int) -> tuple[int, int]:
        return (i % self.columns) * (self.panel_w + GAP), (i // self.columns) * (self.panel_h + GAP)

    def compose(self, pictures: Sequence[np.ndarray]) -> np.ndarray:
        """Tile ``uint8 [panel_h, panel_w, 3]`` pictures and burn in their captions."""
        w, h = self.size
        canvas = np.zeros((h, w, 3), np.uint8)
        for i, pic in enumerate(pictures):
            x, y = self.origin(i)
            canvas[y:y + self.panel_h, x:x + self.panel_w] = pic
            if i < len(self.captions):
                blend(canvas, self.captions[i], x, y)
        return canvas


def make_grid(panel_w: int, panel_h: int, texts: Sequence[list[str]], columns: int = 0) -> Grid:
    """A grid whose captions are rendered at a size that suits the panels (1/20 of their height)."""
    font_px = int(min(40, max(10, panel_h // 20)))
    return Grid(panel_w, panel_h, len(texts), [render_caption(t, font_px, panel_w) for t in texts], columns)


def frames_in_step(sources: Sequence, matrix: str, crop: Crop | None, count: int = 0) -> Iterator[list[np.ndarray]]:
    """Yield, frame by frame, the RGB pictures of all `sources` (gvcodec.io.source.Source) together,
    until the shortest one ends (or `count` frames)."""
    iters = [s.frames() for s in sources]
    n = 0
    while not count or n < count:
        frames = []
        for it in iters:
            frame = next(it, None)
            if frame is None:
                return
            frames.append(frame)
        yield [to_rgb8(f, matrix, bool(s.full_range), crop) for f, s in zip(frames, sources)]
        n += 1


def check_same_size(sources: Sequence, names: Sequence[str]) -> tuple[int, int]:
    """(width, height) shared by all sources; InputError naming the first that differs."""
    w, h = sources[0].fmt.width, sources[0].fmt.height
    for s, name in zip(sources[1:], names[1:]):
        if (s.fmt.width, s.fmt.height) != (w, h):
            raise InputError(f"{name} ({s.path}) is {s.fmt.width}x{s.fmt.height}, the reference is {w}x{h}")
    return w, h


def run(sources: Sequence, matrix: str, crop: Crop | None, count: int,
        sinks: Sequence[Callable[[list[np.ndarray]], None]]) -> int:
    """Feed each step of RGB pictures to every sink; returns the number of frames.

    Raises:
        InputError: no frame could be read from one of the sources.
    """
    n = 0
    for pictures in frames_in_step(sources, matrix, crop, count):
        for sink in sinks:
            sink(pictures)
        n += 1
    if n == 0:
        raise InputError("no frame to compare (one of the inputs is empty)")
    return n
