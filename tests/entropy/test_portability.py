"""The same stream decodes bit-exactly whatever the threads, float noise in synthesis or batch size."""

import torch


def _with_threads(n, fn):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return fn()
    finally:
        torch.set_num_threads(old)


def test_encode_and_decode_are_identical_with_one_and_two_threads(codec):
    z, y = codec.sample(3, 16, 16)
    enc1 = _with_threads(1, lambda: codec.encode(z, y))
    enc2 = _with_threads(2, lambda: codec.encode(z, y))
    assert enc1 == enc2
    z_bytes, y_bytes, stream_hash = enc1
    dec1 = _with_threads(1, lambda: codec.decode(z_bytes, y_bytes, z.shape))
    dec2 = _with_threads(2, lambda: codec.decode(z_bytes, y_bytes, z.shape))
    assert dec1[2] == dec2[2] == stream_hash
    assert torch.equal(dec1[1], dec2[1])


def test_float_noise_in_the_synthesis_path_does_not_change_decoded_symbols(codec):
    z, y = codec.sample(2)
    z_bytes, y_bytes, stream_hash = codec.encode(z, y)
    clean = codec.decode(z_bytes, y_bytes, z.shape)
    noisy = codec.decode(z_bytes, y_bytes, z.shape, perturb=1e-6)
    assert clean[2] == noisy[2] == stream_hash
    assert not torch.equal(clean[3], noisy[3])  # the perturbation did reach the picture


def test_batch_of_one_and_batch_of_several_give_the_same_symbols(codec):
    z, y = codec.sample(3, seed=2)
    batch_idx = codec.indexes(z)
    zb, yb, _ = codec.encode(z, y)
    _, batch_sym, _, _ = codec.decode(zb, yb, z.shape)
    for i in range(3):
        zi, yi = z[i : i + 1], y[i : i + 1]
        assert torch.equal(codec.indexes(zi), batch_idx[i : i + 1])
        zbi, ybi, hi = codec.encode(zi, yi)
        _, sym_i, hash_i, _ = codec.decode(zbi, ybi, zi.shape)
        assert torch.equal(sym_i, batch_sym[i : i + 1]) and hash_i == hi
