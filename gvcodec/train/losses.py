"""Loss terms shared by the stages: rate, distortions, MS-SSIM and conditional flow matching.

Pixel terms take videos [B, 3, T, H, W] in [-1, 1] and measure in [0, 1] units (MSE / 4), so
lambda values read like CompressAI's (lambda * 255^2 * MSE in 8-bit units). Latent terms are in
normalised latent units.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def bits_per_pixel(bits: list[Tensor], video: Tensor) -> Tensor:
    """Total bits of a batch (per-latent sums) over its pixels B * T * H * W."""
    b, _, t, h, w = video.shape
    return torch.stack([x.float() for x in bits]).sum() / float(b * t * h * w)


def pixel_mse(a: Tensor, b: Tensor) -> Tensor:
    """MSE in [0, 1] units of two videos in [-1, 1]."""
    return F.mse_loss(a.float(), b.float()) * 0.25


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR (dB, peak 1) of two videos in [-1, 1], the first clamped like a decoder output."""
    mse = float(pixel_mse(a.detach().clamp(-1.0, 1.0), b.detach()))
    return 10.0 * math.log10(1.0 / mse) if mse > 0 else 100.0


def frames_of(video: Tensor) -> Tensor:
    """[B, C, T, H, W] -> [B*T, C, H, W] in [0, 1]."""
    b, c, t, h, w = video.shape
    return ((video.float() + 1.0) * 0.5).transpose(1, 2).reshape(b * t, c, h, w)


def msssim_loss(a: Tensor, b: Tensor) -> Tensor:
    """1 - MS-SSIM of the frames (as many scales as the crop allows, gvcodec.metrics' definition)."""
    from gvcodec.metrics.msssim import _reduced_msssim, num_scales

    x, y = frames_of(b), frames_of(a).clamp(0.0, 1.0)
    return 1.0 - _reduced_msssim(x, y, num_scales(*x.shape[-2:]))


def cfm_path(x1: Tensor, xc: Tensor, noise: Tensor, t: Tensor, start_mix: float) -> tuple[Tensor, Tensor]:
    """Point and target velocity of the conditional flow (gvcodec.models.gnvc_vd.flow's time convention).

    Refinement starts at flow time t0 = 1 - start_mix from x_t0 = start_mix * x_c + t0 * noise and
    integrates to time 0; the straight path from x_t0 to the clean latents x_1 is
    x_t = x_1 + (t / t0) (x_t0 - x_1), with constant velocity dx/dt = (x_t0 - x_1) / t0 (the seed's
    v = (x_1 - x_0) - t_N/(1 - t_N)(x_c - x_1) in the opposite time direction).

    Args:
        x1: clean latents [B, C, T, h, w].
        xc: decoded latents (detached by the caller: the target must not move with the codec).
        noise: standard normal, shape of x1.
        t: flow times in (0, t0], shape [B].
        start_mix: weight of x_c in the start point.

    Returns:
        (x_t, target velocity).
    """
    t0 = 1.0 - start_mix
    tt = t.view(-1, *([1] * (x1.dim() - 1)))
    x_start = start_mix * xc + t0 * noise
    velocity = (x_start - x1) / t0
    return x1 + tt * velocity, velocity
