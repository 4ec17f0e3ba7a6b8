"""Float priors for training: likelihoods only, never used to pick a coding table.

- ``FactorizedDensity``: Balle et al. 2018 (appendix 6.1) non-parametric per-channel
  density, a monotone cumulative MLP per channel; its CDF is frozen into integer tables
  by ``FactorizedPrior.update()``.
- ``gaussian_likelihood``: P(round(y) = k) under N(mean, scale^2), bounded below.
- ``quantize``: additive uniform noise (training) or rounding (evaluation).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

LIKELIHOOD_BOUND = 1e-9


def quantize(x: torch.Tensor, mode: str, means: torch.Tensor | None = None) -> torch.Tensor:
    """Quantize for training or evaluation.

    Args:
        x: values.
        mode: "noise" (x + U(-0.5, 0.5)), "ste" (round with a straight-through gradient)
            or "round".
        means: optional offsets; rounding is done on ``x - means``.

    Returns:
        The quantized (or noisy) values, means added back.
    """
    m = means if means is not None else 0.0
    if mode == "noise":
        return x + torch.empty_like(x).uniform_(-0.5, 0.5)
    r = x - m
    if mode == "ste":
        return r + (torch.round(r) - r).detach() + m
    if mode == "round":
        return torch.round(r) + m
    raise ValueError(f"unknown quantization mode {mode!r}")


def _standard_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x * (2**-0.5))


def gaussian_likelihood(
    y_hat: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None, scale_min: float = 0.11
) -> torch.Tensor:
    """Probability mass of the unit bin around ``y_hat`` under N(means, scales^2).

    Args:
        y_hat: quantized (or noisy) values.
        scales: standard deviations (clamped below at ``scale_min``, the table's first level).
        means: optional means.
        scale_min: lower bound on the scale.

    Returns:
        Likelihoods, bounded below by 1e-9 so the rate stays finite.
    """
    v = (y_hat - means) if means is not None else y_hat
    s = scales.clamp_min(scale_min)
    # Evaluate on the lower tail (|v|) so tiny probabilities keep their precision.
    a = v.abs()
    p = _standard_normal_cdf((0.5 - a) / s) - _standard_normal_cdf((-0.5 - a) / s)
    return p.clamp_min(LIKELIHOOD_BOUND)


class FactorizedDensity(nn.Module):
    """Per-channel learned cumulative density (monotone MLP), Balle 2018 style.

    Args:
        channels: number of channels C.
        filters: hidden widths of the per-channel MLP.
        init_scale: initial spread of the density.
    """

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0) -> None:
        super().__init__()
        self.channels = channels
        widths = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(widths) - 1):
            # softplus(init) * fan-in == scale, so the initial CDF spans ~init_scale.
            init = math.log(math.expm1(1.0 / scale / widths[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, widths[i + 1], widths[i]), init)))
            self.biases.append(nn.Parameter(torch.empty(channels, widths[i + 1], 1).uniform_(-0.5, 0.5)))
            if i < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))

    def logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the CDF at ``x`` of shape (C, 1, N); returns (C, 1, N)."""
        logits = x
        for i, m in enumerate(self.matrices):
            logits = torch.matmul(F.softplus(m), logits) + self.biases[i]
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i]) * torch.tanh(logits)
        return logits

    def likelihood(self, z_hat: torch.Tensor) -> torch.Tensor:
        """Mass of the unit bin around each value of ``z_hat`` (B, C, ...)."""
        c = z_hat.shape[1]
        flat = z_hat.transpose(0, 1).reshape(c, 1, -1)
        lower = self.logits_cdf(flat - 0.5)
        upper = self.logits_cdf(flat + 0.5)
        # Subtract in the tail where the sigmoid is small, for precision.
        sign = -torch.sign(lower + upper).detach()
        p = (torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower)).abs()
        shape = (c, z_hat.shape[0], *z_hat.shape[2:])
        return p.reshape(shape).transpose(0, 1).clamp_min(LIKELIHOOD_BOUND)

    @torch.no_grad()
    def bin_masses(self, lo: int, hi: int) -> torch.Tensor:
        """Float64 masses of the integers lo..hi per channel, plus the tail mass last.

        Args:
            lo, hi: integer range to tabulate.

        Returns:
            (C, hi - lo + 2) float64: masses of lo..hi, then 1 - their sum.
        """
        # A float64 copy: tables are built once, so precision beats speed here.
        ref = copy.deepcopy(self).to(device="cpu", dtype=torch.float64)
        edges = torch.arange(lo, hi + 2, dtype=torch.float64) - 0.5
        x = edges.expand(self.channels, 1, -1).contiguous()
        cdf = torch.sigmoid(ref.logits_cdf(x))[:, 0, :]
        pmf = (cdf[:, 1:] - cdf[:, :-1]).clamp_min(0.0)
        tail = (1.0 - pmf.sum(dim=1, keepdim=True)).clamp_min(0.0)
        return torch.cat([pmf, tail], dim=1)
