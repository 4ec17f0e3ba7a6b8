"""Pictures <-> the VAE's video tensors: Y'CbCr code values <-> R'G'B' in [-1, 1].

The conversion is the one defined in gvcodec.io.colour (BT.709 by default, limited or full
range, centre-sited chroma), applied to a whole GOP at once.
"""

from __future__ import annotations

import numpy as np
import torch

from gvcodec.io.colour import rgb_to_ycbcr, ycbcr_to_rgb
from gvcodec.io.frames import Frame, VideoFormat


def frames_to_video(frames: list[Frame], matrix: str, full_range: bool) -> torch.Tensor:
    """Frames of one format -> float32 [1, 3, T, H, W] in [-1, 1] (clamped: out-of-gamut codes)."""
    fmt = frames[0].fmt
    planes = [torch.from_numpy(np.stack([f.planes[i] for f in frames]).astype(np.float32))[:, None]
              for i in range(len(frames[0].planes))]
    u, v = (planes[1], planes[2]) if len(planes) == 3 else (None, None)
    rgb = ycbcr_to_rgb(planes[0], u, v, fmt.bit_depth, matrix, full_range).clamp_(0.0, 1.0)
    return (rgb * 2.0 - 1.0).permute(1, 0, 2, 3).unsqueeze(0).contiguous()


def video_to_frames(video: torch.Tensor, fmt: VideoFormat, matrix: str, full_range: bool,
                    first_poc: int, count: int) -> list[Frame]:
    """[1, 3, T, H, W] in [-1, 1] -> the first `count` frames as integer pictures of `fmt`."""
    rgb = ((video[0, :, :count].float().cpu().permute(1, 0, 2, 3) + 1.0) * 0.5).clamp_(0.0, 1.0)
    y, u, v = rgb_to_ycbcr(rgb, fmt.bit_depth, matrix, full_range, fmt.chroma_format)
    top = (1 << fmt.bit_depth) - 1
    planes = [torch.floor(p[:, 0] + 0.5).clamp_(0, top).numpy().astype(np.uint16)
              for p in (y, u, v) if p is not None]
    return [Frame(tuple(np.ascontiguousarray(p[i]) for p in planes), fmt, first_poc + i) for i in range(count)]
