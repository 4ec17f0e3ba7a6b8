"""Causal building blocks of the 3D VAE: stream state, causal 3D convolution and RMS norm.

Streaming model: a clip is fed through the network in time chunks. Every layer that looks back
in time keeps what it needs from earlier chunks in a `StreamState` (one per encode or decode
call, passed down explicitly). Feeding a clip as one chunk or as many chunks gives the same
result, and memory stays bounded by the chunk size, not by the clip length.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class StreamState:
    """Per-layer memory of one streaming pass, keyed by the layer object.

    A fresh state means "the next chunk starts the clip".
    """

    def __init__(self) -> None:
        self._slots: dict[nn.Module, Any] = {}

    def get(self, layer: nn.Module) -> Any:
        """The value `layer` stored on an earlier chunk, or None on the first chunk."""
        return self._slots.get(layer)

    def put(self, layer: nn.Module, value: Any) -> None:
        """Remember `value` for `layer`'s next chunk."""
        self._slots[layer] = value


class CausalConv3d(nn.Conv3d):
    """Conv3d padded symmetrically in space and on the left only in time.

    A temporal padding p of the usual symmetric kind becomes 2p frames on the left, so output
    frame t sees input frames t - 2p .. t only. Across chunks the left frames come from the
    state (zeros before the clip starts).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: int or (t, h, w).
        stride: int or (t, h, w).
        padding: int or (t, h, w) in the symmetric convention.
    """

    takes_state = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] = 1, padding: int | tuple[int, int, int] = 0) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0)
        pad_t, pad_h, pad_w = (padding,) * 3 if isinstance(padding, int) else padding
        self.history = 2 * pad_t
        self.space_pad = (pad_w, pad_w, pad_h, pad_h)

    def forward(self, x: torch.Tensor, state: StreamState | None = None) -> torch.Tensor:
        """Convolve one chunk N C T H W, prepending the previous chunk's last frames.

        Args:
            x: the chunk.
            state: stream memory; None treats x as a whole clip.

        Returns:
            N C' T' H' W'.
        """
        past = state.get(self) if state is not None and self.history else None
        if past is None:
            # a whole clip, or its first chunk: zero history and the spatial border in one copy
            if self.history or any(self.space_pad):
                x = F.pad(x, (*self.space_pad, self.history, 0))
            if state is not None and self.history:
                state.put(self, x[:, :, -self.history:, self.space_pad[2]:x.shape[3] - self.space_pad[3],
                                  self.space_pad[0]:x.shape[4] - self.space_pad[1]].clone())
            return super().forward(x)
        x = torch.cat([past, x], dim=2)
        # The window for the next chunk: the last `history` frames seen so far (a copy, so the cache
        # does not pin the whole padded chunk in memory).
        state.put(self, x[:, :, -self.history:].clone())
        if any(self.space_pad):
            x = F.pad(x, self.space_pad)
        return super().forward(x)


class RMSNorm(nn.Module):
    """Channel RMS norm: L2-normalise over channels, times sqrt(C) and a learned gain (no bias).

    Args:
        channels: C.
        spatial_dims: 3 for N C T H W (gain C x 1 x 1 x 1), 2 for N C H W (gain C x 1 x 1).
    """

    def __init__(self, channels: int, spatial_dims: int = 3) -> None:
        super().__init__()
        self.scale = channels ** 0.5
        self.gamma = nn.Parameter(torch.ones(channels, *(1,) * spatial_dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise N C ... over C."""
        # F.normalize(x, dim=1) as one sum of squares and an rsqrt (same eps: norm >= 1e-12): the
        # vector-norm reduction across channels is ~25x slower on the CPU and was a third of a
        # stage-0 training step. Under bf16 autocast the scale and the product stay float32, as
        # F.normalize's were.
        inv = torch.rsqrt(x.float().square().sum(dim=1, keepdim=True).clamp_min(1e-24))
        return x * inv * (self.scale * self.gamma)


def run_layers(layers: nn.Module, x: torch.Tensor, state: StreamState | None) -> torch.Tensor:
    """Apply a sequence of layers, giving the stream state to those that look back in time.

    Args:
        layers: an iterable module (ModuleList or Sequential).
        x: the chunk.
        state: stream memory, or None for a whole clip.

    Returns:
        The output of the last layer.
    """
    for layer in layers:
        x = layer(x, state) if getattr(layer, "takes_state", False) else layer(x)
    return x
