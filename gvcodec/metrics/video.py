"""The temporal and learned metrics of `gvcodec metrics`, fed one (reference, decoded) frame pair at a time.

Each metric is opened from the command's options (its weight files are read then, so a missing
file is known before the first frame) and gives a per-frame value (or None) and a sequence value:

| name         | column       | per frame                      | sequence              | better |
|--------------|--------------|--------------------------------|-----------------------|--------|
| ewarp        | ewarp        | pair (t-1, t) warping error    | mean over pairs       | lower  |
| lpips-alex   | lpips_alex   | LPIPS (AlexNet)                | mean over frames      | lower  |
| lpips-vgg    | lpips_vgg    | LPIPS (VGG16)                  | mean over frames      | lower  |
| dists        | dists        | DISTS                          | mean over frames      | lower  |
| clipf        | clipf        | cos of CLIP(t-1), CLIP(t)      | mean over pairs       | higher |
| fvd          | fvd          | -                              | FVD of the clip sets  | lower  |

docs/metrics.md describes each estimator and its weight files.
"""

from __future__ import annotations

import numpy as np

from gvcodec.errors import OptionError
from gvcodec.io.frames import Frame

COLUMNS = {"ewarp": "ewarp", "lpips-alex": "lpips_alex", "lpips-vgg": "lpips_vgg", "dists": "dists",
           "clipf": "clipf", "fvd": "fvd"}
LABELS = {"ewarp": "E_warp", "lpips_alex": "LPIPS-A", "lpips_vgg": "LPIPS-V", "dists": "DISTS",
          "clipf": "CLIP-F", "fvd": "FVD"}


class FrameMetric:
    """Base: `update` takes one frame pair, `result` gives the sequence value."""

    column = ""

    def __init__(self) -> None:
        self.values: list[float] = []

    def update(self, ref: Frame, dec: Frame, ref_rgb: np.ndarray, dec_rgb: np.ndarray) -> float | None:
        raise NotImplementedError

    def result(self) -> float | None:
        finite = [v for v in self.values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else None


class _Torch(FrameMetric):
    def __init__(self, device: str) -> None:
        super().__init__()
        self.device = device

    def tensor(self, rgb: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32))[None].to(self.device)


class PairMetric(_Torch):
    """A full-reference picture metric (LPIPS, DISTS) measured frame by frame."""

    def __init__(self, column: str, model, device: str) -> None:
        super().__init__(device)
        self.column, self.model = column, model.to(device)

    def update(self, ref, dec, ref_rgb, dec_rgb):
        value = float(self.model(self.tensor(ref_rgb), self.tensor(dec_rgb))[0])
        self.values.append(value)
        return value


class WarpMetric(FrameMetric):
    column = "ewarp"

    def __init__(self) -> None:
        super().__init__()
        from gvcodec.metrics.ewarp import WarpingError

        self.inner = WarpingError()

    def update(self, ref, dec, ref_rgb, dec_rgb):
        from gvcodec.metrics.ewarp import to_gray8

        return self.inner.update(to_gray8(ref.planes[0], ref.fmt.bit_depth), dec_rgb)

    def result(self):
        return self.inner.result()


class ClipConsistency(_Torch):
    column = "clipf"

    def __init__(self, model, device: str) -> None:
        super().__init__(device)
        self.model, self.prev = model.to(device), None

    def update(self, ref, dec, ref_rgb, dec_rgb):
        import torch

        from gvcodec.metrics.clip import consecutive_cosines

        emb = self.model(self.tensor(dec_rgb))[0].double().cpu()
        value = None
        if self.prev is not None:
            value = float(consecutive_cosines(torch.stack([self.prev, emb]))[0])
            self.values.append(value)
        self.prev = emb
        return value


class VideoFvd(_Torch):
    column = "fvd"

    def __init__(self, model, device: str, clip_frames: int, stride: int) -> None:
        super().__init__(device)
        from gvcodec.metrics.fvd import FvdAccumulator

        self.inner = FvdAccumulator(model.to(device), clip_frames, stride, device=device)
        self.problem = ""

    def update(self, ref, dec, ref_rgb, dec_rgb):
        self.inner.update(self.tensor(ref_rgb)[0].cpu(), self.tensor(dec_rgb)[0].cpu())
        return None

    def result(self):
        try:
            return self.inner.result()
        except ValueError as exc:
            self.problem = str(exc)
            return None


def check_device(device: str) -> str:
    """`device` if torch can use it (cpu, cuda, cuda:N), else OptionError."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise OptionError(f"Device: unknown torch device `{device}'") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (dev.index or 0) >= count:
            raise OptionError(f"Device: {device} requested but torch sees {count or 'no'} CUDA device"
                              f"{'s' if count != 1 else ''}")
    return device


def open_metric(name: str, opts) -> FrameMetric:
    """The metric `name` (a key of COLUMNS) with its weights read as `opts` say.

    Args:
        name: e.g. "lpips-vgg".
        opts: parsed `gvcodec metrics` options (weight paths, Device, FVD windows).

    Raises:
        WeightsUnavailable: a weight file is missing or does not fit.
    """
    if name == "ewarp":
        return WarpMetric()
    device = check_device(opts.device)
    if name in ("lpips-alex", "lpips-vgg"):
        from gvcodec.metrics.lpips import build_lpips

        net = name.split("-")[1]
        trunk = opts.alex_net_weights if net == "alex" else opts.vgg16_weights
        return PairMetric(COLUMNS[name], build_lpips(net, trunk, opts.lpips_weights_dir), device)
    if name == "dists":
        from gvcodec.metrics.dists import build_dists

        return PairMetric("dists", build_dists(opts.vgg16_weights, opts.dists_weights), device)
    if name == "clipf":
        from gvcodec.metrics.clip import build_clip

        return ClipConsistency(build_clip(opts.clip_weights, opts.clip_activation), device)
    if name == "fvd":
        from gvcodec.metrics.fvd import build_i3d

        return VideoFvd(build_i3d(opts.i3d_weights), device, opts.fvd_clip_frames, opts.fvd_clip_stride)
    raise OptionError(f"unknown metric {name}")
