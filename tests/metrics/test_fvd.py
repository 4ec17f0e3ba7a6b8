"""FVD: exact Fréchet distance, our I3D on pytorch_i3d-layout weights, clip windows."""

import math

import numpy as np
import pytest
import torch

from gvcodec.metrics.fvd import (
    FvdAccumulator,
    build_i3d,
    clip_starts,
    feature_distance,
    frechet_distance,
    load_i3d,
    same_pad,
)
from gvcodec.metrics.weight_files import WeightsUnavailable


def test_frechet_distance_matches_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 with s the standard deviations
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0, abs=1e-12)
    # commuting (diagonal) covariances: per-axis sum
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.0])
    want = 1.0 + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert frechet_distance(np.zeros(3), np.diag(s1), [1.0, 0, 0], np.diag(s2)) == pytest.approx(want, abs=1e-12)


def test_frechet_distance_agrees_with_scipy_sqrtm_on_full_covariances():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 6)), rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6)) + 0.5
    mu1, mu2, c1, c2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    want = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * np.real(linalg.sqrtm(c1 @ c2)))
    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(want, rel=1e-9)
    assert feature_distance(a, b) == pytest.approx(feature_distance(b, a), rel=1e-9)
    assert abs(feature_distance(a, a)) < 1e-9


def test_same_padding_gives_ceil_sizes():
    for size in (7, 8, 9, 16):
        for k, s in ((7, 2), (3, 1), (3, 2), (2, 2)):
            out = same_pad(torch.zeros(1, 1, size, size, size), (k, k, k), (s, s, s)).shape[-1]
            assert (out - k) // s + 1 == math.ceil(size / s)


def test_i3d_features_and_fvd_of_real_clips(tiny_weights, bus_rgb):
    model = build_i3d(str(tiny_weights.i3d))
    rgb, _ = bus_rgb
    clip = torch.from_numpy(np.stack(rgb[:4], 1))[None] * 2 - 1  # [1, 3, 4, 144, 176]
    assert model(clip).shape == (1, 10)

    def fvd(decoded, scale=None):
        acc = FvdAccumulator(model, clip_frames=2, stride=1, size=32)
        for r, d in zip(rgb, decoded):
            acc.update(torch.from_numpy(r), torch.from_numpy(d))
        if scale is not None:  # the features' total variance: rounding is relative to it
            scale.append(np.trace(np.cov(np.stack(acc.ref_features), rowvar=False)))
        return acc.result()

    scale = []
    assert abs(fvd(rgb, scale)) < 1e-12 * scale[0]
    slightly, strongly = fvd([0.8 * f for f in rgb]), fvd([0.4 * f for f in rgb])
    assert 1e-6 < slightly < strongly
    short = FvdAccumulator(model, clip_frames=4, stride=4, size=32)
    for f in rgb:
        short.update(torch.from_numpy(f), torch.from_numpy(f))
    with pytest.raises(ValueError, match="at least 2 clips of 4 frames .*5 frames give 1"):
        short.result()
    assert clip_starts(33, 16, 8) == [0, 8, 16] and clip_starts(10) == []


def test_wrong_i3d_files_are_one_clear_error(tmp_path, i3d_state):
    state = i3d_state()
    del state["Mixed_4d.b2b.bn.running_var"]
    with pytest.raises(WeightsUnavailable, match="has no tensor Mixed_4d.b2b.bn.running_var"):
        load_i3d(state, tmp_path / "i3d.pt")
    with pytest.raises(WeightsUnavailable, match="FVD needs its weights: give --I3dWeights=FILE"):
        build_i3d("")
