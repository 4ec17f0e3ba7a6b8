"""Shared fixtures for the entropy tests: one table set per session (building costs ~20 ms)."""

import numpy as np
import pytest

from gvcodec.entropy import GaussianConditional, ScaleTable


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
