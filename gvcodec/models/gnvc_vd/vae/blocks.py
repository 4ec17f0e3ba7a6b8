"""Blocks of the Wan2.1-layout 3D VAE: residual block, per-frame attention, resampling.

Attribute names and sub-layer positions follow the public Wan2.1 VAE state dict
(`residual.0.gamma`, `residual.2.weight`, `resample.1.weight`, `time_conv.weight`, `to_qkv`, ...),
so that public checkpoints load strictly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.models.gnvc_vd.vae.causal import CausalConv3d, RMSNorm, StreamState, run_layers

RESAMPLE_MODES = ("downsample2d", "downsample3d", "upsample2d", "upsample3d")


def per_frame(fn, x: torch.Tensor) -> torch.Tensor:
    """Apply a 2D function to every frame of N C T H W (frames folded into the batch)."""
    n, c, t, h, w = x.shape
    y = fn(x.transpose(1, 2).reshape(n * t, c, h, w))
    return y.reshape(n, t, *y.shape[1:]).transpose(1, 2)


class ResidualBlock(nn.Module):
    """norm, SiLU, causal 3x3x3 conv, norm, SiLU, dropout, causal 3x3x3 conv, plus a shortcut.

    Args:
        in_dim: input channels.
        out_dim: output channels (a causal 1x1x1 conv shortcut when they differ).
        dropout: dropout rate before the second conv.
    """

    takes_state = True

    def __init__(self, in_dim: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            RMSNorm(in_dim), nn.SiLU(), CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMSNorm(out_dim), nn.SiLU(), nn.Dropout(dropout), CausalConv3d(out_dim, out_dim, 3, padding=1))
        self.shortcut = CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()

    def forward(self, x: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """One chunk N C T H W -> N C' T H W."""
        return self.shortcut(x) + run_layers(self.residual, x, state)


class AttentionBlock(nn.Module):
    """Single-head spatial self-attention inside each frame, with a residual connection.

    The output projection starts at zero, so a fresh block is the identity.

    Args:
        dim: channels.
    """

    takes_state = True  # accepts (and ignores) the state: attention never looks across frames

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = RMSNorm(dim, spatial_dims=2)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)
        nn.init.zeros_(self.proj.weight)

    def _attend(self, frames: torch.Tensor) -> torch.Tensor:
        b, c, h, w = frames.shape
        qkv = self.to_qkv(self.norm(frames)).reshape(b, 3 * c, h * w).transpose(1, 2)
        q, k, v = qkv.unsqueeze(1).chunk(3, dim=-1)  # channel thirds: q, k, v
        out = F.scaled_dot_product_attention(q, k, v).squeeze(1).transpose(1, 2)
        return self.proj(out.reshape(b, c, h, w))

    def forward(self, x: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """One chunk N C T H W -> same shape."""
        return x + per_frame(self._attend, x)


class Resample(nn.Module):
    """Halve or double the picture size, and in the 3d modes also the frame rate.

    downsample: zero-pad right/bottom, 3x3 stride-2 conv (C -> C); 3d adds a temporal k=3
    stride-2 conv whose windows start at the anchor frame 0, which itself passes through alone.
    upsample: nearest x2 then 3x3 conv (C -> C/2); 3d first adds a causal temporal conv
    C -> 2C whose halves become two consecutive frames, skipping the anchor frame 0.
    So 1 + 2k frames <-> 1 + k frames per 3d stage, and frame 0 only ever sees frame 0.

    Args:
        dim: input channels.
        mode: one of RESAMPLE_MODES.
    """

    takes_state = True

    def __init__(self, dim: int, mode: str) -> None:
        super().__init__()
        if mode not in RESAMPLE_MODES:
            raise ValueError(f"resample mode {mode!r} is not one of {RESAMPLE_MODES}")
        self.mode = mode
        if mode.startswith("upsample"):
            self.resample = nn.Sequential(nn.Upsample(scale_factor=(2.0, 2.0), mode="nearest-exact"),
                                          nn.Conv2d(dim, dim // 2, 3, padding=1))
        else:
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, stride=2))
        if mode == "upsample3d":
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode == "downsample3d":
            self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), padding=(0, 0, 0))

    def forward(self, x: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """One chunk N C T H W -> resampled chunk."""
        state = state if state is not None else StreamState()
        if self.mode == "upsample3d":
            x = self._double_frames(x, state)
        x = per_frame(self.resample, x)
        if self.mode == "downsample3d":
            x = self._halve_frames(x, state)
        return x

    def _double_frames(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:
        parts = []
        if state.get(self) is None:
            # First chunk of the clip: the anchor frame stays single, and the temporal conv's
            # history starts as zeros after it (it never sees the anchor).
            state.put(self, True)
            parts.append(x[:, :, :1])
            x = x[:, :, 1:]
        if x.shape[2]:
            y = self.time_conv(x, state)
            n, c2, t, h, w = y.shape
            # Channel halves (a, b) of frame i become frames 2i and 2i + 1.
            parts.append(y.reshape(n, 2, c2 // 2, t, h, w).permute(0, 2, 3, 1, 4, 5).reshape(n, c2 // 2, 2 * t, h, w))
        return torch.cat(parts, dim=2) if len(parts) > 1 else parts[0]

    def _halve_frames(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:
        pending = state.get(self)
        parts = []
        if pending is None:
            parts.append(x[:, :, :1])  # the anchor frame passes alone and also opens the first window
        else:
            x = torch.cat([pending, x], dim=2)
        windows = (x.shape[2] - 3) // 2 + 1 if x.shape[2] >= 3 else 0
        if windows:
            parts.append(self.time_conv(x[:, :, :2 * windows + 1]))
        # Frames from the next window start on are still needed.
        state.put(self, x[:, :, 2 * windows:].clone())
        if not parts:
            return x[:, :, :0]
        return torch.cat(parts, dim=2) if len(parts) > 1 else parts[0]
