"""FVD (Unterthiner et al. 2018): Fréchet distance between I3D features of reference and decoded clips.

Clips: windows of `clip_frames` consecutive frames (16 by default) every `stride` frames, taken
at the same positions from the reference and the decoded video; each frame resized to 224x224
(bilinear, aspect not kept) and scaled to [-1, 1], as in the FVD paper. Features: the 400 logits
of an Inception-v1 I3D (Carreira and Zisserman, CVPR 2017) averaged over the last space-time grid
(for 16x224x224 clips this equals the TF-Hub I3D embedding FVD uses). The distance between the
two Gaussians fitted to the feature sets (mean, covariance with N-1) is

    FVD = |mu_r - mu_d|^2 + Tr(S_r + S_d - 2 (S_r^1/2 S_d S_r^1/2)^1/2)

computed in float64 through symmetric eigen-decompositions and one SVD (no iterative sqrtm).
At least 2 clips are needed; with few clips (one video, not a data set) S has low rank and the
value says more about the mean features than about the distribution: compare FVDs only at equal
clip counts. Lower is better; 0 for identical videos.

I3D weights: a local file (--I3dWeights) in the layout of the widely used PyTorch port of the
Kinetics-400 I3D (``pytorch_i3d``, e.g. its ``rgb_imagenet.pt``): units ``Conv3d_1a_7x7``,
``Conv3d_2b_1x1``, ``Conv3d_2c_3x3``, ``Mixed_3b`` .. ``Mixed_5c`` (branches ``b0``, ``b1a``,
``b1b``, ``b2a``, ``b2b``, ``b3b``), each ``<unit>.conv3d.weight`` plus batch norm
``<unit>.bn.{weight,bias,running_mean,running_var}`` (eps 1e-3), and ``logits.conv3d.{weight,bias}``.
Widths and kernel sizes are read from the shapes; strides and pools are the architecture's.
Convolutions and pools use TensorFlow "SAME" padding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.metrics.weight_files import read_state_dict, required_path, take

CLIP_FRAMES = 16
SIZE = 224
BN_EPS = 1e-3
# The I3D trunk in order: ("conv", name, stride) / ("pool", kernel, stride) / ("mixed", name).
I3D_LAYOUT = (
    ("conv", "Conv3d_1a_7x7", (2, 2, 2)), ("pool", (1, 3, 3), (1, 2, 2)),
    ("conv", "Conv3d_2b_1x1", (1, 1, 1)), ("conv", "Conv3d_2c_3x3", (1, 1, 1)), ("pool", (1, 3, 3), (1, 2, 2)),
    ("mixed", "Mixed_3b"), ("mixed", "Mixed_3c"), ("pool", (3, 3, 3), (2, 2, 2)),
    ("mixed", "Mixed_4b"), ("mixed", "Mixed_4c"), ("mixed", "Mixed_4d"), ("mixed", "Mixed_4e"), ("mixed", "Mixed_4f"),
    ("pool", (2, 2, 2), (2, 2, 2)), ("mixed", "Mixed_5b"), ("mixed", "Mixed_5c"),
)
BRANCHES = ("b0", "b1a", "b1b", "b2a", "b2b", "b3b")


def same_pad(x: torch.Tensor, kernel: tuple, stride: tuple, value: float = 0.0) -> torch.Tensor:
    """TensorFlow SAME padding of the last three dims (the extra sample goes after)."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


def max_pool_same(x: torch.Tensor, kernel: tuple, stride: tuple) -> torch.Tensor:
    return F.max_pool3d(same_pad(x, kernel, stride, float("-inf")), kernel, stride)


class Unit3d(nn.Module):
    """Conv3d (no bias) + batch norm + ReLU with SAME padding."""

    def __init__(self, weight: torch.Tensor, stride: tuple) -> None:
        super().__init__()
        cout, cin, *kernel = weight.shape
        self.kernel, self.stride = tuple(kernel), stride
        self.conv3d = nn.Conv3d(cin, cout, self.kernel, stride=stride, bias=False)
        self.bn = nn.BatchNorm3d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv3d(same_pad(x, self.kernel, self.stride))))


class Mixed(nn.Module):
    """Inception module: 1x1 | 1x1 -> kxk | 1x1 -> kxk | 3x3x3 max-pool -> 1x1, concatenated."""

    def __init__(self, units: dict[str, Unit3d]) -> None:
        super().__init__()
        for name, unit in units.items():
            self.add_module(name, unit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = max_pool_same(x, (3, 3, 3), (1, 1, 1))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(pooled)], 1)


class I3d(nn.Module):
    """I3D feature extractor: clips [N, 3, T, H, W] in [-1, 1] -> logits [N, classes]."""

    def __init__(self, layers: list[tuple[str, nn.Module | None, tuple, tuple]], logits: nn.Conv3d) -> None:
        super().__init__()
        self.plan = [(kind, name, k, s) for kind, name, _, k, s in layers]
        for kind, name, module, _, _ in layers:
            if module is not None:
                self.add_module(name, module)
        self.logits = logits

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for kind, name, kernel, stride in self.plan:
            x = max_pool_same(x, kernel, stride) if kind == "pool" else getattr(self, name)(x)
        return self.logits(x.mean(dim=(2, 3, 4), keepdim=True)).flatten(1)


def _unit(state: dict, prefix: str, cin: int, stride: tuple, path: Path) -> Unit3d:
    what = "I3D"
    weight = take(state, f"{prefix}.conv3d.weight", (None, cin, None, None, None), what, path)
    unit = Unit3d(weight, stride)
    with torch.no_grad():
        unit.conv3d.weight.copy_(weight)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(unit.bn, name).copy_(take(state, f"{prefix}.bn.{name}", (weight.shape[0],), what, path))
    return unit


def load_i3d(state: dict, path: Path) -> I3d:
    """Build the I3D of a `pytorch_i3d`-layout state dict (widths from the shapes).

    Raises:
        WeightsUnavailable: a tensor is missing or does not fit.
    """
    layers, cin = [], 3
    for i, entry in enumerate(I3D_LAYOUT):
        if entry[0] == "pool":
            layers.append(("pool", f"pool{i}", None, entry[1], entry[2]))
        elif entry[0] == "conv":
            unit = _unit(state, entry[1], cin, entry[2], path)
            layers.append(("conv", entry[1], unit, (), ()))
            cin = unit.conv3d.out_channels
        else:
            name, one = entry[1], (1, 1, 1)
            units = {"b0": _unit(state, f"{name}.b0", cin, one, path),
                     "b1a": _unit(state, f"{name}.b1a", cin, one, path)}
            units["b1b"] = _unit(state, f"{name}.b1b", units["b1a"].conv3d.out_channels, one, path)
            units["b2a"] = _unit(state, f"{name}.b2a", cin, one, path)
            units["b2b"] = _unit(state, f"{name}.b2b", units["b2a"].conv3d.out_channels, one, path)
            units["b3b"] = _unit(state, f"{name}.b3b", cin, one, path)
            layers.append(("mixed", name, Mixed(units), (), ()))
            cin = sum(units[b].conv3d.out_channels for b in ("b0", "b1b", "b2b", "b3b"))
    weight = take(state, "logits.conv3d.weight", (None, cin, 1, 1, 1), "I3D", path)
    logits = nn.Conv3d(cin, weight.shape[0], 1)
    with torch.no_grad():
        logits.weight.copy_(weight)
        logits.bias.copy_(take(state, "logits.conv3d.bias", (weight.shape[0],), "I3D", path))
    return I3d(layers, logits).eval().requires_grad_(False)


def build_i3d(weights_file: str) -> I3d:
    """The I3D of a local weight file (--I3dWeights).

    Raises:
        WeightsUnavailable: no file given, or it does not fit (one line naming it).
    """
    path = required_path(weights_file, "I3dWeights", "FVD")
    return load_i3d(read_state_dict(path, "I3D"), path)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding noise clipped)."""
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2), in float64.

    Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2) is computed as the sum of the singular values of
    S1^1/2 S2^1/2 (whose squares are the eigenvalues of S1^1/2 S2 S1^1/2): symmetric square roots
    by eigen-decomposition and one SVD, exact up to rounding even for singular covariances, and
    without squaring the condition number.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    cross = np.linalg.svd(_sqrt_psd(cov1) @ _sqrt_psd(cov2), compute_uv=False).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * cross)


def feature_distance(ref: np.ndarray, dec: np.ndarray) -> float:
    """Fréchet distance of two feature sets [N, D] (N >= 2 each)."""
    if len(ref) < 2 or len(dec) < 2:
        raise ValueError("the Fréchet distance needs at least 2 feature vectors per set")
    ref, dec = np.asarray(ref, np.float64), np.asarray(dec, np.float64)
    return frechet_distance(ref.mean(0), np.cov(ref, rowvar=False), dec.mean(0), np.cov(dec, rowvar=False))


def clip_starts(frames: int, clip_frames: int = CLIP_FRAMES, stride: int = CLIP_FRAMES) -> list[int]:
    """First frame of every window of `clip_frames` frames, every `stride` frames."""
    return list(range(0, frames - clip_frames + 1, stride)) if frames >= clip_frames else []


def prepare_frame(rgb: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """RGB [3, H, W] in [0, 1] -> [3, size, size] in [-1, 1] (bilinear)."""
    x = F.interpolate(rgb[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x[0] * 2 - 1).clamp(-1, 1)


class FvdAccumulator:
    """Collects I3D features of reference and decoded windows frame by frame.

    Args:
        model: an :class:`I3d`.
        clip_frames, stride: window length and step, in frames.
        size: frame size fed to the I3D (224 in the FVD paper).
        device: where the I3D runs.
    """

    def __init__(self, model: I3d, clip_frames: int = CLIP_FRAMES, stride: int = CLIP_FRAMES, size: int = SIZE,
                 device: str = "cpu") -> None:
        self.model, self.clip_frames, self.stride, self.size, self.device = model, clip_frames, stride, size, device
        self.window: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.seen = 0
        self.ref_features: list[np.ndarray] = []
        self.dec_features: list[np.ndarray] = []

    def update(self, ref_rgb: torch.Tensor, dec_rgb: torch.Tensor) -> None:
        self.window.append((prepare_frame(ref_rgb, self.size), prepare_frame(dec_rgb, self.size)))
        self.seen += 1
        start = self.seen - self.clip_frames
        if start >= 0 and start % self.stride == 0:
            clips = [torch.stack([w[i] for w in self.window[-self.clip_frames:]], 1) for i in (0, 1)]
            feats = self.model(torch.stack(clips).to(self.device)).double().cpu().numpy()
            self.ref_features.append(feats[0])
            self.dec_features.append(feats[1])
        self.window = self.window[-self.clip_frames:]

    def result(self) -> float:
        """FVD of the windows seen (ValueError with fewer than 2 windows)."""
        if len(self.ref_features) < 2:
            raise ValueError(f"FVD needs at least 2 clips of {self.clip_frames} frames (stride {self.stride}); "
                             f"{self.seen} frames give {len(self.ref_features)}")
        return feature_distance(np.stack(self.ref_features), np.stack(self.dec_features))
