"""LPIPS v0.1 (Zhang et al., CVPR 2018) with the AlexNet or VGG16 trunk, written from the paper.

For pictures x, y (RGB in [0, 1]):

    d(x, y) = sum over taps l of  mean over (h, w) of  sum over c of  w_l[c] * (u_l(x) - u_l(y))[c, h, w]^2

where u_l is the trunk activation at tap l divided by its L2 norm over channels (plus 1e-10) and
w_l >= 0 are the learned linear heads. Before the trunk the pictures go to [-1, 1] and through the
v0.1 scaling layer ((x - shift) / scale, shift (-0.030, -0.088, -0.188), scale (0.458, 0.448, 0.450)).
Taps: AlexNet relu1..relu5; VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.

Weights: the trunk in torchvision's layout (see :mod:`gvcodec.metrics.backbones`, located by
:mod:`gvcodec.metrics.weight_files`), the heads from the v0.1 ``alex.pth`` / ``vgg.pth`` files with keys
``lin{l}.model.1.weight`` of shape 1 x C_l x 1 x 1. The score is 0 for identical pictures and
grows with perceived difference (typically 0..0.7); lower is better.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gvcodec.metrics.backbones import load_trunk
from gvcodec.metrics.weight_files import (
    ALEXNET_FILE,
    VGG16_FILE,
    WeightsUnavailable,
    lpips_heads_path,
    read_state_dict,
    take,
    trunk_path,
)

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NETS = {"alex": ("alexnet", ALEXNET_FILE, "AlexNetWeights"), "vgg": ("vgg16", VGG16_FILE, "Vgg16Weights")}
EPS = 1e-10


def unit_normalize(x: torch.Tensor) -> torch.Tensor:
    """Divide each feature vector (over channels) by its L2 norm."""
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)


class Lpips(nn.Module):
    """LPIPS distance of RGB pictures.

    Args:
        trunk: a :class:`~gvcodec.metrics.backbones.ConvTrunk` with five taps.
        heads: five non-negative weight vectors, one per tap, of the taps' widths.
    """

    def __init__(self, trunk: nn.Module, heads: list[torch.Tensor]) -> None:
        super().__init__()
        widths = trunk.tap_widths
        if len(heads) != len(widths) or any(h.numel() != w for h, w in zip(heads, widths)):
            raise WeightsUnavailable(f"LPIPS heads of widths {[h.numel() for h in heads]} do not fit a trunk "
                                     f"with taps of {list(widths)} channels")
        self.trunk = trunk
        self.heads = nn.ParameterList(nn.Parameter(h.reshape(1, -1, 1, 1).float(), requires_grad=False)
                                      for h in heads)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distances of two batches [N, 3, H, W] of RGB in [0, 1]; returns [N]."""
        fx = self.trunk((2 * x - 1 - self.shift) / self.scale)
        fy = self.trunk((2 * y - 1 - self.shift) / self.scale)
        total = x.new_zeros(x.shape[0])
        for a, b, w in zip(fx, fy, self.heads):
            total = total + ((unit_normalize(a) - unit_normalize(b)).pow(2) * w).sum(1).mean(dim=(1, 2))
        return total


def load_heads(path: Path, widths: tuple[int, ...]) -> list[torch.Tensor]:
    """The five linear heads of a v0.1 file (keys lin0.model.1.weight ..)."""
    state = read_state_dict(path, "LPIPS heads")
    return [take(state, f"lin{i}.model.1.weight", (1, w, 1, 1), "LPIPS heads", path) for i, w in enumerate(widths)]


def build_lpips(net: str, trunk_file: str = "", heads_dir: str = "") -> Lpips:
    """LPIPS-`net` from the trunk file (or torchvision's cache) and the heads (or the lpips package).

    Args:
        net: ``"alex"`` or ``"vgg"``.
        trunk_file: torchvision-layout trunk; empty = torchvision's hub cache file.
        heads_dir: folder with ``alex.pth`` / ``vgg.pth``; empty = the installed lpips package's data.

    Raises:
        WeightsUnavailable: a file is missing or does not fit (one line naming it).
    """
    arch, default_file, option = NETS[net]
    path = trunk_path(trunk_file, default_file, option)
    trunk = load_trunk(arch, read_state_dict(path, f"{arch} trunk"), path)
    heads = load_heads(lpips_heads_path(heads_dir, net), trunk.tap_widths)
    return Lpips(trunk, heads).eval()
