"""Exact fixed-point twins of the latent codec's prior-path networks (see docs/entropy.md).

`to_int(module, q)` freezes a float network built from `codec_layers` pieces (convs, deconvs,
ReLU, WSiLU, sigmoid, PixelShuffle, DC blocks, residual bottleneck / attention blocks,
checkerboard convs) into integer layers from `gvcodec.entropy.fixedpoint`. Every activation is
an integer-valued float64 tensor in Q(act_frac), so every sum is exact in any order, thread
count or device; residual additions and the attention product are exact integer operations.
Inputs must already be Q(act_frac) integers (callers turn symbols s into s * 2**act_frac).
"""

from __future__ import annotations

import torch
from torch import nn

from gvcodec.entropy.fixedpoint import IntConv2d, IntLeakyReLU, IntLUT, QFormat, from_float, requantize
from gvcodec.models.gnvc_vd.codec.layers import (
    AttentionBlock,
    CheckerboardConv,
    DCBlock,
    ResidualBottleneckBlock,
    ResidualUnit,
    WSiLU,
)


class TwinsFollowModule:
    """Mixin of the codecs that cache integer twins in ``self._int`` (a plain dict, kept out of the
    state dict so weight digests do not change): ``.to(device)``, ``.cuda()``, ``.cpu()`` move the
    twins with the module (device only: the twins stay integer-valued float64 whatever dtype the
    module is cast to). Twins built by ``freeze`` are placed on the module's device.

    Exactness on any device: twin weights are ``round(w * 2**k)`` (exact wherever computed), LUTs are
    tabulated on the CPU (``IntLUT.from_function``) and then moved, and every sum of the twins is an
    integer below 2**53 in float64, exact in any order on the CPU or a GPU (no TF32 in float64; the
    device convolutions are unfold + matmul, never FFT/Winograd).
    """

    _int: dict | None

    def _module_device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def _place_twins(self) -> None:
        dev = self._module_device()
        for value in (self._int or {}).values():
            for m in value if isinstance(value, list) else [value]:
                m.to(dev)

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self._place_twins()
        return out


def _clamp(x: torch.Tensor, q: QFormat) -> torch.Tensor:
    m = float(2**q.act_bits - 1)
    return x.clamp(-m, m)


def _wsilu(v: torch.Tensor) -> torch.Tensor:
    return v * torch.sigmoid(4.0 * v)


def int_wsilu(q: QFormat) -> IntLUT:
    """WSiLU as a LUT on Q(act_frac); identity above lut_range, ~0 below -lut_range."""
    return IntLUT.from_function(_wsilu, q.act_frac, q.act_frac, -q.lut_range, q.lut_range, identity_above=True)


def int_sigmoid(q: QFormat) -> IntLUT:
    """Sigmoid as a LUT on Q(act_frac) (clamped outside +-lut_range)."""
    return IntLUT.from_function(torch.sigmoid, q.act_frac, q.act_frac, -q.lut_range, q.lut_range)


def int_layer(m: nn.Module, q: QFormat) -> nn.Module:
    """One conv / deconv taking Q(act_frac) input, as an integer layer."""
    return from_float(nn.Sequential(m), q, input_frac=q.act_frac)[0]


def int_channel_scale(vector: torch.Tensor, q: QFormat) -> IntConv2d:
    """Exact per-channel multiply by a (1, C, 1, 1) float vector (a per-QP gain), as a depthwise 1x1."""
    v = vector.detach().reshape(-1).to(torch.float64)
    wq = torch.round(v * float(1 << q.weight_frac)).view(-1, 1, 1, 1)
    return IntConv2d(wq, torch.zeros_like(v), q.act_frac, q, groups=v.shape[0])


class IntDCBlock(nn.Module):
    """Integer twin of `DCBlock` (same data flow, exact residual adds)."""

    def __init__(self, block: DCBlock, q: QFormat) -> None:
        super().__init__()
        self.q, self.shortcut = q, block.shortcut
        self.adaptor = int_layer(block.adaptor, q) if block.adaptor is not None else None
        self.dc = nn.Sequential(*(to_int(m, q) for m in block.dc))
        self.ffn_in, self.ffn_out = int_layer(block.ffn_in, q), int_layer(block.ffn_out, q)
        self.act = int_wsilu(q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.adaptor is not None:
            x = self.adaptor(x)
        out = _clamp(self.dc(x) + x, self.q)
        a, b = self.act(self.ffn_in(out)).chunk(2, 1)
        out = _clamp(self.ffn_out(a + b) + out, self.q)
        return _clamp(out + x, self.q) if self.shortcut else out


class IntResidualBottleneck(nn.Module):
    """Integer twin of `ResidualBottleneckBlock`."""

    def __init__(self, block: ResidualBottleneckBlock, q: QFormat) -> None:
        super().__init__()
        self.q = q
        self.body = nn.Sequential(int_layer(block.conv1, q), IntLeakyReLU(None), int_layer(block.conv2, q),
                                  IntLeakyReLU(None), int_layer(block.conv3, q))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _clamp(x + self.body(x), self.q)


class IntResidualUnit(nn.Module):
    """Integer twin of `ResidualUnit`."""

    def __init__(self, unit: ResidualUnit, q: QFormat) -> None:
        super().__init__()
        self.q, self.body = q, to_int(unit.conv, q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _clamp(x + self.body(x), self.q).clamp_min(0.0)


class IntAttention(nn.Module):
    """Integer twin of `AttentionBlock`: x + requant(trunk * sigmoid_q(mask))."""

    def __init__(self, block: AttentionBlock, q: QFormat) -> None:
        super().__init__()
        self.q = q
        self.conv_a, self.conv_b = to_int(block.conv_a, q), to_int(block.conv_b, q)
        self.sigmoid = int_sigmoid(q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Product of two Q(act_frac) integers is below 2**(act_bits + act_frac + 1): exact.
        prod = self.conv_a(x) * self.sigmoid(self.conv_b(x))
        return _clamp(x + requantize(prod, self.q.act_frac), self.q)


def to_int(module: nn.Module, q: QFormat) -> nn.Module:
    """Freeze a float prior-path network to its exact integer twin.

    Args:
        module: a `codec_layers` block, conv / deconv, activation, or nn.Sequential of them.
        q: fixed-point formats; the twin takes and returns Q(q.act_frac) integers.

    Returns:
        The integer module (buffers only, no parameters).
    """
    if isinstance(module, CheckerboardConv):
        return int_layer(module.plain(), q)
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        return int_layer(module, q)
    if isinstance(module, nn.ReLU):
        return IntLeakyReLU(None)
    if isinstance(module, WSiLU):
        return int_wsilu(q)
    if isinstance(module, nn.Sigmoid):
        return int_sigmoid(q)
    if isinstance(module, (nn.PixelShuffle, nn.Identity)):
        return module
    if isinstance(module, DCBlock):
        return IntDCBlock(module, q)
    if isinstance(module, ResidualBottleneckBlock):
        return IntResidualBottleneck(module, q)
    if isinstance(module, ResidualUnit):
        return IntResidualUnit(module, q)
    if isinstance(module, AttentionBlock):
        return IntAttention(module, q)
    if isinstance(module, nn.Sequential):
        return nn.Sequential(*(to_int(m, q) for m in module))
    if isinstance(module, nn.ModuleList):
        return nn.ModuleList(to_int(m, q) for m in module)
    raise ValueError(f"to_int: no integer twin for {type(module).__name__}")
