"""Warping error E_warp (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018).

Temporal flicker of a decoded video, measured along the motion of the original:

    E_warp = 1/(T-1) * sum_{t=1}^{T-1}  1/sum(M_t) * sum_p M_t(p) * || D_{t-1}(p) - W(D_t)(p) ||^2

* Flow: the motion between consecutive ORIGINAL frames, estimated with OpenCV's DIS optical flow
  (Kroeger et al., ECCV 2016; ``cv2.DISOpticalFlow``, preset "medium" by default) on the 8-bit
  luma planes; forward flow F (t-1 -> t) and backward flow B (t -> t-1). No learned flow
  network is used, so no weights are needed (RAFT is not offered).
* W(D_t): decoded frame t sampled at p + F(p) with bilinear interpolation (``cv2.remap``).
* Occlusion mask M_t (forward-backward consistency, Sundaram et al. 2010 / Ruder et al. 2016, as
  in Lai et al.): with B' = B sampled at p + F(p), a pixel is kept when
  |F + B'|^2 < 0.01 (|F|^2 + |B'|^2) + 0.5 and p + F(p) lies inside the picture.
* D: decoded frames as R'G'B' in [0, 1] (float64); ||.||^2 is the squared distance over the three
  channels (summed, not averaged, as Lai et al.'s evaluation code does), averaged over the kept pixels.

Scale: 0 for a video whose frames move exactly with the original's flow; for 8-bit video a
uniform flicker of k code values on every channel gives about 3 (k/255)^2. Papers usually
print E_warp x 10^3 (or x 10^2); gvcodec stores the plain value. Lower is better. The per-frame
value of frame t is the term of the pair (t-1, t); frame 0 has none.
"""

from __future__ import annotations

import numpy as np

from gvcodec.errors import InputError

ALPHA = 0.01  # relative tolerance of the forward-backward check
BETA = 0.5  # absolute tolerance (pixels^2)
PRESETS = ("ultrafast", "fast", "medium")


def _cv2():
    try:
        import cv2
    except ImportError:
        raise InputError("E_warp needs OpenCV: pip install opencv-python-headless") from None
    return cv2


def to_gray8(luma: np.ndarray, bit_depth: int) -> np.ndarray:
    """A luma plane as uint8 (DIS works on 8-bit pictures)."""
    if bit_depth > 8:
        luma = (luma.astype(np.uint32) + (1 << (bit_depth - 9))) >> (bit_depth - 8)
    return np.clip(luma, 0, 255).astype(np.uint8)


class FlowEstimator:
    """DIS optical flow between two 8-bit grey pictures."""

    def __init__(self, preset: str = "medium") -> None:
        if preset not in PRESETS:
            raise InputError(f"unknown DIS preset {preset} ({', '.join(PRESETS)})")
        cv2 = _cv2()
        self._dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow [H, W, 2] (x, y) such that a(p) ~ b(p + flow(p))."""
        return self._dis.calc(a, b, None)


def _grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` [H, W, C] sampled at p + flow(p) (bilinear; outside samples replicate the border)."""
    cv2 = _cv2()
    mx, my = _grid(flow)
    out = cv2.remap(image, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(image.shape)


def valid_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Pixels of frame t-1 that are visible in frame t: consistent flows and a target in the picture.

    Args:
        forward: flow t-1 -> t, [H, W, 2].
        backward: flow t -> t-1, [H, W, 2].

    Returns:
        bool [H, W].
    """
    h, w = forward.shape[:2]
    back = warp(backward.astype(np.float32), forward.astype(np.float32))
    total = (forward + back).astype(np.float64)
    lhs = (total ** 2).sum(-1)
    rhs = ALPHA * ((forward.astype(np.float64) ** 2).sum(-1) + (back.astype(np.float64) ** 2).sum(-1)) + BETA
    mx, my = _grid(forward)
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return (lhs < rhs) & inside


def pair_error(prev_dec: np.ndarray, dec: np.ndarray, forward: np.ndarray, mask: np.ndarray) -> float:
    """Masked mean squared RGB distance between decoded frame t-1 and decoded frame t warped back.

    Args:
        prev_dec, dec: decoded frames [3, H, W] in [0, 1].
        forward: original flow t-1 -> t.
        mask: :func:`valid_mask` of the original flows.

    Returns:
        The pair's warping error (NaN when every pixel is occluded).
    """
    kept = int(mask.sum())
    if kept == 0:
        return float("nan")
    warped = warp(np.ascontiguousarray(dec.transpose(1, 2, 0), dtype=np.float32), forward.astype(np.float32))
    diff = prev_dec.transpose(1, 2, 0).astype(np.float64) - warped.astype(np.float64)
    return float(((diff ** 2).sum(-1) * mask).sum() / kept)


class WarpingError:
    """E_warp accumulated frame by frame.

    Args:
        preset: DIS preset ("ultrafast", "fast" or "medium").
    """

    def __init__(self, preset: str = "medium") -> None:
        self.flow = FlowEstimator(preset)
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self.values: list[float] = []

    def update(self, ref_gray: np.ndarray, dec_rgb: np.ndarray) -> float | None:
        """Add one frame: original luma (uint8 [H, W]) and decoded RGB ([3, H, W] in [0, 1]).

        Returns:
            The warping error of the pair (previous frame, this frame), None for the first frame.
        """
        value = None
        if self._prev is not None:
            prev_gray, prev_dec = self._prev
            forward, backward = self.flow(prev_gray, ref_gray), self.flow(ref_gray, prev_gray)
            value = pair_error(prev_dec, dec_rgb, forward, valid_mask(forward, backward))
            self.values.append(value)
        self._prev = (ref_gray, dec_rgb)
        return value

    def result(self) -> float | None:
        """Mean over the frame pairs with kept pixels (None for fewer than 2 frames)."""
        finite = [v for v in self.values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else None
