"""The convolutional trunks of AlexNet and VGG16 as the perceptual metrics use them (no torchvision).

The layer layout follows the papers (Krizhevsky 2014 "one weird trick" AlexNet, Simonyan and
Zisserman 2015 VGG16 configuration D); the state-dict keys follow torchvision's ``features``
stack, so torchvision's ImageNet files load as they are:

* AlexNet ``features.{0,3,6,8,10}.{weight,bias}``: conv 11x11/4 pad 2, max-pool 3/2, conv 5x5 pad 2,
  max-pool 3/2, then three 3x3 pad 1 convs, every conv followed by ReLU.
* VGG16 ``features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.{weight,bias}``: 3x3 pad 1 convs with
  ReLU in five blocks of 2, 2, 3, 3, 3, each block but the last followed by a 2x2/2 max-pool.

Channel widths are read from the weight shapes (torchvision's are 64-192-384-256-256 and
64-128-256-512-512), so small stand-in trunks in the same layout work too (the tests use them).
`forward` returns the activations after the ReLUs the metrics tap ("relu1".."relu5").
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.metrics.weight_files import take

# (feature index of the conv, kernel, stride, padding, max-pool (kernel, stride) before the conv or None,
#  tap name after its ReLU or None)
ALEXNET_LAYERS = (
    (0, 11, 4, 2, None, "relu1"),
    (3, 5, 1, 2, (3, 2), "relu2"),
    (6, 3, 1, 1, (3, 2), "relu3"),
    (8, 3, 1, 1, None, "relu4"),
    (10, 3, 1, 1, None, "relu5"),
)
VGG16_LAYERS = (
    (0, 3, 1, 1, None, None), (2, 3, 1, 1, None, "relu1"),
    (5, 3, 1, 1, (2, 2), None), (7, 3, 1, 1, None, "relu2"),
    (10, 3, 1, 1, (2, 2), None), (12, 3, 1, 1, None, None), (14, 3, 1, 1, None, "relu3"),
    (17, 3, 1, 1, (2, 2), None), (19, 3, 1, 1, None, None), (21, 3, 1, 1, None, "relu4"),
    (24, 3, 1, 1, (2, 2), None), (26, 3, 1, 1, None, None), (28, 3, 1, 1, None, "relu5"),
)
ARCHITECTURES = {"alexnet": ALEXNET_LAYERS, "vgg16": VGG16_LAYERS}


class ConvTrunk(nn.Module):
    """A plain conv/ReLU/max-pool stack; `forward` returns the tapped activations in order.

    Args:
        layers: one of ``ARCHITECTURES``.
        widths: output channels of each conv (input is RGB).
        pool: None for the max-pools the classifiers were trained with, or a factory
            ``channels -> module`` for another down-sampling (DISTS swaps in L2 pooling).
    """

    def __init__(self, layers: tuple, widths: list[int], pool=None) -> None:
        super().__init__()
        self.layers = layers
        self.pools = nn.ModuleDict()
        self.features = nn.ModuleDict()
        cin = 3
        for (index, k, stride, pad, before, _), cout in zip(layers, widths):
            self.features[str(index)] = nn.Conv2d(cin, cout, k, stride=stride, padding=pad)
            if before is not None and pool is not None:
                self.pools[str(index)] = pool(cin)
            cin = cout
        self.widths = tuple(widths)

    @property
    def tap_widths(self) -> tuple[int, ...]:
        """Channels of each tapped activation."""
        return tuple(w for (_, _, _, _, _, tap), w in zip(self.layers, self.widths) if tap)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for index, _, _, _, before, tap in self.layers:
            if before is not None:
                key = str(index)
                x = self.pools[key](x) if key in self.pools else F.max_pool2d(x, before[0], before[1])
            x = F.relu(self.features[str(index)](x))
            if tap:
                taps.append(x)
        return taps


def load_trunk(arch: str, state: dict, path: Path, pool=None) -> ConvTrunk:
    """Build the `arch` trunk with the widths and weights of a torchvision-layout state dict.

    Args:
        arch: ``"alexnet"`` or ``"vgg16"``.
        state: tensors (from :func:`gvcodec.metrics.weight_files.read_state_dict`); keys other than
            ``features.N.*`` (the classifier) are ignored.
        path: the file, for error messages.
        pool: see :class:`ConvTrunk`.

    Raises:
        WeightsUnavailable: a conv is missing or its shape does not fit the layout.
    """
    layers = ARCHITECTURES[arch]
    what = f"{arch} trunk"
    widths, cin = [], 3
    for index, k, *_ in layers:
        w = take(state, f"features.{index}.weight", (None, cin, k, k), what, path)
        take(state, f"features.{index}.bias", (w.shape[0],), what, path)
        widths.append(w.shape[0])
        cin = w.shape[0]
    trunk = ConvTrunk(layers, widths, pool)
    with torch.no_grad():
        for index, *_ in layers:
            conv = trunk.features[str(index)]
            conv.weight.copy_(state[f"features.{index}.weight"])
            conv.bias.copy_(state[f"features.{index}.bias"])
    return trunk.eval().requires_grad_(False)
