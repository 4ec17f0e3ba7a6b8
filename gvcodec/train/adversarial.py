"""Optional adversarial term: a small 3D patch discriminator with hinge losses.

Built only when AdvWeight > 0. The discriminator sees [B, 3, T, H, W] clips in [-1, 1] and
scores overlapping spatio-temporal patches; its width is AdvChannels. It has its own AdamW,
saved in the checkpoint sidecar.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class PatchDiscriminator3d(nn.Module):
    """Three stride-2 (space) 3x4x4 convs with LeakyReLU, then a 1-channel 3x3x3 score map.

    Args:
        channels: width of the first layer (doubles twice).
    """

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        c = channels
        sn = nn.utils.parametrizations.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv3d(3, c, (3, 4, 4), (1, 2, 2), (1, 1, 1))), nn.LeakyReLU(0.2),
            sn(nn.Conv3d(c, 2 * c, (3, 4, 4), (1, 2, 2), (1, 1, 1))), nn.LeakyReLU(0.2),
            sn(nn.Conv3d(2 * c, 4 * c, (3, 4, 4), (1, 2, 2), (1, 1, 1))), nn.LeakyReLU(0.2),
            nn.Conv3d(4 * c, 1, 3, 1, 1))

    def forward(self, video: Tensor) -> Tensor:
        return self.net(video.float())


def discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Hinge loss of the discriminator."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def generator_loss(fake_scores: Tensor) -> Tensor:
    """Hinge loss of the generator (the codec/decoder side)."""
    return -fake_scores.mean()
