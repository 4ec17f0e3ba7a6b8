"""E_warp: DIS flow of the original, forward-backward occlusion mask, warping error of the decoded frames."""

import numpy as np
import pytest

from gvcodec.metrics.ewarp import WarpingError, pair_error, to_gray8, valid_mask, warp


def ewarp(gray, decoded):
    metric = WarpingError()
    for g, d in zip(gray, decoded):
        metric.update(g, d)
    return metric.result()


def test_static_clip_has_no_warping_error(bus_rgb):
    rgb, gray = bus_rgb
    assert ewarp([gray[0]] * 4, [rgb[0]] * 4) == pytest.approx(0.0, abs=1e-9)


def test_warping_error_grows_with_injected_flicker(bus_rgb):
    rgb, gray = bus_rgb
    values = []
    for codes in (0, 3, 8):
        flicker = [np.clip(f + (codes / 255.0) * (-1) ** t, 0, 1) for t, f in enumerate(rgb)]
        values.append(ewarp(gray, flicker))
    assert values[0] < values[1] < values[2]
    # consecutive frames differ by 2 * codes on each of 3 channels: about 3 (2 codes / 255)^2 more
    added = values[2] - values[0]
    assert 0.6 * 3 * (16 / 255) ** 2 < added < 1.2 * 3 * (16 / 255) ** 2


def test_the_flow_follows_a_real_translation(bus_rgb):
    rgb, gray = bus_rgb
    shift = 3  # frame 1 is frame 0 moved right by 3 samples: warping it back must match frame 0
    moved_gray, moved_rgb = np.roll(gray[0], shift, axis=1), np.roll(rgb[0], shift, axis=2)
    error = ewarp([gray[0], moved_gray], [rgb[0], moved_rgb])
    unrelated = ewarp([gray[0], moved_gray], [rgb[0], rgb[3]])
    assert error < 2e-3 < unrelated


def test_occlusion_mask_rejects_inconsistent_and_outside_flow():
    h, w = 16, 20
    zero = np.zeros((h, w, 2), np.float32)
    assert valid_mask(zero, zero).all()
    right = zero.copy()
    right[..., 0] = 4.0
    mask = valid_mask(right, -right)
    assert mask[:, : w - 4].all() and not mask[:, w - 4:].any()  # targets past the right edge
    assert not valid_mask(right, right)[:, :8].any()  # forward and backward do not cancel


def test_pair_error_is_the_mean_squared_rgb_distance_over_kept_pixels():
    prev = np.zeros((3, 4, 5), np.float32)
    cur = np.full((3, 4, 5), 0.1, np.float32)
    mask = np.zeros((4, 5), bool)
    mask[:2] = True
    zero = np.zeros((4, 5, 2), np.float32)
    assert pair_error(prev, cur, zero, mask) == pytest.approx(3 * 0.01, rel=1e-6)
    assert np.isnan(pair_error(prev, cur, zero, np.zeros((4, 5), bool)))
    assert np.array_equal(warp(cur.transpose(1, 2, 0), zero), cur.transpose(1, 2, 0))


def test_high_bit_depth_luma_is_rounded_to_8_bits():
    luma = np.array([[0, 2, 1020, 1023]], np.uint16)
    assert to_gray8(luma, 10).tolist() == [[0, 1, 255, 255]]
