"""Optional perceptual term: distance of VGG16 features, from a local weights file only.

gvcodec ships and downloads no backbone weights. The term exists only when the user points
PerceptualWeights at a file holding the VGG16 convolution weights in torchvision's key layout
(`features.0.weight`, `features.0.bias`, ..., `features.28.*`; `.pth` or `.safetensors`; other
keys such as `classifier.*` are ignored). The distance is LPIPS' form with uniform channel weights:
per stage (after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) the squared difference of
channel-normalised features, averaged.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into, load_state_file

VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
TAPS = (3, 8, 15, 22, 29)  # indexes in `features` after which a stage's ReLU output is read
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def vgg16_features() -> nn.Sequential:
    """The VGG16 convolution trunk (torchvision's `features` indexes), up to relu5_3."""
    layers: list[nn.Module] = []
    cin = 3
    for v in VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
            cin = v
    return nn.Sequential(*layers)


class PerceptualLoss(nn.Module):
    """VGG16 feature distance of frames; frozen.

    Args:
        weights: path of the local VGG16 weights file.
    """

    def __init__(self, weights: str) -> None:
        super().__init__()
        self.features = vgg16_features()
        state = load_state_file(weights)
        ours = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        if not ours:
            raise ModelError(f"{weights}: no `features.N.weight' keys (torchvision VGG16 layout expected)")
        load_into(self.features, ours, f"VGG16 weights {weights}")
        self.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> "PerceptualLoss":
        return super().train(False)  # always frozen

    def _taps(self, x: Tensor) -> list[Tensor]:
        out = []
        x = (x - self.mean) / self.std
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out.append(x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
            if i >= TAPS[-1]:
                break
        return out

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Distance of videos a, b [B, 3, T, H, W] in [-1, 1] (frames compared one by one)."""
        from gvcodec.train.losses import frames_of

        fa, fb = self._taps(frames_of(a)), self._taps(frames_of(b))
        return sum((x - y).pow(2).sum(1).mean() for x, y in zip(fa, fb)) / len(fa)
