"""Padding to a multiple and cropping back."""

import numpy as np

from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.io.padding import crop_frame, pad_frame, padded_size


def _frame(w=70, h=50, depth=8):
    fmt = VideoFormat(w, h, 420, depth)
    rng = np.random.default_rng(1)
    return Frame(tuple(rng.integers(0, 1 << depth, s).astype(np.uint16) for s in fmt.plane_shapes()), fmt)


def test_padded_size_rounds_up_to_the_multiple():
    assert padded_size(1920, 1080, 64) == (1920, 1088)
    assert padded_size(352, 288, 64) == (384, 320)
    assert padded_size(352, 288, 1) == (352, 288)


def test_pad_then_crop_is_identity():
    f = _frame()
    for mode in ("zero", "replicate"):
        p = pad_frame(f, 128, 64, mode)
        assert p.fmt.width == 128 and p.planes[1].shape == (32, 64)
        back = crop_frame(p, 70, 50)
        assert all(np.array_equal(a, b) for a, b in zip(back.planes, f.planes))


def test_zero_padding_is_black_and_replicate_repeats_edges():
    f = _frame(depth=10)
    z = pad_frame(f, 128, 64, "zero")
    assert (z.planes[0][:, 70:] == 64).all() and (z.planes[1][:, 35:] == 512).all()
    assert (pad_frame(f, 128, 64, "zero", full_range=True).planes[0][50:] == 0).all()
    r = pad_frame(f, 128, 64, "replicate")
    assert np.array_equal(r.planes[0][:50, 127], f.planes[0][:, 69])
