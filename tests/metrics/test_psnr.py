"""PSNR follows HM's definitions: peak 255 << (bd - 8), 999.99 when lossless, sample-weighted YUV."""

import math

import numpy as np
import pytest

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.metrics.psnr import frame_psnr, plane_mse, psnr_from_mse, rgb_psnr, sequence_psnr


def grey_frame(fmt, offsets=(0, 0, 0)):
    """A mid-grey picture whose first sample of each plane is moved by ``offsets``."""
    frame = Frame.blank(fmt)
    for plane, off in zip(frame.planes, offsets):
        plane[0, 0] += off
    return frame


def test_psnr_matches_hand_computed_value():
    fmt = VideoFormat(4, 4, 400, 8)
    # one of 16 samples off by 4 -> SSD 16, MSE 1, PSNR = 10 log10(255^2)
    result = frame_psnr(grey_frame(fmt), grey_frame(fmt, (4,)))
    assert result.mse == (1.0,)
    assert result.psnr[0] == pytest.approx(48.130803608679, abs=1e-9)
    assert result.psnr_yuv == result.psnr[0]


def test_identical_pictures_give_999_99():
    fmt = VideoFormat(8, 4, 420, 8)
    result = frame_psnr(grey_frame(fmt), grey_frame(fmt))
    assert result.psnr == (999.99, 999.99, 999.99) and result.psnr_yuv == 999.99
    assert psnr_from_mse(0.0, 10) == 999.99


def test_ten_bit_peak_is_1020_not_1023():
    assert psnr_from_mse(1.0, 10) == pytest.approx(20 * math.log10(1020))
    fmt = VideoFormat(4, 4, 400, 10)
    result = frame_psnr(grey_frame(fmt), grey_frame(fmt, (4,)))
    assert result.psnr[0] == pytest.approx(20 * math.log10(1020))


@pytest.mark.parametrize("chroma_format,weights", [(420, (4, 1, 1)), (422, (4, 2, 2)), (444, (4, 4, 4))])
def test_yuv_psnr_weights_planes_by_sample_count(chroma_format, weights):
    fmt = VideoFormat(8, 8, chroma_format, 8)
    result = frame_psnr(grey_frame(fmt), grey_frame(fmt, (8, 4, 2)))
    mse_y, mse_u, mse_v = result.mse
    assert mse_y == 64 / 64
    want = 10 * math.log10(255**2 * sum(weights) / (weights[0] * mse_y + weights[1] * mse_u + weights[2] * mse_v))
    assert result.psnr_yuv == pytest.approx(want, abs=1e-12)


def test_sequence_yuv_psnr_comes_from_mean_mse_not_mean_psnr():
    fmt = VideoFormat(4, 4, 420, 8)
    frames = [frame_psnr(grey_frame(fmt), grey_frame(fmt, off)) for off in [(4, 2, 0), (8, 0, 2)]]
    summary = sequence_psnr(frames)
    assert summary["frames"] == 2
    assert summary["psnr_y"] == pytest.approx((frames[0].psnr[0] + frames[1].psnr[0]) / 2)
    assert summary["psnr_u"] == pytest.approx((frames[0].psnr[1] + 999.99) / 2)  # HM averages the 999.99 too
    mse = [(a + b) / 2 for a, b in zip(frames[0].mse, frames[1].mse)]
    assert summary["psnr_yuv"] == pytest.approx(10 * math.log10(255**2 * 6 / (4 * mse[0] + mse[1] + mse[2])))
    assert summary["psnr_yuv"] != pytest.approx((frames[0].psnr_yuv + frames[1].psnr_yuv) / 2)


def test_monochrome_sequence_has_no_chroma_entries():
    fmt = VideoFormat(4, 4, 400, 8)
    summary = sequence_psnr([frame_psnr(grey_frame(fmt), grey_frame(fmt, (4,)))])
    assert summary["psnr_u"] is None and summary["mse_v"] is None
    assert summary["psnr_yuv"] == pytest.approx(summary["psnr_y"])


def test_bit_depth_argument_compares_at_hm_internal_depth():
    ref = grey_frame(VideoFormat(4, 4, 400, 8), (1,))
    dec = grey_frame(VideoFormat(4, 4, 400, 10))
    with pytest.raises(InputError, match="different formats"):
        frame_psnr(ref, dec)
    # 8-bit 129 -> 516 at 10 bit, against 512: one sample off by 4
    assert frame_psnr(ref, dec, bit_depth=10).mse == (1.0,)


def test_plane_mse_does_not_overflow_at_16_bit():
    a = np.zeros((64, 64), np.uint16)
    b = np.full((64, 64), 65535, np.uint16)
    assert plane_mse(a, b) == 65535.0**2


def test_rgb_psnr_uses_peak_one_on_clamped_rgb():
    fmt = VideoFormat(8, 8, 444, 8)
    ref = grey_frame(fmt)
    assert rgb_psnr(ref, ref) == 999.99
    # +21.9 luma codes = +0.1 in R, G and B on one of 64 pixels -> MSE 0.01 / 64
    dec = Frame(tuple(p.copy() for p in ref.planes), fmt)
    dec.planes[0][0, 0] = 128 + 22
    expected = -10 * math.log10((22 / 219) ** 2 / 64)
    assert rgb_psnr(ref, dec) == pytest.approx(expected, abs=1e-4)
