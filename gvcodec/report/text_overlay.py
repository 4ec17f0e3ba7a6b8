"""Burned-in captions: lines of text rendered once (Pillow's scalable default font) into a small
RGBA block, then alpha-blended onto every frame at a fixed place.

A caption is white text on a translucent black box, so it reads on any picture content.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Caption:
    """A rendered caption: colour ``[h, w, 3]`` (float32 0..255) and alpha ``[h, w, 1]`` (0..1)."""

    colour: np.ndarray
    alpha: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape[0], self.alpha.shape[1]


def render_caption(lines: list[str], font_px: int, max_width: int, box_alpha: float = 0.6) -> Caption:
    """Render `lines` (the first one is the title) into a caption at most `max_width` pixels wide.

    Args:
        lines: text lines, top to bottom; empty lines are dropped.
        font_px: font size in pixels.
        max_width: the caption is cut to this width (the panel width).
        box_alpha: opacity of the black box behind the text.
    """
    from PIL import Image, ImageDraw

    lines = [ln for ln in lines if ln]
    font = _font(max(6, int(font_px)))
    pad, gap = max(2, font_px // 4), max(1, font_px // 6)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((0, 0), ln, font=font) for ln in lines] or [(0, 0, 0, 0)]
    line_h = max(font_px, max(b[3] for b in boxes))
    width = min(max_width, max(b[2] for b in boxes) + 2 * pad)
    height = len(lines) * line_h + (len(lines) - 1) * gap + 2 * pad
    img = Image.new("RGBA", (max(1, width), max(1, height)), (0, 0, 0, int(round(255 * box_alpha))))
    draw = ImageDraw.Draw(img)
    for i, ln in enumerate(lines):
        draw.text((pad, pad + i * (line_h + gap)), ln, font=font, fill=(255, 255, 255, 255))
    rgba = np.asarray(img, dtype=np.float32)
    return Caption(rgba[..., :3].copy(), rgba[..., 3:] / 255.0)


def blend(canvas: np.ndarray, caption: Caption, x: int, y: int) -> None:
    """Alpha-blend `caption` onto ``uint8 [H, W, 3]`` `canvas` with its top-left corner at (x, y), in place
    (clipped at the canvas edges)."""
    h, w = caption.shape
    h, w = min(h, canvas.shape[0] - y), min(w, canvas.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    region = canvas[y:y + h, x:x + w].astype(np.float32)
    a = caption.alpha[:h, :w]
    canvas[y:y + h, x:x + w] = np.clip(region + (caption.colour[:h, :w] - region) * a + 0.5, 0, 255).astype(np.uint8)
