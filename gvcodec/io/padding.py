"""Padding to a multiple of N before coding and cropping back after decoding.

`zero` padding is black, the seeds' zero padding of the RGB picture expressed in YCbCr
(luma at the range's black level, chroma at mid-grey); `replicate` repeats the edge samples.
Padding goes to the right and bottom only, so cropping is a slice.
"""

from __future__ import annotations

import numpy as np

from gvcodec.io.frames import Frame


def padded_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    if multiple <= 1:
        return width, height
    return -(-width // multiple) * multiple, -(-height // multiple) * multiple


def pad_frame(frame: Frame, width: int, height: int, mode: str = "zero", full_range: bool = False) -> Frame:
    """Pad `frame` on the right and bottom to `width` x `height` luma samples."""
    fmt = frame.fmt
    if (width, height) == (fmt.width, fmt.height):
        return frame
    new_fmt = fmt.with_size(width, height)
    bd = fmt.bit_depth
    black = (0 if full_range else 16 << (bd - 8), 1 << (bd - 1), 1 << (bd - 1))
    planes = []
    for i, (plane, (h, w)) in enumerate(zip(frame.planes, new_fmt.plane_shapes())):
        pad = ((0, h - plane.shape[0]), (0, w - plane.shape[1]))
        if mode == "replicate":
            planes.append(np.pad(plane, pad, mode="edge"))
        else:
            planes.append(np.pad(plane, pad, mode="constant", constant_values=black[i]))
    return Frame(tuple(planes), new_fmt, frame.poc, dict(frame.meta))


def crop_frame(frame: Frame, width: int, height: int) -> Frame:
    """Keep the top-left `width` x `height` luma samples (and the matching chroma)."""
    fmt = frame.fmt
    if (width, height) == (fmt.width, fmt.height):
        return frame
    new_fmt = fmt.with_size(width, height)
    planes = tuple(np.ascontiguousarray(p[:h, :w]) for p, (h, w) in zip(frame.planes, new_fmt.plane_shapes()))
    return Frame(planes, new_fmt, frame.poc, dict(frame.meta))
