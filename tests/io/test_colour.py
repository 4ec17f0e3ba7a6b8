"""Colour conversion and chroma resampling checked against an independent float64 reference."""

import numpy as np
import pytest
import torch

from gvcodec.io.colour import (
    downsample_chroma,
    frame_to_rgb,
    rgb_to_frame,
    rgb_to_ycbcr,
    upsample_chroma,
    ycbcr_to_rgb,
)
from gvcodec.io.frames import Frame, VideoFormat

# Published luma coefficients; everything else in the reference is derived here from them.
KR_KB = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}


def reference_matrix(matrix):
    """RGB -> (Y', Pb, Pr) matrix in float64, built row by row from Kr and Kb."""
    kr, kb = KR_KB[matrix]
    kg = 1.0 - kr - kb
    return np.array(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ]
    )


def reference_range(bit_depth, full_range):
    """(offsets, scales) mapping (Y', Pb, Pr) to code values."""
    if full_range:
        top = 2**bit_depth - 1
        return np.array([0.0, 2 ** (bit_depth - 1), 2 ** (bit_depth - 1)]), np.array([top, top, top], float)
    s = 2 ** (bit_depth - 8)
    return np.array([16.0, 128.0, 128.0]) * s, np.array([219.0, 224.0, 224.0]) * s


def reference_rgb_to_codes(rgb, matrix, bit_depth, full_range):
    off, scale = reference_range(bit_depth, full_range)
    ypbpr = np.einsum("ij,jhw->ihw", reference_matrix(matrix), rgb)
    return off[:, None, None] + scale[:, None, None] * ypbpr


def reference_codes_to_rgb(codes, matrix, bit_depth, full_range):
    off, scale = reference_range(bit_depth, full_range)
    ypbpr = (codes - off[:, None, None]) / scale[:, None, None]
    return np.einsum("ij,jhw->ihw", np.linalg.inv(reference_matrix(matrix)), ypbpr)


CASES = [(m, bd, fr) for m in KR_KB for bd in (8, 10) for fr in (False, True)]


@pytest.mark.parametrize("matrix,bit_depth,full_range", CASES)
def test_rgb_to_ycbcr_matches_reference_matrix(matrix, bit_depth, full_range):
    rgb = np.random.default_rng(1).random((3, 6, 10))
    y, u, v = rgb_to_ycbcr(torch.from_numpy(rgb), bit_depth, matrix, full_range, chroma_format=444)
    got = torch.cat([y, u, v]).double().numpy()
    want = reference_rgb_to_codes(rgb, matrix, bit_depth, full_range)
    assert np.abs(got - want).max() < 2e-3 * 2 ** (bit_depth - 8)


@pytest.mark.parametrize("matrix,bit_depth,full_range", CASES)
def test_ycbcr_to_rgb_matches_inverse_reference_matrix(matrix, bit_depth, full_range):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2**bit_depth, size=(3, 6, 10)).astype(np.float64)
    got = ycbcr_to_rgb(*(torch.from_numpy(c[None]) for c in codes), bit_depth, matrix, full_range)
    want = reference_codes_to_rgb(codes, matrix, bit_depth, full_range)
    # not clamped: out-of-gamut codes must come back as out-of-range floats, like the reference
    assert np.abs(got.double().numpy() - want).max() < 1e-5


@pytest.mark.parametrize(
    "bit_depth,full_range,white,black,grey_c",
    [(8, False, 235, 16, 128), (10, False, 940, 64, 512), (8, True, 255, 0, 128), (10, True, 1023, 0, 512)],
)
def test_white_and_black_land_on_the_range_ends(bit_depth, full_range, white, black, grey_c):
    rgb = np.zeros((3, 2, 4), np.float32)
    rgb[:, :, 2:] = 1.0
    fmt = VideoFormat(4, 2, 444, bit_depth)
    y, u, v = rgb_to_frame(rgb, fmt, "bt709", full_range).planes
    assert y[0, 0] == black and y[0, 3] == white
    assert (u == grey_c).all() and (v == grey_c).all()


def test_limited_range_saturated_chroma_reaches_16_and_240():
    # pure blue has Pb = +0.5 and pure yellow Pb = -0.5 whatever the matrix
    rgb = np.zeros((3, 1, 2), np.float32)
    rgb[2, 0, 0] = 1.0
    rgb[:2, 0, 1] = 1.0
    _, u, _ = rgb_to_frame(rgb, VideoFormat(2, 1, 444, 8), "bt601").planes
    assert u.tolist() == [[240, 16]]


def rgb_round_trip_bound(matrix, bit_depth):
    """Largest RGB error that half-LSB rounding of Y, Cb, Cr can cause (limited range)."""
    _, scale = reference_range(bit_depth, False)
    return (np.abs(np.linalg.inv(reference_matrix(matrix))) @ (0.5 / scale)).max()


@pytest.mark.parametrize("matrix", list(KR_KB))
@pytest.mark.parametrize("bit_depth", [8, 10])
def test_rgb_round_trip_error_is_within_half_lsb_bound(matrix, bit_depth):
    rgb = np.random.default_rng(3).random((3, 16, 16)).astype(np.float32)
    fmt = VideoFormat(16, 16, 444, bit_depth)
    back = frame_to_rgb(rgb_to_frame(rgb, fmt, matrix), matrix)
    err = np.abs(back - rgb).max()
    bound = rgb_round_trip_bound(matrix, bit_depth)
    assert err <= bound + 1e-6
    assert bound < (0.0075 if bit_depth == 8 else 0.0019)  # ~1.9 and ~1.9/4 8-bit steps


@pytest.mark.parametrize("bit_depth", [8, 10])
@pytest.mark.parametrize("full_range", [False, True])
def test_in_gamut_frame_survives_rgb_round_trip_exactly(bit_depth, full_range):
    rgb = 0.05 + 0.9 * np.random.default_rng(4).random((3, 8, 12)).astype(np.float32)
    fmt = VideoFormat(12, 8, 444, bit_depth)
    frame = rgb_to_frame(rgb, fmt, "bt2020", full_range)
    again = rgb_to_frame(frame_to_rgb(frame, "bt2020", full_range), fmt, "bt2020", full_range)
    for a, b in zip(frame.planes, again.planes):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("chroma_format", [420, 422])
def test_constant_picture_survives_chroma_subsampling_exactly(chroma_format):
    rgb = np.empty((3, 6, 10), np.float32)
    rgb[:] = np.array([0.8, 0.3, 0.1], np.float32)[:, None, None]
    full = rgb_to_frame(rgb, VideoFormat(10, 6, 444, 10))
    sub = rgb_to_frame(rgb, VideoFormat(10, 6, chroma_format, 10))
    for p_full, p_sub in zip(full.planes, sub.planes):
        assert np.unique(p_sub).tolist() == [p_full[0, 0]]
    np.testing.assert_array_equal(frame_to_rgb(sub), frame_to_rgb(full))


def test_upsampling_is_half_pixel_centred_and_edge_clamped():
    c = torch.tensor([[0.0, 4.0]])
    assert upsample_chroma(c, (1, 4), (0, 1)).tolist() == [[0.0, 1.0, 3.0, 4.0]]
    # odd luma width: the last luma column lies past the last chroma centre and is clamped
    assert upsample_chroma(c, (1, 5), (0, 1)).tolist() == [[0.0, 1.0, 3.0, 4.0, 4.0]]
    col = upsample_chroma(c.T, (4, 1), (1, 0))
    assert col.flatten().tolist() == [0.0, 1.0, 3.0, 4.0]


def reference_upsample_axis(c, axis, out_size):
    """Linear interpolation at chroma position (x - 0.5) / 2 with edge clamping, sample by sample."""
    c = np.moveaxis(c, axis, 0)
    n = c.shape[0]
    out = np.empty((out_size,) + c.shape[1:])
    for x in range(out_size):
        pos = (x - 0.5) / 2
        lo = int(np.floor(pos))
        frac = pos - lo
        out[x] = (1 - frac) * c[min(max(lo, 0), n - 1)] + frac * c[min(max(lo + 1, 0), n - 1)]
    return np.moveaxis(out, 0, axis)


@pytest.mark.parametrize("shift,size", [((1, 1), (10, 14)), ((1, 1), (11, 15)), ((0, 1), (7, 9))])
def test_upsampling_matches_sample_by_sample_reference(shift, size):
    c = np.random.default_rng(5).random((2, size[0] >> shift[0], size[1] >> shift[1]))
    want = c
    if shift[0]:
        want = reference_upsample_axis(want, 1, size[0])
    want = reference_upsample_axis(want, 2, size[1])
    got = upsample_chroma(torch.from_numpy(c), size, shift).numpy()
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_downsampling_averages_the_covered_luma_samples():
    c = torch.arange(20, dtype=torch.float32).reshape(4, 5)  # odd width: last column dropped
    got = downsample_chroma(c, (1, 1))
    assert got.tolist() == [[3.0, 5.0], [13.0, 15.0]]
    assert downsample_chroma(c, (0, 1)).shape == (4, 2)


def test_conversion_keeps_batch_and_unbatched_shapes():
    rgb = torch.rand(2, 3, 8, 12)
    y, u, v = rgb_to_ycbcr(rgb, chroma_format=420)
    assert y.shape == (2, 1, 8, 12) and u.shape == v.shape == (2, 1, 4, 6)
    assert ycbcr_to_rgb(y, u, v).shape == (2, 3, 8, 12)
    y1, u1, v1 = rgb_to_ycbcr(rgb[0], chroma_format=422)
    assert u1.shape == (1, 8, 6)
    assert ycbcr_to_rgb(y1, u1, v1).shape == (3, 8, 12)


def test_monochrome_frames_convert_to_grey_and_back_to_luma_only():
    fmt = VideoFormat(4, 2, 400, 8)
    frame = Frame((np.full((2, 4), 126, np.uint16),), fmt)
    rgb = frame_to_rgb(frame)
    assert rgb.dtype == np.float32 and rgb.shape == (3, 2, 4)
    assert np.allclose(rgb, (126 - 16) / 219)
    back = rgb_to_frame(rgb, fmt)
    assert len(back.planes) == 1 and (back.planes[0] == 126).all()


def test_frame_to_rgb_clamps_out_of_gamut_samples():
    fmt = VideoFormat(2, 1, 444, 8)
    y, u, v = (np.array([[0, 255]], np.uint16), np.full((1, 2), 128, np.uint16), np.full((1, 2), 255, np.uint16))
    raw = ycbcr_to_rgb(*(torch.from_numpy(p[None].astype(np.float32)) for p in (y, u, v)))
    assert raw.min() < -0.05 and raw.max() > 1.5  # the codes really are out of gamut
    rgb = frame_to_rgb(Frame((y, u, v), fmt))
    np.testing.assert_allclose(rgb, raw.clamp(0, 1).numpy())
    assert rgb.min() == 0.0 and rgb.max() == 1.0


def test_conversion_is_differentiable():
    rgb = torch.rand(1, 3, 8, 8, requires_grad=True)
    y, u, v = rgb_to_ycbcr(rgb, bit_depth=10, chroma_format=420)
    ycbcr_to_rgb(y, u, v, bit_depth=10).sum().backward()
    assert rgb.grad is not None and torch.isfinite(rgb.grad).all()


def test_unknown_matrix_and_chroma_format_are_rejected():
    with pytest.raises(ValueError, match="bt709"):
        rgb_to_ycbcr(torch.rand(3, 2, 2), matrix="smpte240")
    with pytest.raises(ValueError, match="chroma format"):
        rgb_to_ycbcr(torch.rand(3, 2, 2), chroma_format=411)
