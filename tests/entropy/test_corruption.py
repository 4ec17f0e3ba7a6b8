"""Corrupted payloads are reported (CRC, decoder checks, symbol hash), never decoded silently."""

import zlib

import numpy as np
import pytest
import torch

from gvcodec.entropy import check_symbol_hash, symbol_hash
from gvcodec.errors import BitstreamError, MismatchError


def _unit(gaussian, latent, n=1500, seed=0):
    """What a container unit carries: payload, its CRC-32 and the symbol hash."""
    s, x = latent(n, seed=seed)
    x[::150] = 70000  # keep escape segments in the payload too
    idx = gaussian.indexes_from_float(torch.from_numpy(s)).numpy()
    data = gaussian.compress(x, idx)
    return data, zlib.crc32(data), symbol_hash(x), idx, x


def _decode_and_verify(gaussian, data, idx, sym_hash):
    """Decoder side without the CRC: decode, then check the symbol hash (as the engine must)."""
    y = gaussian.decompress(data, torch.from_numpy(idx))
    check_symbol_hash(sym_hash, y, unit="unit 3 (frame 2)")
    return y


def test_every_single_byte_flip_is_reported(gaussian, latent):
    data, crc, sym_hash, idx, x = _unit(gaussian, latent)
    by_decoder = 0
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x5A
        bad = bytes(bad)
        assert zlib.crc32(bad) != crc  # the container's CRC sees it first
        # ... and even without the CRC nothing decodes silently.
        with pytest.raises((BitstreamError, MismatchError)) as err:
            _decode_and_verify(gaussian, bad, idx, sym_hash)
        by_decoder += err.type is BitstreamError or "table hash" in str(err.value)
    # Most flips are caught by the payload's own checks (ANS end state, counts, lengths).
    assert by_decoder > 0.9 * len(data)


def test_symbol_hash_mismatch_names_the_unit(gaussian, latent):
    data, _, sym_hash, idx, x = _unit(gaussian, latent)
    with pytest.raises(MismatchError, match=r"unit 3 \(frame 2\)"):
        check_symbol_hash(sym_hash, x + 1, unit="unit 3 (frame 2)")
    assert torch.equal(_decode_and_verify(gaussian, data, idx, sym_hash), torch.from_numpy(x))


def test_every_truncation_and_any_appended_byte_is_a_bitstream_error(gaussian, latent):
    data, _, _, idx, _ = _unit(gaussian, latent, n=600, seed=1)
    for cut in range(len(data)):
        with pytest.raises(BitstreamError):
            gaussian.decompress(data[:cut], torch.from_numpy(idx))
    with pytest.raises(BitstreamError):
        gaussian.decompress(data + b"\x00", torch.from_numpy(idx))


def test_decoding_with_other_indexes_is_reported(gaussian, latent):
    """A prior path that diverged (other indexes) must not give a silent picture."""
    data, _, sym_hash, idx, _ = _unit(gaussian, latent, seed=2)
    wrong = idx.copy()
    wrong[np.arange(0, wrong.size, 7)] ^= 1
    with pytest.raises((BitstreamError, MismatchError)):
        _decode_and_verify(gaussian, data, wrong, sym_hash)


def test_symbol_hash_depends_on_values_shapes_and_order_but_not_dtype():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert symbol_hash(a) == symbol_hash(a.astype(np.int64)) == symbol_hash(torch.from_numpy(a))
    assert symbol_hash(a) != symbol_hash(a.reshape(4, 3))
    assert symbol_hash(a, a[:1]) != symbol_hash(a[:1], a)
    assert len(symbol_hash()) == 16
