"""MS-SSIM: 1 for identical pictures, falls with noise, reduced scales for small pictures."""

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.metrics.msssim import WANG_WEIGHTS, _reduced_msssim, frame_msssim, num_scales


def textured_frame(fmt, seed=0):
    """A smooth gradient with texture, so SSIM has structure to compare."""
    rng = np.random.default_rng(seed)
    top = (1 << fmt.bit_depth) - 1
    planes = []
    for h, w in fmt.plane_shapes():
        yy, xx = np.mgrid[0:h, 0:w]
        base = 0.5 + 0.3 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + 0.1 * rng.standard_normal((h, w))
        planes.append(np.clip(base * top, 0, top).astype(np.uint16))
    return Frame(tuple(planes), fmt)


def noisy(frame, sigma, seed=1):
    rng = np.random.default_rng(seed)
    top = (1 << frame.fmt.bit_depth) - 1
    planes = tuple(
        np.clip(np.rint(p + rng.normal(0, sigma, p.shape)), 0, top).astype(np.uint16) for p in frame.planes
    )
    return Frame(planes, frame.fmt)


@pytest.mark.parametrize("mode", ["y", "rgb"])
def test_identical_pictures_score_one(mode):
    frame = textured_frame(VideoFormat(96, 64, 420, 10))
    assert frame_msssim(frame, frame, mode) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("mode,size", [("y", (192, 176)), ("rgb", (96, 64))])  # 5 scales; 3 scales
def test_score_falls_as_noise_grows(mode, size):
    frame = textured_frame(VideoFormat(*size, 420, 8))
    scores = [frame_msssim(frame, noisy(frame, s), mode) for s in (1, 4, 16)]
    assert 1.0 > scores[0] > scores[1] > scores[2] > 0.0


def test_scale_count_follows_hm_thresholds():
    assert [num_scales(s, 1000) for s in (11, 21, 22, 43, 44, 87, 88, 175, 176, 2000)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    with pytest.raises(InputError, match="too small"):
        num_scales(10, 100)


def test_renormalised_weights_match_hm_table():
    hm = {2: (0.1356, 0.8644), 3: (0.0711, 0.4530, 0.4760), 4: (0.0517, 0.3295, 0.3462, 0.2726)}
    for scales, want in hm.items():
        kept = np.array(WANG_WEIGHTS[:scales])
        np.testing.assert_allclose(kept / kept.sum(), want, atol=6e-5)


def test_reduced_path_with_five_scales_equals_pytorch_msssim():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 1, 176, 180, generator=gen)
    y = (x + 0.05 * torch.randn(x.shape, generator=gen)).clamp(0, 1)
    weights = [w / sum(WANG_WEIGHTS) for w in WANG_WEIGHTS]  # Wang's weights sum to 1.0001
    want = float(ms_ssim(x, y, data_range=1.0, weights=weights))
    assert float(_reduced_msssim(x, y, 5)) == pytest.approx(want, abs=1e-7)


def test_small_picture_uses_fewer_scales():
    frame = textured_frame(VideoFormat(64, 48, 400, 8))  # 48 -> 3 scales
    score = frame_msssim(frame, noisy(frame, 6))
    assert 0.5 < score < 1.0
    with pytest.raises(InputError, match="too small"):
        tiny = textured_frame(VideoFormat(16, 8, 400, 8))
        frame_msssim(tiny, tiny)


def test_bit_depth_sets_the_data_range():
    # the same picture and noise scaled by 4 must score the same at 10 bit as at 8 bit
    frame8 = textured_frame(VideoFormat(64, 64, 400, 8))
    dec8 = noisy(frame8, 5)
    fmt10 = VideoFormat(64, 64, 400, 10)
    frame10 = Frame((frame8.planes[0] * 4,), fmt10)
    dec10 = Frame((dec8.planes[0] * 4,), fmt10)
    assert frame_msssim(frame10, dec10) == pytest.approx(frame_msssim(frame8, dec8), abs=2e-3)


def test_mismatched_formats_and_unknown_mode_are_rejected():
    a = textured_frame(VideoFormat(32, 32, 420, 8))
    with pytest.raises(InputError):
        frame_msssim(a, textured_frame(VideoFormat(32, 32, 444, 8)))
    with pytest.raises(ValueError, match="mode"):
        frame_msssim(a, a, mode="yuv")


def test_rgb_msssim_sees_chroma_damage_that_luma_msssim_misses():
    from gvcodec.pipeline.measure import measure
    from gvcodec.report.records import FrameRecord

    fmt = VideoFormat(96, 64, 420, 8)
    ref = textured_frame(fmt)
    damaged = Frame((ref.planes[0], noisy(ref, 12).planes[1], noisy(ref, 12, seed=3).planes[2]), fmt)
    rec = FrameRecord(0)
    measure(rec, ref, damaged, msssim=True, rgb=True, msssim_rgb=True)
    assert rec.msssim[0] == pytest.approx(1.0)
    assert rec.msssim_rgb == pytest.approx(frame_msssim(ref, damaged, mode="rgb")) and rec.msssim_rgb < 0.99
    clean = FrameRecord(0)
    measure(clean, ref, ref, msssim_rgb=True)
    assert clean.msssim_rgb == pytest.approx(1.0)
