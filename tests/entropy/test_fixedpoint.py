"""Fixed-point layers reproduce exact integer results computed independently in numpy int64."""

import numpy as np
import pytest
import torch
from torch import nn

from gvcodec.entropy import GaussianConditional, ScaleTable
from gvcodec.entropy.conversion import conversion_rate_cost
from gvcodec.entropy.fixedpoint import (
    IntConv2d,
    IntConvTranspose2d,
    IntLeakyReLU,
    IntLinear,
    QFormat,
    from_float,
    to_fixed,
    to_real,
)

Q = QFormat(weight_frac=10, act_frac=8, act_bits=22)


def _requant_np(acc: np.ndarray, shift: int, bits: int) -> np.ndarray:
    out = (acc + (1 << (shift - 1))) >> shift  # arithmetic shift = floor division
    m = (1 << bits) - 1
    return np.clip(out, -m, m)


def _ints(rng, shape, mag):
    return rng.integers(-mag, mag + 1, shape).astype(np.int64)


def test_int_linear_matches_numpy_int64():
    rng = np.random.default_rng(0)
    w, b, x = _ints(rng, (33, 70), 4000), _ints(rng, 33, 10**7), _ints(rng, (9, 70), 2**21)
    layer = IntLinear(torch.from_numpy(w), torch.from_numpy(b), in_frac=4, q=Q)
    want = _requant_np(x @ w.T + b, 4 + 10 - 8, 22)
    got = layer(torch.from_numpy(x).double())
    assert np.array_equal(got.numpy().astype(np.int64), want)


def _conv_np(x, w, b, stride, pad, groups):
    n, cin, h, wd = x.shape
    cout, cig, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, cout, ho, wo), dtype=np.int64)
    og = cout // groups
    for o in range(cout):
        g = o // og
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cig : (g + 1) * cig, i : i + stride * ho : stride, j : j + stride * wo : stride]
                out[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
        out[:, o] += b[o]
    return out


@pytest.mark.parametrize("stride,pad,groups", [(1, 1, 1), (2, 1, 2), (1, 0, 4)])
def test_int_conv2d_matches_numpy_int64_on_both_code_paths(stride, pad, groups):
    rng = np.random.default_rng(stride + 10 * groups)
    x, w, b = _ints(rng, (2, 8, 9, 11), 2**22 - 1), _ints(rng, (8, 8 // groups, 3, 3), 3000), _ints(rng, 8, 10**8)
    layer = IntConv2d(torch.from_numpy(w), torch.from_numpy(b), 0, Q, stride, pad, 1, groups)
    want = _requant_np(_conv_np(x, w, b, stride, pad, groups), 0 + 10 - 8, 22)
    xt = torch.from_numpy(x).double()
    assert np.array_equal(layer(xt).numpy().astype(np.int64), want)
    # The device path (unfold + matmul) must give the same integers.
    assert np.array_equal(layer._finish(layer._unfold_conv(xt)).numpy().astype(np.int64), want)


def test_int_conv_transpose_matches_numpy_int64():
    rng = np.random.default_rng(7)
    x, w, b = _ints(rng, (2, 4, 5, 6), 2**20), _ints(rng, (4, 3, 4, 4), 2000), _ints(rng, 3, 10**6)
    layer = IntConvTranspose2d(torch.from_numpy(w), torch.from_numpy(b), 8, Q, stride=2, padding=1)
    full = np.zeros((2, 3, 2 * 5 + 2, 2 * 6 + 2), dtype=np.int64)  # scatter, then crop the padding
    for i in range(5):
        for j in range(6):
            full[:, :, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4] += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    want = _requant_np(full[:, :, 1:-1, 1:-1] + b[None, :, None, None], 8 + 10 - 8, 22)
    xt = torch.from_numpy(x).double()
    assert np.array_equal(layer(xt).numpy().astype(np.int64), want)
    # The device path (matmul + fold) must give the same integers.
    assert np.array_equal(layer._finish(layer._fold_conv_transpose(xt)).numpy().astype(np.int64), want)


def test_leaky_relu_with_power_of_two_slope_is_a_floor_shift():
    x = np.arange(-1000, 1000, dtype=np.int64)
    got = IntLeakyReLU(3)(torch.from_numpy(x).double()).numpy().astype(np.int64)
    assert np.array_equal(got, np.where(x >= 0, x, x >> 3))


def test_layers_refuse_accumulators_that_would_not_be_exact():
    with pytest.raises(ValueError, match="not exact"):
        IntLinear(torch.full((1, 4096), 2.0**20), torch.zeros(1), 0, Q)


def test_from_float_refuses_slopes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match="power-of-two"):
        from_float(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.1)))


def _hyper_decoder():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 2, 1), nn.LeakyReLU(0.125), nn.Conv2d(16, 16, 3, 1, 1),
        nn.Tanh(), nn.Conv2d(16, 8, 3, 1, 1), nn.Softplus(),
    )
    with torch.no_grad():
        net[4].bias.add_(1.0)
    return net


def test_converted_network_tracks_the_float_network():
    net = _hyper_decoder()
    z = torch.round(torch.randn(2, 8, 6, 6) * 3)
    inet = from_float(net, Q)
    err = (to_real(inet(to_fixed(z, 0)), Q.act_frac) - net(z).double()).abs().max()
    assert err < 0.05


def test_conversion_rate_cost_is_measured_and_small():
    net = _hyper_decoder()
    gc = GaussianConditional(ScaleTable(0.11, 64.0, 128), index_frac_bits=Q.act_frac)
    z = torch.round(torch.randn(2, 8, 8, 8) * 3)
    with torch.no_grad():
        scales = net(z)
    y = torch.round(torch.randn(scales.shape) * scales).to(torch.int32)
    cost = conversion_rate_cost(net, from_float(net, Q), z, y, gc)
    assert cost.bits_fixed > 0 and 0.9 < cost.index_agreement <= 1.0
    assert abs(cost.conversion_cost) < 0.01 and abs(cost.table_cost) < 0.01
