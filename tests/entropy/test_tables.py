"""Integer tables: invariants, index lookup by integer comparison, exactness of the coder's model."""

import hashlib

import numpy as np
import pytest

from gvcodec.entropy.coder import constriction_model_freqs
from gvcodec.entropy.symbols import SymbolCoder
from gvcodec.entropy.tables import IntTables, ScaleTable, index_from_fixed, index_from_float, quantize_pmf


@pytest.mark.parametrize("levels", [64, 128, 256])
def test_every_table_sums_to_the_precision_and_gives_every_slot_mass(levels):
    t = ScaleTable(0.11, 64.0, levels).build(precision=16)
    assert t.num_tables == levels
    assert np.all(t.freqs.sum(axis=1) == 1 << 16)
    for k in range(levels):
        assert np.all(t.row(k) >= 1)
    # Support grows with the scale, and every table keeps the escape slot at the end.
    assert np.all(np.diff(t.lengths) >= 0) and t.lengths[-1] > 700


def test_quantize_pmf_is_deterministic_and_keeps_tiny_masses_codable():
    pmf = np.array([0.5, 0.25, 1e-15, 0.0, 0.25])
    a, b = quantize_pmf(pmf, 16), quantize_pmf(pmf.copy(), 16)
    assert np.array_equal(a, b) and a.sum() == 1 << 16 and a.min() == 1
    assert abs(a[0] / 65536 - 0.5) < 1e-4


def test_invalid_tables_are_refused():
    with pytest.raises(ValueError):
        IntTables(np.array([[3, 3, 0]]), np.array([0]), np.array([1]), 3)  # sums to 6, not 8


def test_fixed_point_index_uses_integer_thresholds_with_exact_boundaries():
    st = ScaleTable(0.11, 64.0, 128)
    thr = st.fixed_thresholds(8)
    # A value equal to a threshold belongs to the upper level, one below to the lower level.
    assert np.array_equal(index_from_fixed(thr, thr), np.arange(1, 128))
    assert np.array_equal(index_from_fixed(thr - 1, thr), np.arange(0, 127))
    # A fixed-point scale picks exactly the level its real value q / 2**8 picks.
    q = np.arange(0, 100 * 256, 3)
    assert np.array_equal(index_from_fixed(q, thr), index_from_float(q / 256.0, st))


def test_skip_index_counts_levels_below_the_threshold():
    st = ScaleTable(0.11, 64.0, 128)
    k = st.skip_index(0.2)
    assert st.scales[k - 1] < 0.2 <= st.scales[k]


def test_constriction_model_is_the_exact_integer_function_of_the_table():
    """The bits constriction spends match -log2 of our integer reconstruction of its model."""
    row = np.array([1, 7, 300, 60000, 5000, 227, 1], dtype=np.int64)
    f24 = constriction_model_freqs(row)
    assert f24.sum() == 1 << 24 and f24.min() >= 1
    rng = np.random.default_rng(3)
    slots = rng.choice(len(row), size=200_000, p=row / row.sum()).astype(np.int32)
    t = IntTables(row[None, :].astype(np.int32), np.array([0]), np.array([len(row) - 1]), 16)
    data = SymbolCoder().backend.encode(slots, np.zeros(slots.size, np.int32), t)
    predicted = float(np.sum(24 - np.log2(f24[slots])))
    # ANS costs the information content plus at most the final 64-bit state (+ word rounding).
    assert 0 <= len(data) * 8 - predicted <= 96


GOLDEN = "c203cdc5e99de50bba25ef5f0bc45a3e0c0250c36f8280bf3f12d89cbf3eedef"


def _lcg(n: int, seed: int) -> np.ndarray:
    """Platform-independent pseudo-random uint32 (64-bit LCG, high bits)."""
    out, x = [], seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(x >> 33)
    return np.array(out, dtype=np.uint64)


def test_payload_bytes_are_frozen_across_versions():
    """Golden stream: a change in constriction's model derivation or our format must be deliberate."""
    freqs = np.zeros((3, 6), dtype=np.int32)
    freqs[0, :4] = [40000, 20000, 5000, 536]
    freqs[1, :6] = [1, 1000, 60000, 4000, 534, 1]
    freqs[2, :3] = [32768, 32767, 1]
    t = IntTables(freqs, np.array([0, -2, 5]), np.array([3, 5, 2]), 16)
    r = _lcg(3000, 12345)
    idx = (r % 3).astype(np.int32)
    sym = ((r >> np.uint64(2)) % 4).astype(np.int32) + t.offsets[idx]
    sym[::97] = 1000 + np.arange(sym[::97].size)  # escapes
    data = SymbolCoder().encode(sym, idx, t, skip_index=0)
    assert np.array_equal(SymbolCoder().decode(data, idx, t), sym)
    assert hashlib.sha256(data).hexdigest() == GOLDEN
