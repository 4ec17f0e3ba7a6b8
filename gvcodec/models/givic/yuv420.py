"""Native YUV 4:2:0 handling of GIViC: chroma multiplexing, trilinear up-sampling, the pyramid.

The denoiser of the seed's current design emits two channels: luma, and one full-resolution
channel that de-multiplexes into U and V. gvcodec multiplexes on a checkerboard: in every 2x2
block the two diagonal samples (0,0) and (1,1) carry U, the anti-diagonal (0,1) and (1,0) carry
V. Packing the original half-resolution planes repeats each chroma sample twice, and
de-multiplexing averages the two copies, so pack -> unpack is the identity on integer planes
(and on any real planes). Video tensors are (N, C, T, H, W).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def checkerboard(h: int, w: int, device=None) -> torch.Tensor:
    """Bool (h, w) mask, True where the multiplexed channel carries U."""
    yy = torch.arange(h, device=device)[:, None]
    xx = torch.arange(w, device=device)[None, :]
    return (yy + xx) % 2 == 0


def mux(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Two full-resolution chroma planes (..., H, W) -> one checkerboard channel (..., H, W)."""
    return torch.where(checkerboard(u.shape[-2], u.shape[-1], u.device), u, v)


def pack420(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """4:2:0 planes (..., H, W), (..., H/2, W/2) x2 -> (..., 2, H, W) [luma, multiplexed chroma]."""
    up = lambda p: p.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)  # noqa: E731
    return torch.stack([y, mux(up(u), up(v))], dim=-3)


def demux(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The multiplexed channel (..., H, W) -> (U, V) at (..., H/2, W/2): mean of the two copies."""
    a, b = c[..., 0::2, 0::2], c[..., 1::2, 1::2]   # U positions
    p, q = c[..., 0::2, 1::2], c[..., 1::2, 0::2]   # V positions
    return (a + b) / 2, (p + q) / 2


def unpack420(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., 2, H, W) -> (Y, U, V), the inverse of ``pack420``."""
    u, v = demux(x[..., 1, :, :])
    return x[..., 0, :, :], u, v


def pack420_int(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Integer planes -> (2, H, W) integer array (lossless; see ``unpack420_int``)."""
    t = pack420(*(torch.from_numpy(p.astype(np.int64)) for p in (y, u, v)))
    return t.numpy()


def unpack420_int(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(2, H, W) integer array -> integer (Y, U, V); exact: the two copies are summed, then halved."""
    t = torch.from_numpy(np.asarray(x, dtype=np.int64))
    c = t[1]
    u = (c[0::2, 0::2] + c[1::2, 1::2]) // 2
    v = (c[0::2, 1::2] + c[1::2, 0::2]) // 2
    return t[0].numpy(), u.numpy(), v.numpy()


def upsample_chroma(c: torch.Tensor) -> torch.Tensor:
    """Trilinear 2x up-sampling of chroma video (N, C, T, H/2, W/2) -> (N, C, T, H, W).

    Time is not sub-sampled in 4:2:0, so the temporal factor is 1 (trilinear reduces to
    bilinear per frame); half-pixel centres as in torch's align_corners=False.
    """
    n, ch, t, h, w = c.shape
    return F.interpolate(c, size=(t, 2 * h, 2 * w), mode="trilinear", align_corners=False)


def to444(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(N, 1, T, H, W) luma and half-size chroma -> (N, 3, T, H, W) with trilinear chroma."""
    return torch.cat([y, upsample_chroma(torch.cat([u, v], dim=1))], dim=1)


def downsample_chroma(c: torch.Tensor) -> torch.Tensor:
    """(N, C, T, H, W) -> (N, C, T, H/2, W/2): trilinear down-sampling by 2 (a 2x2 mean)."""
    return F.avg_pool3d(c, kernel_size=(1, 2, 2))


def level_shape(full: tuple[int, int, int], level: int, levels: int, temporal: bool) -> tuple[int, int, int]:
    """(T, H, W) of pyramid level `level` (levels-1 = full size) for a full-size (T, H, W)."""
    f = 2 ** (levels - 1 - level)
    t = max(1, -(-full[0] // f)) if temporal else full[0]
    return t, full[1] // f, full[2] // f


def resample(x: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
    """Trilinear resampling of video (N, C, T, H, W) to `size` (down: area mean, up: trilinear)."""
    if tuple(x.shape[-3:]) == tuple(size):
        return x
    if all(s <= d for s, d in zip(size, x.shape[-3:])):
        return F.adaptive_avg_pool3d(x, size)
    return F.interpolate(x, size=size, mode="trilinear", align_corners=False)


def level_target(x444: torch.Tensor, size: tuple[int, int, int], chroma_mode: str) -> torch.Tensor:
    """Clean signal of one pyramid level from the 4:4:4 (up-sampled) GOP.

    420 mode: [Y, checkerboard(U, V)] at the level's size; 444 modes: the three channels.
    """
    x = resample(x444, size)
    if chroma_mode == "420":
        return torch.cat([x[:, :1], mux(x[:, 1], x[:, 2]).unsqueeze(1)], dim=1)
    return x
