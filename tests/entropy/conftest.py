"""Shared fixtures for the entropy tests: one table set per session, a tiny hyperprior codec.

MiniCodec: z (integer hyper-latents) -> FactorizedPrior; fixed-point hyper-decoder(z) -> scale
indexes -> GaussianConditional with skip; float synthesis after the prior path (never feeds back).
"""

import numpy as np
import pytest
import torch
from torch import nn

from gvcodec.entropy import FactorizedPrior, GaussianConditional, ScaleTable, symbol_hash, zero_skipped
from gvcodec.entropy.fixedpoint import QFormat, from_float, to_fixed

Q = QFormat(weight_frac=10, act_frac=8, act_bits=22)


@pytest.fixture(scope="session")
def gaussian() -> GaussianConditional:
    return GaussianConditional(ScaleTable(0.11, 64.0, 128))


def _gaussian_latent(n: int, seed: int = 0, lo: float = 0.11, hi: float = 64.0):
    """Scales log-uniform in [lo, hi] and symbols round(N(0, s^2)) (numpy)."""
    rng = np.random.default_rng(seed)
    s = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    return s, np.round(rng.normal(0.0, s)).astype(np.int32)


@pytest.fixture(scope="session")
def latent():
    """Factory: latent(n, seed=0, lo=0.11, hi=64.0) -> (scales, symbols)."""
    return _gaussian_latent




class MiniCodec:
    def __init__(self, channels: int = 8) -> None:
        torch.manual_seed(0)
        self.prior = FactorizedPrior(channels, max_support=64)
        self.prior.update()
        hyper = nn.Sequential(
            nn.ConvTranspose2d(channels, 32, 4, 2, 1), nn.LeakyReLU(0.125),
            nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, channels, 3, 1, 1), nn.Softplus(),
        )
        with torch.no_grad():
            hyper[4].weight.mul_(4.0)
        self.hyper_float = hyper
        self.hyper = from_float(hyper, Q)
        self.gaussian = GaussianConditional(index_frac_bits=Q.act_frac)
        self.skip = self.gaussian.skip_index_for(0.15)
        self.synthesis = nn.Conv2d(channels, 3, 3, 1, 1)

    def indexes(self, z: torch.Tensor) -> torch.Tensor:
        return self.gaussian.indexes_from_fixed(self.hyper(to_fixed(z, 0)))

    def encode(self, z: torch.Tensor, y: torch.Tensor, check: bool = True):
        z = z.to(torch.int32)
        z_bytes = self.prior.compress(z)
        idx = self.indexes(z)  # derived exactly as the decoder will
        sym = zero_skipped(self.gaussian.symbols(y), idx, self.skip)
        y_bytes = self.gaussian.compress(sym, idx, self.skip)
        if check:
            self.gaussian.check_decode(y_bytes, sym, idx, "y")
        return z_bytes, y_bytes, symbol_hash(z, sym)

    @torch.no_grad()
    def decode(self, z_bytes: bytes, y_bytes: bytes, z_shape, perturb: float = 0.0):
        z = self.prior.decompress(z_bytes, z_shape)
        sym = self.gaussian.decompress(y_bytes, self.indexes(z))
        y_hat = sym.to(torch.float32)
        if perturb:
            g = torch.Generator().manual_seed(1)
            y_hat = y_hat * (1 + perturb * torch.randn(y_hat.shape, generator=g))
        return z, sym, symbol_hash(z, sym), self.synthesis(y_hat)

    def sample(self, batch: int, h: int = 12, w: int = 12, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        z = torch.round(torch.randn(batch, 8, h, w, generator=g) * 3)
        with torch.no_grad():
            scales = self.hyper_float(z)
        y = torch.randn(scales.shape, generator=g) * scales
        return z, y


@pytest.fixture(scope="session")
def codec() -> MiniCodec:
    """A tiny hyperprior codec made of gvcodec.entropy parts (see MiniCodec)."""
    return MiniCodec()
