"""Round trips of both priors on random and adversarial symbol arrays; skip; check-decode."""

import numpy as np
import pytest
import torch

from gvcodec.entropy import FactorizedPrior, GaussianConditional, ScaleTable, zero_skipped
from gvcodec.errors import BitstreamError, MismatchError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _roundtrip(g, sym, idx, skip=0):
    data = g.compress(sym, idx, skip)
    out = g.decompress(data, torch.from_numpy(np.asarray(idx)))
    assert out.dtype == torch.int32 and tuple(out.shape) == np.asarray(idx).shape
    assert np.array_equal(out.numpy(), np.asarray(sym))
    return data


def test_gaussian_random_latent_round_trips_close_to_the_ideal_rate(gaussian, latent):
    s, x = latent(50_000)
    idx = gaussian.indexes_from_float(torch.from_numpy(s)).numpy()
    data = _roundtrip(gaussian, x, idx)
    assert len(data) * 8 < gaussian.estimate_bits(x, idx) * 1.002 + 256


@pytest.mark.parametrize(
    "case",
    ["zeros", "outliers", "int32_extremes", "all_escapes", "one_element", "single_table"],
)
def test_gaussian_adversarial_arrays_round_trip(gaussian, case):
    rng = np.random.default_rng(1)
    n = 2000
    idx = rng.integers(0, 128, n).astype(np.int32)
    sym = np.zeros(n, dtype=np.int32)
    if case == "outliers":
        sym = rng.integers(-3, 4, n).astype(np.int32)
        sym[::50] = rng.integers(-(10**6), 10**6, sym[::50].size)
    elif case == "int32_extremes":
        sym[::2], sym[1::2] = INT32_MAX, INT32_MIN
    elif case == "all_escapes":
        sym = (gaussian.table_offsets.numpy()[idx] - 1 - rng.integers(0, 70000, n)).astype(np.int32)
    elif case == "one_element":
        idx, sym = idx[:1], np.array([12345], np.int32)
    elif case == "single_table":
        idx[:] = 127
        sym = rng.integers(-300, 300, n).astype(np.int32)
    _roundtrip(gaussian, sym, idx)


def test_empty_and_multidimensional_tensors_round_trip(gaussian):
    _roundtrip(gaussian, np.zeros((0, 4), np.int32), np.zeros((0, 4), np.int32))
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 128, (2, 3, 5, 7)).astype(np.int32)
    _roundtrip(gaussian, rng.integers(-5, 6, idx.shape).astype(np.int32), idx)


def test_skipped_elements_cost_nothing_and_the_threshold_travels_in_the_payload(gaussian, latent):
    s, x = latent(20_000, seed=4, lo=0.05, hi=2.0)
    idx = gaussian.indexes_from_float(torch.from_numpy(s)).numpy()
    skip = gaussian.skip_index_for(0.3)
    assert 0 < (idx < skip).mean() < 1
    with pytest.raises(ValueError):
        gaussian.compress(x, idx, skip)  # skipped elements must be zeroed first, never silently
    xz = zero_skipped(x, idx, skip)
    full = gaussian.compress(xz, idx, 0)
    data = _roundtrip(gaussian, xz, idx, skip)  # decompress is not told the skip index
    assert len(data) < len(full)


def test_wrong_tables_are_reported_as_a_mismatch(gaussian):
    other = GaussianConditional(ScaleTable(0.11, 64.0, 64))
    idx = np.zeros(10, np.int32)
    data = gaussian.compress(np.ones(10, np.int32), idx)
    with pytest.raises(MismatchError):
        other.decompress(data, torch.from_numpy(idx))


def test_check_decode_accepts_its_own_output_and_names_a_mismatch(gaussian, latent):
    s, x = latent(5000, seed=5)
    idx = gaussian.indexes_from_float(torch.from_numpy(s))
    data = gaussian.compress(x, idx)
    gaussian.check_decode(data, x, idx, "frame 0 y")
    bad = x.copy()
    bad[17] += 1
    with pytest.raises(MismatchError, match="frame 0 y"):
        gaussian.check_decode(data, bad, idx, "frame 0 y")


def test_fixed_point_indexes_drive_coding_end_to_end(gaussian, latent):
    s, x = latent(5000, seed=6)
    scale_q = torch.floor(torch.from_numpy(s) * 256)
    idx = gaussian.indexes_from_fixed(scale_q)
    _roundtrip(gaussian, x, idx.numpy())


@pytest.fixture(scope="module")
def factorized():
    torch.manual_seed(0)
    fp = FactorizedPrior(6, max_support=64)
    fp.update()
    return fp


def test_factorized_prior_round_trips_random_outlier_and_empty_batches(factorized):
    z = torch.round(torch.randn(2, 6, 5, 7) * 4).to(torch.int32)
    z[0, 0, 0, 0], z[1, 5, 4, 6], z[0, 3, 2, 2] = INT32_MAX, INT32_MIN, 65
    for t in (z, torch.zeros_like(z), torch.zeros(0, 6, 5, 7, dtype=torch.int32)):
        data = factorized.compress(t)
        assert torch.equal(factorized.decompress(data, t.shape), t)
        factorized.check_decode(data, t)


def test_factorized_tables_live_in_the_state_dict(factorized):
    z = torch.round(torch.randn(1, 6, 4, 4) * 3)
    data = factorized.compress(z)
    fresh = FactorizedPrior(6, max_support=64)
    with pytest.raises(RuntimeError):
        fresh.compress(z)  # not frozen yet
    fresh.load_state_dict(factorized.state_dict())
    assert torch.equal(fresh.decompress(data, z.shape), z.to(torch.int32))


def test_training_forward_gives_likelihoods_in_unit_interval(factorized, gaussian):
    z = torch.randn(2, 6, 4, 4) * 3
    z_hat, lik = factorized(z)
    assert z_hat.shape == z.shape and torch.all((lik > 0) & (lik <= 1))
    y = torch.randn(2, 6, 4, 4, requires_grad=True)
    y_hat, lik = gaussian(y, torch.rand(2, 6, 4, 4) + 0.1, mode="ste")
    (-torch.log2(lik).sum()).backward()
    assert torch.all((lik > 0) & (lik <= 1)) and y.grad is not None


def test_non_integer_inputs_are_refused(factorized):
    with pytest.raises(ValueError):
        factorized.compress(torch.full((1, 6, 2, 2), 0.5))
    with pytest.raises(BitstreamError):
        factorized.decompress(b"\x01", (1, 6, 2, 2))


def test_slot_zero_only_input_gives_an_empty_payload_that_decodes():
    """ANS coding only slot 0 from the initial state writes no word; that empty stream is valid."""
    from gvcodec.entropy.coder import ConstrictionAnsBackend
    from gvcodec.entropy.tables import IntTables

    tables = IntTables(np.array([[1 << 15, (1 << 15) - 1, 1]]), np.array([0]), np.array([2]), precision=16)
    backend = ConstrictionAnsBackend()
    slots = np.zeros(5, dtype=np.int32)
    idx = np.zeros(5, dtype=np.int32)
    data = backend.encode(slots, idx, tables)
    assert data == b""
    assert np.array_equal(backend.decode(data, idx, tables), slots)
