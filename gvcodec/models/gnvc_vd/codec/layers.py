"""Float building blocks of the latent codec (training path); `codec_int` holds their integer twins.

ELIC side (anchor codec): 5x5 conv/deconv, residual bottleneck block, Cheng-2020 attention block,
checkerboard-masked conv, linear channel ramp. DCVC-RT side (predictive codec): WSiLU, DC block,
stride-2 and sub-pixel up blocks. Per-QP gain vectors for both. Every layer that sits in the
prior path is made of nn.Conv2d / nn.ConvTranspose2d / ReLU / WSiLU / Sigmoid pieces so that
`codec_int.to_int` can freeze it to exact fixed point.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def conv(cin: int, cout: int, k: int = 5, stride: int = 1) -> nn.Conv2d:
    """k x k conv with 'same' padding (stride 2 halves the size)."""
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def deconv(cin: int, cout: int, k: int = 5, stride: int = 1) -> nn.ConvTranspose2d:
    """k x k transposed conv that exactly inverts `conv`'s size change."""
    return nn.ConvTranspose2d(cin, cout, k, stride=stride, padding=k // 2, output_padding=stride - 1)


class ResidualBottleneckBlock(nn.Module):
    """x + [1x1 C->C/2, ReLU, 3x3 C/2->C/2, ReLU, 1x1 C/2->C] (ELIC's transform block)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        mid = ch // 2
        self.conv1, self.conv2, self.conv3 = conv(ch, mid, 1), conv(mid, mid, 3), conv(mid, ch, 1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv3(self.relu(self.conv2(self.relu(self.conv1(x)))))


class ResidualUnit(nn.Module):
    """ReLU(x + [1x1 C->C/2, ReLU, 3x3, ReLU, 1x1 C/2->C]) (unit of the attention block)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        mid = ch // 2
        self.conv = nn.Sequential(conv(ch, mid, 1), nn.ReLU(), conv(mid, mid, 3), nn.ReLU(), conv(mid, ch, 1))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.conv(x))


class AttentionBlock(nn.Module):
    """Cheng-2020 simplified attention: x + trunk(x) * sigmoid(mask(x))."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv_a = nn.Sequential(ResidualUnit(ch), ResidualUnit(ch), ResidualUnit(ch))
        self.conv_b = nn.Sequential(ResidualUnit(ch), ResidualUnit(ch), ResidualUnit(ch), conv(ch, ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_a(x) * torch.sigmoid(self.conv_b(x))


class CheckerboardConv(nn.Conv2d):
    """5x5 conv that only sees anchor positions ((i + j) odd relative to the centre).

    The mask zeroes every tap of the centre's own parity, so a non-anchor position reads only
    anchor neighbours. `plain()` returns an nn.Conv2d with the mask folded in (for `to_int`).
    """

    def __init__(self, cin: int, cout: int, k: int = 5) -> None:
        super().__init__(cin, cout, k, padding=k // 2)
        i, j = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
        self.register_buffer("mask", ((i + j) % 2 == 1).to(torch.float32).expand(cout, cin, k, k).clone(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)

    def plain(self) -> nn.Conv2d:
        """An unmasked nn.Conv2d with the masked weights (same output)."""
        out = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, padding=self.padding)
        out.weight.data.copy_(self.weight.detach() * self.mask)
        out.bias.data.copy_(self.bias.detach())
        return out


def channel_ramp(cin: int, cout: int, min_ch: int, layers: int = 3) -> nn.Sequential:
    """1x1 convs with linearly ramped widths (inner widths floored at min_ch), ReLU between."""
    # CPU even under a meta-device context: the widths are needed as numbers.
    widths = torch.linspace(cin, cout, layers + 1, device="cpu").floor().int().tolist()
    widths = [cin] + [max(w, min_ch) for w in widths[1:-1]] + [cout]
    mods: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        mods += [nn.Conv2d(a, b, 1), nn.ReLU()]
    return nn.Sequential(*mods[:-1])


class WSiLU(nn.Module):
    """x * sigmoid(4x) (DCVC-RT's activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(4.0 * x)


class DCBlock(nn.Module):
    """DCVC-RT depth-conv block: [1x1 adaptor] -> x + DC(x) -> out + FFN(out) [-> + x].

    DC is 1x1, WSiLU, depthwise 3x3, 1x1; FFN is 1x1 to 4C, WSiLU, sum of the two channel
    halves (2C), 1x1 back to C.
    """

    def __init__(self, cin: int, cout: int, shortcut: bool = False) -> None:
        super().__init__()
        self.adaptor = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.shortcut = shortcut
        self.dc = nn.Sequential(nn.Conv2d(cout, cout, 1), WSiLU(), nn.Conv2d(cout, cout, 3, padding=1, groups=cout),
                                nn.Conv2d(cout, cout, 1))
        self.ffn_in = nn.Conv2d(cout, cout * 4, 1)
        self.ffn_out = nn.Conv2d(cout * 2, cout, 1)
        self.act = WSiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.adaptor is not None:
            x = self.adaptor(x)
        out = self.dc(x) + x
        a, b = self.act(self.ffn_in(out)).chunk(2, 1)
        out = self.ffn_out(a + b) + out
        return out + x if self.shortcut else out


class DownBlock(nn.Sequential):
    """2x2 stride-2 conv then a DC block with shortcut (DCVC-RT ResidualBlockWithStride2)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cout, 2, stride=2), DCBlock(cout, cout, shortcut=True))


class UpBlock(nn.Sequential):
    """1x1 conv to 4C + PixelShuffle(2), then a DC block with shortcut (ResidualBlockUpsample)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cout * 4, 1), nn.PixelShuffle(2), DCBlock(cout, cout, shortcut=True))


class QpGain(nn.Module):
    """Per-QP per-channel scale vectors (DCVC-style module bank), one row per QP index.

    Args:
        rows: number of QP indexes.
        channels: channels scaled.
        lo, hi: initial gains of the first and last row, log-spaced between, so that
            untrained models already differ by QP (row 0 = coarsest for an encoder gain).
    """

    def __init__(self, rows: int, channels: int, lo: float = 1.0, hi: float = 1.0) -> None:
        super().__init__()
        init = torch.logspace(math.log10(lo), math.log10(hi), rows) if rows > 1 else torch.tensor([math.sqrt(lo * hi)])
        self.weight = nn.Parameter(init.view(rows, 1).repeat(1, channels))

    def vector(self, qp: int) -> torch.Tensor:
        """The (1, C, 1, 1) gain of QP index `qp`."""
        if not 0 <= qp < self.weight.shape[0]:
            raise ValueError(f"QP index {qp} outside 0..{self.weight.shape[0] - 1}")
        return self.weight[qp].view(1, -1, 1, 1)

    def forward(self, x: torch.Tensor, qp: int) -> torch.Tensor:
        return x * self.vector(qp)
