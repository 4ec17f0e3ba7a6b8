"""DISTS (Ding et al., "Image Quality Assessment: Unifying Structure and Texture Similarity",
TPAMI 2020), written from the paper.

The VGG16 trunk has its max-pools replaced by L2 pooling: sqrt(g * x^2 + 1e-12) with g the 3x3
normalised outer product of the Hann window (0.5, 1, 0.5), stride 2, padding 1, per channel.
The representation of a picture is the picture itself (3 channels, [0, 1]) followed by the
activations at relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3 of the trunk fed with the
ImageNet-normalised picture (mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)): with
torchvision's widths 3 + 64 + 128 + 256 + 512 + 512 = 1475 channels. Per channel j of stage k,
with global means mu, variances sigma^2 and covariance sigma_xy over the picture:

    texture   l = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)
    structure s = (2 sigma_xy + c2) / (sigma_x^2 + sigma_y^2 + c2),       c1 = c2 = 1e-6

    DISTS = 1 - sum_{k,j} (alpha_kj l_kj + beta_kj s_kj),  alpha and beta divided by their joint sum.

Weights: the VGG16 trunk in torchvision's layout, and alpha / beta (keys ``alpha``, ``beta``,
1475 values each, any shape) from the authors' ``weights.pt`` (shipped in the ``dists-pytorch``
package as ``DISTS_pytorch/weights.pt``, found without importing the package) or a file given
with --DistsWeights. Scores lie in about [0, 1]; 0 for identical pictures; lower is better.
Pictures are measured at their own size (the authors' demo resizes to 256 first; we do not).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.metrics.backbones import load_trunk
from gvcodec.metrics.weight_files import VGG16_FILE, WeightsUnavailable, read_state_dict, take, trunk_path

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
C1 = C2 = 1e-6


class L2Pool(nn.Module):
    """Hann-weighted L2 pooling, stride 2 (DISTS's replacement for max-pooling)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([0.5, 1.0, 0.5])
        g = a[:, None] * a[None, :]
        self.register_buffer("kernel", (g / g.sum()).expand(channels, 1, 3, 3).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x * x, self.kernel, stride=2, padding=1, groups=x.shape[1])
        return (out + 1e-12).sqrt()


class Dists(nn.Module):
    """DISTS of RGB pictures.

    Args:
        trunk: VGG16 trunk built with L2 pooling.
        alpha, beta: texture and structure weights, one per channel of the representation.
    """

    def __init__(self, trunk: nn.Module, alpha: torch.Tensor, beta: torch.Tensor) -> None:
        super().__init__()
        self.trunk = trunk
        self.widths = (3, *trunk.tap_widths)
        n = sum(self.widths)
        if alpha.numel() != n or beta.numel() != n:
            raise WeightsUnavailable(f"DISTS alpha/beta hold {alpha.numel()}/{beta.numel()} values, the trunk "
                                     f"gives {n} channels")
        total = alpha.sum() + beta.sum()
        self.register_buffer("alpha", (alpha.reshape(-1) / total).float())
        self.register_buffer("beta", (beta.reshape(-1) / total).float())
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def representation(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x, *self.trunk((x - self.mean) / self.std)]

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """DISTS of two batches [N, 3, H, W] of RGB in [0, 1]; returns [N]."""
        score = x.new_zeros(x.shape[0])
        start = 0
        for a, b, width in zip(self.representation(x), self.representation(y), self.widths):
            alpha, beta = self.alpha[start:start + width], self.beta[start:start + width]
            start += width
            mx, my = a.mean(dim=(2, 3)), b.mean(dim=(2, 3))
            vx = (a - mx[..., None, None]).pow(2).mean(dim=(2, 3))
            vy = (b - my[..., None, None]).pow(2).mean(dim=(2, 3))
            cov = (a * b).mean(dim=(2, 3)) - mx * my
            texture = (2 * mx * my + C1) / (mx * mx + my * my + C1)
            structure = (2 * cov + C2) / (vx + vy + C2)
            score = score + (texture * alpha).sum(1) + (structure * beta).sum(1)
        return 1 - score


def dists_weights_path(given: str) -> Path:
    """alpha/beta file: `given`, else the dists-pytorch package's weights.pt (not imported)."""
    if given:
        path = Path(given)
        if not path.is_file():
            raise WeightsUnavailable(f"DistsWeights: no file {given}")
        return path
    spec = importlib.util.find_spec("DISTS_pytorch")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "weights.pt"
        if path.is_file():
            return path
    raise WeightsUnavailable("missing DISTS alpha/beta weights.pt: `pip install --no-deps dists-pytorch` "
                             "(for its data file) or give --DistsWeights=FILE")


def build_dists(trunk_file: str = "", weights_file: str = "") -> Dists:
    """DISTS from the VGG16 trunk (or torchvision's cache) and alpha/beta (or dists-pytorch's file).

    Raises:
        WeightsUnavailable: a file is missing or does not fit (one line naming it).
    """
    path = trunk_path(trunk_file, VGG16_FILE, "Vgg16Weights")
    trunk = load_trunk("vgg16", read_state_dict(path, "vgg16 trunk"), path, pool=L2Pool)
    wpath = dists_weights_path(weights_file)
    state = read_state_dict(wpath, "DISTS weights")
    alpha = take(state, "alpha", None, "DISTS weights", wpath)
    beta = take(state, "beta", None, "DISTS weights", wpath)
    return Dists(trunk, alpha, beta).eval()
