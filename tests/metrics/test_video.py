"""The metrics command's temporal/learned metrics, opened from options and fed real frame pairs."""

from types import SimpleNamespace

import numpy as np
import pytest

from gvcodec.errors import OptionError
from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.metrics.video import COLUMNS, check_device, open_metric
from gvcodec.metrics.weight_files import WeightsUnavailable


def options(w, **changes):
    base = dict(device="cpu", alex_net_weights=str(w.alexnet), vgg16_weights=str(w.vgg16),
                lpips_weights_dir=str(w.heads_dir), dists_weights=str(w.dists), clip_weights=str(w.clip),
                clip_activation="quickgelu", i3d_weights=str(w.i3d), fvd_clip_frames=2, fvd_clip_stride=1)
    return SimpleNamespace(**{**base, **changes})


def test_every_metric_gives_its_per_frame_and_sequence_values(tiny_weights, bus_rgb):
    rgb, gray = bus_rgb
    fmt = VideoFormat(176, 144, 400, 8)
    frames = [Frame((g.astype(np.uint16),), fmt, t) for t, g in enumerate(gray[:3])]
    decoded = [np.clip(f * 0.9 + 0.05, 0, 1).astype(np.float32) for f in rgb[:3]]
    for name, column in COLUMNS.items():
        metric = open_metric(name, options(tiny_weights))
        assert metric.column == column
        values = [metric.update(f, f, r, d) for f, r, d in zip(frames, rgb, decoded)]
        if name in ("ewarp", "clipf"):  # pairs of consecutive frames
            assert values[0] is None and all(v is not None for v in values[1:])
        elif name == "fvd":
            assert values == [None] * 3
        else:
            assert all(v > 0 for v in values)
        result = metric.result()
        assert result is not None and np.isfinite(result), name
        if name != "fvd":
            assert result == pytest.approx(np.mean([v for v in values if v is not None]))


def test_missing_weights_and_devices_fail_before_the_first_frame(tiny_weights, tmp_path):
    with pytest.raises(WeightsUnavailable, match="I3dWeights"):
        open_metric("fvd", options(tiny_weights, i3d_weights=""))
    with pytest.raises(WeightsUnavailable, match="DistsWeights: no file"):
        open_metric("dists", options(tiny_weights, dists_weights=str(tmp_path / "none.pt")))
    with pytest.raises(OptionError, match="unknown torch device"):
        check_device("tpu:7")
