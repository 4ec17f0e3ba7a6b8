"""Per-QP factorized prior for hyper-latents (DCVC-RT's z prior: one density per QP and channel).

The density is DCVC's small cumulative net (four per-channel scalar layers, 11 parameters per
QP and channel): x -> x * softplus(h) + b (+ tanh(x) * tanh(a) except in the last layer), CDF =
sigmoid. `update()` freezes every (QP, channel) density into an integer table stored as a
buffer (via the entropy core's `_IntTableModule`), so coding never evaluates floats: the
table of element (qp, c) is `qp * C + c`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.entropy.bottleneck import _IntTableModule, _np
from gvcodec.entropy.distributions import LIKELIHOOD_BOUND, quantize
from gvcodec.entropy.tables import DEFAULT_PRECISION, DEFAULT_TAIL_MASS, IntTables, stack_tables, trimmed_table_row


class QpFactorizedPrior(_IntTableModule):
    """Factorized prior with one learned density per (QP index, channel).

    Args:
        qp_rows: number of QP indexes.
        channels: channels C of the hyper-latent.
        max_support: tables cover at most -max_support..max_support (beyond: escape coding).
        precision, tail_mass: of the integer tables.
    """

    def __init__(self, qp_rows: int, channels: int, max_support: int = 127,
                 precision: int = DEFAULT_PRECISION, tail_mass: float = DEFAULT_TAIL_MASS) -> None:
        super().__init__(precision, None)
        self.qp_rows, self.channels = qp_rows, channels
        self.max_support, self.tail_mass = max_support, tail_mass
        # DCVC initialises these near zero: softplus(0) ~ 0.69 per layer gives a broad CDF.
        self.h = nn.Parameter(torch.randn(4, qp_rows, channels) * 0.01)
        self.b = nn.Parameter(torch.randn(4, qp_rows, channels) * 0.01)
        self.a = nn.Parameter(torch.randn(3, qp_rows, channels) * 0.01)

    def logits_cdf(self, x: torch.Tensor, qp: int | torch.Tensor) -> torch.Tensor:
        """Logit of the CDF at x (B, C, ...) for QP index qp (int or (B,) tensor of indexes)."""
        shape = (-1, self.channels) + (1,) * (x.dim() - 2)
        for i in range(4):
            h, b = self.h[i][qp].reshape(shape), self.b[i][qp].reshape(shape)
            x = x * F.softplus(h) + b
            if i < 3:
                x = x + torch.tanh(x) * torch.tanh(self.a[i][qp].reshape(shape))
        return x

    def forward(self, z: torch.Tensor, qp: int | torch.Tensor, mode: str = "noise"):
        """Training pass: (z_hat, likelihoods) of the unit bins around z_hat."""
        z_hat = quantize(z, mode)
        lo, hi = self.logits_cdf(z_hat - 0.5, qp), self.logits_cdf(z_hat + 0.5, qp)
        sign = -torch.sign(lo + hi).detach()  # subtract in the small tail for precision
        p = (torch.sigmoid(sign * hi) - torch.sigmoid(sign * lo)).abs()
        return z_hat, p.clamp_min(LIKELIHOOD_BOUND)

    @torch.no_grad()
    def update(self) -> IntTables:
        """Freeze all (QP, channel) densities into integer tables (state-dict buffers).

        Returns:
            The tables; row qp * C + c belongs to QP index qp, channel c.
        """
        m = self.max_support
        h, b, a = (t.detach().to("cpu", torch.float64) for t in (self.h, self.b, self.a))
        edges = torch.arange(-m, m + 2, dtype=torch.float64) - 0.5
        x = edges.view(1, 1, -1).expand(self.qp_rows, self.channels, -1)
        for i in range(4):
            x = x * F.softplus(h[i]).unsqueeze(-1) + b[i].unsqueeze(-1)
            if i < 3:
                x = x + torch.tanh(x) * torch.tanh(a[i]).unsqueeze(-1)
        cdf = torch.sigmoid(x).reshape(self.qp_rows * self.channels, -1).numpy()
        pmf_all = np.clip(np.diff(cdf, axis=1), 0.0, None)
        rows, offsets = [], []
        for pmf in pmf_all:
            row, lo = trimmed_table_row(pmf, self.tail_mass, self.precision)
            rows.append(row)
            offsets.append(lo - m)
        tables = stack_tables(rows, np.array(offsets), self.precision)
        self._set_tables(tables)
        return tables

    def _indexes(self, shape, qp: int) -> np.ndarray:
        if len(shape) < 2 or shape[1] != self.channels:
            raise ValueError(f"expected (B, {self.channels}, ...) symbols, got shape {tuple(shape)}")
        if not 0 <= qp < self.qp_rows:
            raise ValueError(f"QP index {qp} outside 0..{self.qp_rows - 1}")
        idx = qp * self.channels + np.arange(self.channels, dtype=np.int32)
        return np.broadcast_to(idx.reshape(1, -1, *([1] * (len(shape) - 2))), tuple(shape))

    def compress(self, z_hat, qp: int) -> bytes:
        """Code integer hyper-latents (B, C, ...) with the tables of QP index qp."""
        z = _np(z_hat).astype(np.int64)
        return self._coder.encode(z, self._indexes(z.shape, qp), self.int_tables())

    def decompress(self, data: bytes, shape, qp: int, device=None) -> torch.Tensor:
        """Decode int32 hyper-latents of the given shape, on `device` (default: the prior's), raising
        BitstreamError / MismatchError. The coder runs on the CPU; only the symbols travel."""
        out = torch.from_numpy(self._coder.decode(data, self._indexes(tuple(shape), qp), self.int_tables()))
        return out.to(self.h.device if device is None else device)

    def check_decode_qp(self, data: bytes, z_hat, qp: int, what: str = "z") -> None:
        """Decode `data` and raise MismatchError unless it gives z_hat (--CheckDecode=1)."""
        z = _np(z_hat).astype(np.int64)
        self.check_decode(data, z, self._indexes(z.shape, qp), what)
