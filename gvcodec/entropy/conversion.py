"""What freezing the prior path to fixed point costs in rate.

Three rates of the same latent symbols are compared:
- ideal: -log2 of the discretized Gaussian with the float network's exact scales;
- table (float): the float scales snapped to the scale table, integer tables;
- fixed: the fixed-point network's scales snapped to the table (what is actually coded).
``fixed / table - 1`` is the cost of the conversion itself; ``table / ideal - 1`` is the
cost of the scale table.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gvcodec.entropy.bottleneck import GaussianConditional
from gvcodec.entropy.distributions import gaussian_likelihood
from gvcodec.entropy.fixedpoint import to_fixed


@dataclass(frozen=True)
class ConversionCost:
    """Rates (bits) and relative costs of the fixed-point conversion.

    Attributes:
        bits_ideal, bits_table, bits_fixed: see the module docstring.
        table_cost: bits_table / bits_ideal - 1.
        conversion_cost: bits_fixed / bits_table - 1.
        index_agreement: fraction of elements whose table index is unchanged by conversion.
    """

    bits_ideal: float
    bits_table: float
    bits_fixed: float
    table_cost: float
    conversion_cost: float
    index_agreement: float


@torch.no_grad()
def conversion_rate_cost(
    float_net: nn.Module,
    int_net: nn.Module,
    net_input: torch.Tensor,
    symbols: torch.Tensor,
    gaussian: GaussianConditional,
    input_frac: int = 0,
) -> ConversionCost:
    """Measure the rate cost of replacing ``float_net`` by its fixed-point twin.

    Args:
        float_net: trained float prior network; outputs scales (real units).
        int_net: ``from_float(float_net, ...)``; outputs scales in Q(gaussian.index_frac_bits).
        net_input: the network input (e.g. decoded hyper-latent symbols), real values.
        symbols: the latent symbols coded with those scales (zero-mean residuals).
        gaussian: the conditional prior whose integer tables code the symbols.
        input_frac: fractional bits of ``net_input`` for the fixed-point network.

    Returns:
        The costs.
    """
    scales = float_net(net_input.to(torch.float32)).to(torch.float64)
    bits_ideal = float(-torch.log2(gaussian_likelihood(symbols.to(torch.float64), scales)).sum())
    idx_float = gaussian.indexes_from_float(scales)
    idx_fixed = gaussian.indexes_from_fixed(int_net(to_fixed(net_input, input_frac)))
    bits_table = gaussian.estimate_bits(symbols, idx_float)
    bits_fixed = gaussian.estimate_bits(symbols, idx_fixed)
    return ConversionCost(
        bits_ideal=bits_ideal,
        bits_table=bits_table,
        bits_fixed=bits_fixed,
        table_cost=bits_table / bits_ideal - 1.0,
        conversion_cost=bits_fixed / bits_table - 1.0,
        index_agreement=float((idx_float == idx_fixed).to(torch.float64).mean()),
    )
