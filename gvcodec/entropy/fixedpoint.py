"""Fixed-point twins of the layers that choose entropy tables (the exact prior path).

Values are held as *integer-valued float64* tensors in Q(frac) fixed point (real value =
int / 2**frac). Every product of two such integers and every partial sum stays below
2**53 (checked when a layer is built, from its weights and the input clamp), so each
result is the exact integer whatever the summation order, thread count, batch size, BLAS
or CPU: conv/matmul results are bit-identical everywhere. Requantization is
``floor((acc + 2**(s-1)) / 2**s)`` (round half up; division by a power of two is exact).

Train with the float modules (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.ReLU,
nn.LeakyReLU with a power-of-two slope, nn.Tanh / nn.Sigmoid / nn.Softplus) in an nn.Sequential, then
``from_float`` freezes them; ``conversion_rate_cost`` measures what that costs in rate.
Input symbols go in with ``to_fixed``; the output (Q``act_frac``) goes to
``GaussianConditional.indexes_from_fixed`` built with ``index_frac_bits = act_frac``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

EXACT_LIMIT = 2**53


@dataclass(frozen=True)
class QFormat:
    """Fixed-point formats of a converted network.

    Attributes:
        weight_frac: fractional bits of weights.
        act_frac: fractional bits of activations between layers (and of the output).
        act_bits: activations are clamped to +-(2**act_bits - 1) (as integers) at every
            layer input, which bounds every accumulator.
        lut_range: real input range [-lut_range, lut_range] tabulated for Tanh/Sigmoid.
    """

    weight_frac: int = 10
    act_frac: int = 8
    act_bits: int = 22
    lut_range: float = 8.0


def to_fixed(x: torch.Tensor, frac: int) -> torch.Tensor:
    """Real -> integer-valued float64 in Q(frac), round half up."""
    return torch.floor(x.to(torch.float64) * float(1 << frac) + 0.5)


def to_real(x_q: torch.Tensor, frac: int) -> torch.Tensor:
    """Q(frac) integers -> float64 reals (exact)."""
    return x_q / float(1 << frac)


def requantize(acc: torch.Tensor, shift: int) -> torch.Tensor:
    """Divide integer-valued float64 by 2**shift, rounding half up (shift may be <= 0)."""
    if shift <= 0:
        return acc * float(1 << -shift)
    return torch.floor((acc + float(1 << (shift - 1))) / float(1 << shift))


class _IntLayer(nn.Module):
    """Common part of the integer linear layers: weights, bias, formats, bound check."""

    def __init__(self, weight_q: torch.Tensor, bias_q: torch.Tensor, in_frac: int, q: QFormat, fan_axes) -> None:
        super().__init__()
        self.register_buffer("weight_q", weight_q.to(torch.float64))
        self.register_buffer("bias_q", bias_q.to(torch.float64))
        self.in_frac, self.w_frac, self.out_frac, self.act_bits = in_frac, q.weight_frac, q.act_frac, q.act_bits
        self.shift = in_frac + q.weight_frac - q.act_frac
        # Worst accumulator: every input at the clamp, every weight of one output summed.
        in_max = float(2**q.act_bits - 1)
        worst = in_max * float(self.weight_q.abs().sum(dim=fan_axes).max()) + float(self.bias_q.abs().max())
        if worst + 2.0 ** max(self.shift, 0) >= EXACT_LIMIT:
            raise ValueError(f"{type(self).__name__}: accumulator bound {worst:.3g} is not exact in float64")

    def _clamp_in(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float64:
            raise TypeError("fixed-point layers take integer-valued float64 tensors (use to_fixed)")
        m = float(2**self.act_bits - 1)
        return x.clamp(-m, m)

    def _finish(self, acc: torch.Tensor) -> torch.Tensor:
        m = float(2**self.act_bits - 1)
        return requantize(acc, self.shift).clamp(-m, m)


class IntLinear(_IntLayer):
    """y = requant(x @ W^T + b); weights (out, in) in Q(w_frac), bias in Q(in_frac + w_frac)."""

    def __init__(self, weight_q, bias_q, in_frac: int, q: QFormat) -> None:
        super().__init__(weight_q, bias_q, in_frac, q, fan_axes=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(F.linear(self._clamp_in(x), self.weight_q, self.bias_q))


class IntConv2d(_IntLayer):
    """Integer 2-D convolution (groups allowed) with requantization.

    Args:
        weight_q, bias_q: integer weights (out, in/groups, kh, kw) and bias.
        in_frac: fractional bits of the input.
        q: formats.
        stride, padding, dilation, groups: as nn.Conv2d (zero padding only).
    """

    def __init__(self, weight_q, bias_q, in_frac: int, q: QFormat, stride=1, padding=0, dilation=1, groups=1) -> None:
        super().__init__(weight_q, bias_q, in_frac, q, fan_axes=(1, 2, 3))
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._clamp_in(x)
        if x.device.type == "cpu":
            # CPU float64 convolution is im2col + BLAS: any order of exact integer sums is exact.
            acc = F.conv2d(x, self.weight_q, self.bias_q, self.stride, self.padding, self.dilation, self.groups)
        else:
            acc = self._unfold_conv(x)  # keep GPU libraries' FFT/Winograd algorithms out
        return self._finish(acc)

    def _unfold_conv(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        kh, kw = self.weight_q.shape[-2:]
        cols = F.unfold(x, (kh, kw), self.dilation, self.padding, self.stride)
        g = self.groups
        cols = cols.view(b, g, -1, cols.shape[-1])
        wq = self.weight_q.view(g, self.weight_q.shape[0] // g, -1)
        out = torch.matmul(wq, cols).view(b, self.weight_q.shape[0], -1) + self.bias_q.view(1, -1, 1)
        ho = (h + 2 * _pair(self.padding)[0] - _pair(self.dilation)[0] * (kh - 1) - 1) // _pair(self.stride)[0] + 1
        return out.view(b, -1, ho, out.shape[-1] // ho)


class IntConvTranspose2d(_IntLayer):
    """Integer transposed convolution (groups = 1) with requantization, as nn.ConvTranspose2d."""

    def __init__(self, weight_q, bias_q, in_frac: int, q: QFormat, stride=1, padding=0, output_padding=0, dilation=1) -> None:
        super().__init__(weight_q, bias_q, in_frac, q, fan_axes=(0, 2, 3))
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._clamp_in(x)
        if x.device.type == "cpu":
            acc = F.conv_transpose2d(
                x, self.weight_q, self.bias_q, self.stride, self.padding, self.output_padding, 1, self.dilation
            )
        else:
            acc = self._fold_conv_transpose(x)  # no cuDNN algorithm choice on devices
        return self._finish(acc)

    def _fold_conv_transpose(self, x: torch.Tensor) -> torch.Tensor:
        b, cin, h, w = x.shape
        _, cout, kh, kw = self.weight_q.shape
        (sh, sw), (ph, pw), (oh, ow), (dh, dw) = map(_pair, (self.stride, self.padding, self.output_padding, self.dilation))
        cols = torch.matmul(self.weight_q.view(cin, -1).t(), x.view(b, cin, h * w))
        size = ((h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1, (w - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1)
        out = F.fold(cols, size, (kh, kw), (dh, dw), (ph, pw), (sh, sw))
        return out + self.bias_q.view(1, -1, 1, 1)


class IntLeakyReLU(nn.Module):
    """x for x >= 0, floor(x / 2**shift) otherwise (slope 2**-shift; shift=None is ReLU)."""

    def __init__(self, shift: int | None) -> None:
        super().__init__()
        self.shift = shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shift is None:
            return x.clamp_min(0.0)
        return torch.where(x >= 0, x, torch.floor(x / float(1 << self.shift)))


class IntLUT(nn.Module):
    """Any scalar function as a lookup table on the Q(frac) integers of a clamped range.

    Args:
        table: integer-valued float64 outputs for inputs ``lo, lo+1, ..., lo+len-1``.
        lo: first input integer; inputs outside the table are clamped to it.
        identity_shift: if given, inputs above the table map to ``x * 2**identity_shift``
            (functions like softplus that become the identity: out_frac - in_frac).
    """

    def __init__(self, table: torch.Tensor, lo: int, identity_shift: int | None = None) -> None:
        super().__init__()
        self.register_buffer("table", table.to(torch.float64))
        self.lo = lo
        self.identity_shift = identity_shift

    @classmethod
    def from_function(
        cls, fn, in_frac: int, out_frac: int, real_min: float, real_max: float, identity_above: bool = False
    ) -> IntLUT:
        """Tabulate ``fn`` (float64 torch function) once, at conversion time.

        Args:
            fn: elementwise function on real values.
            in_frac, out_frac: input and output fractional bits.
            real_min, real_max: real input range covered (clamped outside).
            identity_above: above ``real_max`` use y = x instead of clamping.

        Returns:
            The LUT layer.
        """
        lo, hi = math.floor(real_min * (1 << in_frac)), math.ceil(real_max * (1 << in_frac))
        grid = torch.arange(lo, hi + 1, dtype=torch.float64) / float(1 << in_frac)
        return cls(to_fixed(fn(grid), out_frac), lo, out_frac - in_frac if identity_above else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = self.table.shape[0] - 1
        y = self.table[(x - self.lo).clamp(0, last).to(torch.int64)]
        if self.identity_shift is not None:
            y = torch.where(x - self.lo > last, requantize(x, -self.identity_shift), y)
        return y


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _power_of_two_shift(slope: float) -> int:
    shift = -math.log2(slope) if slope > 0 else float("nan")
    if not (shift == int(shift) and 0 < shift < 31):
        raise ValueError(f"LeakyReLU slope {slope} is not 2**-k; train with a power-of-two slope")
    return int(shift)


def from_float(module: nn.Module, q: QFormat = QFormat(), input_frac: int = 0) -> nn.Sequential:
    """Freeze a float network (nn.Sequential of supported layers) to fixed point.

    Args:
        module: nn.Sequential (nested allowed) of Linear, Conv2d, ConvTranspose2d, ReLU,
            LeakyReLU (slope 2**-k), Tanh, Sigmoid, Softplus (beta 1), Identity, PixelShuffle/Unshuffle, Flatten.
        q: fixed-point formats.
        input_frac: fractional bits of the network input (0 for integer symbols).

    Returns:
        nn.Sequential of integer layers; input Q(input_frac), output Q(q.act_frac).
    """
    layers, frac = [], input_frac
    mods = list(module.modules())[1:] if isinstance(module, nn.Sequential) else [module]
    for m in mods:
        if isinstance(m, nn.Sequential):
            continue
        w_scale = float(1 << q.weight_frac)
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = m.weight.detach().to(torch.float64)
            b = m.bias.detach().to(torch.float64) if m.bias is not None else torch.zeros(w.shape[1 if isinstance(m, nn.ConvTranspose2d) else 0], dtype=torch.float64, device=w.device)
            wq, bq = torch.round(w * w_scale), torch.round(b * float(1 << (frac + q.weight_frac)))
            if isinstance(m, nn.Linear):
                layers.append(IntLinear(wq, bq, frac, q))
            elif isinstance(m, nn.Conv2d):
                if m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise ValueError("only numeric zero padding is supported")
                layers.append(IntConv2d(wq, bq, frac, q, m.stride, m.padding, m.dilation, m.groups))
            else:
                if m.groups != 1:
                    raise ValueError("grouped transposed convolutions are not supported")
                layers.append(IntConvTranspose2d(wq, bq, frac, q, m.stride, m.padding, m.output_padding, m.dilation))
            frac = q.act_frac
        elif isinstance(m, nn.ReLU):
            layers.append(IntLeakyReLU(None))
        elif isinstance(m, nn.LeakyReLU):
            layers.append(IntLeakyReLU(_power_of_two_shift(m.negative_slope)))
        elif isinstance(m, (nn.Tanh, nn.Sigmoid, nn.Softplus)):
            # softplus(x) - x < 4e-4 beyond lut_range = 8: below the Q8 step, so identity is fine.
            if isinstance(m, nn.Softplus) and m.beta != 1:
                raise ValueError("Softplus needs beta=1")
            fn = {nn.Tanh: torch.tanh, nn.Sigmoid: torch.sigmoid, nn.Softplus: F.softplus}[type(m)]
            soft = isinstance(m, nn.Softplus)
            layers.append(IntLUT.from_function(fn, frac, q.act_frac, -q.lut_range, q.lut_range, identity_above=soft))
            frac = q.act_frac
        elif isinstance(m, (nn.Identity, nn.PixelShuffle, nn.PixelUnshuffle, nn.Flatten)):
            layers.append(m)  # pure data movement: exact as is
        else:
            raise ValueError(f"from_float: no fixed-point twin for {type(m).__name__}")
    if frac != q.act_frac:
        raise ValueError("the network must end in Q(act_frac); add a weighted layer or LUT")
    return nn.Sequential(*layers)
