"""3D rotary position embedding over (t, h, w) token grids, in the Wan2.1 convention.

The head dim is split into three groups of channel pairs, one per axis: h and w get 2 * (d // 6)
real dims each and t gets the rest (44/42/42 for d = 128). Each group has its own frequency ladder
theta ** (-2i / group_dim), and a token at grid position (f, y, x) rotates the pairs of its t group
by f * freq, of its h group by y * freq and of its w group by x * freq. Adjacent channels (2i, 2i+1)
form a pair, as when Wan views the head as complex numbers, so public weights see the same rotation.
"""

from __future__ import annotations

import torch
from torch import Tensor


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Real dims of the head given to the (t, h, w) axes, as Wan derives them.

    Args:
        head_dim: channels per head (even).

    Returns:
        (t, h, w) real dims, summing to head_dim; (44, 42, 42) for 128.
    """
    if head_dim % 2 or head_dim < 6:
        raise ValueError(f"RoPE needs an even head dim of at least 6, got {head_dim}")
    hw = 2 * (head_dim // 6)
    return head_dim - 2 * hw, hw, hw


def _inv_freq(group_dim: int, theta: float) -> Tensor:
    """Frequencies theta ** (-2i / group_dim) of one axis group, float64 for exact angles."""
    return 1.0 / theta ** (torch.arange(0, group_dim, 2, dtype=torch.float64) / group_dim)


def rope_angles(grid: tuple[int, int, int], head_dim: int, theta: float = 10000.0,
                device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
    """Cosines and sines of the rotation of every token of a (t, h, w) grid.

    Angles are computed in float64 (positions times frequencies lose precision in float32 for long
    clips) and only the grid's own positions are built, so memory is O(tokens * head_dim).

    Args:
        grid: token counts (f, h, w) after patchify; tokens are ordered t-major, then h, then w.
        head_dim: channels per head.
        theta: RoPE base (10000 in Wan).
        device: where to build the tables.

    Returns:
        (cos, sin), each float32 [f * h * w, head_dim // 2]: one angle per channel pair.
    """
    f, h, w = grid
    dt, dh, dw = rope_split(head_dim)
    axes = []
    for size, group_dim in ((f, dt), (h, dh), (w, dw)):
        pos = torch.arange(size, dtype=torch.float64, device=device)
        axes.append(torch.outer(pos, _inv_freq(group_dim, theta).to(device)))
    at, ah, aw = axes
    angles = torch.cat([
        at[:, None, None, :].expand(f, h, w, -1),
        ah[None, :, None, :].expand(f, h, w, -1),
        aw[None, None, :, :].expand(f, h, w, -1),
    ], dim=-1).reshape(f * h * w, head_dim // 2)
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate adjacent channel pairs of queries or keys.

    Args:
        x: [B, L, heads, head_dim].
        cos, sin: [L, head_dim // 2] from `rope_angles`.

    Returns:
        The rotated tensor, same shape and dtype as x (the rotation itself runs in float32).
    """
    b, length, heads, d = x.shape
    pairs = x.float().reshape(b, length, heads, d // 2, 2)
    re, im = pairs.unbind(-1)
    c = cos[None, :, None, :]
    s = sin[None, :, None, :]
    out = torch.stack((re * c - im * s, re * s + im * c), dim=-1)
    return out.reshape(b, length, heads, d).to(x.dtype)
