"""Y'CbCr <-> R'G'B' conversion and chroma resampling, defined once for all of gvcodec.

Matrices (non-constant luminance, ITU-T H.273 style), chosen by name:

* ``"bt709"`` (default): Kr = 0.2126, Kb = 0.0722
* ``"bt601"``: Kr = 0.299, Kb = 0.114
* ``"bt2020"``: Kr = 0.2627, Kb = 0.0593

With Kg = 1 - Kr - Kb, normalised Y' in [0, 1] and Cb, Cr in [-0.5, 0.5]::

    R = Y + 2 (1 - Kr) Cr
    B = Y + 2 (1 - Kb) Cb
    G = (Y - Kr R - Kb B) / Kg

Sample ranges at bit depth ``bd`` (``s = 1 << (bd - 8)``):

* limited ("video", default): ``Y = 16 s + 219 s Y'``, ``C = 128 s + 224 s C'``
  (so 8-bit Y 16..235 and C 16..240; 10-bit Y 64..940 and C 64..960).
* full: ``Y = (2^bd - 1) Y'``, ``C = 2^(bd-1) + (2^bd - 1) C'``.

Integer samples are produced by rounding half up (``floor(x + 0.5)``) and clipping to the whole
code range ``0 .. 2^bd - 1`` (foot- and headroom are legal, as in HM); floats coming out of
``ycbcr_to_rgb`` are not clamped, while the numpy wrapper ``frame_to_rgb`` clamps R'G'B' to [0, 1].

Chroma siting and resampling (the one definition every engine and metric uses):

* Chroma samples are **centre sited**: chroma sample ``i`` sits at luma position ``2 i + 0.5``
  along every subsampled axis (between the two luma samples it covers).
* Down-sampling is a **box average** of the 2x2 (4:2:0) or 2x1 (4:2:2, horizontal pairs) luma-grid
  samples it covers. An odd trailing luma row/column is dropped, matching the
  ``size >> 1`` chroma plane size of :class:`~gvcodec.io.frames.VideoFormat`.
* Up-sampling is **bilinear, half-pixel centred, edge clamped**: luma position ``x`` reads the
  chroma plane at ``(x - 0.5) / 2``, so the weights are 3/4 and 1/4 of the two nearest chroma
  samples, and positions outside the plane repeat its edge sample.
* 4:0:0 pictures have grey chroma: converting them to RGB gives R = G = B = Y', and converting RGB
  to a 4:0:0 format keeps only Y'.

The core is written in torch (float32 for integer inputs, otherwise the input's float dtype;
differentiable; any device) so neural engines can train through it; tensors are ``[N, C, H, W]`` or ``[C, H, W]`` (channel dimension ``-3``). The numpy /
:class:`~gvcodec.io.frames.Frame` wrappers at the bottom are thin shims over the same functions.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gvcodec.io.frames import CHROMA_FORMATS, Frame, VideoFormat

# (Kr, Kb) per matrix name; Kg follows from Kr + Kg + Kb = 1.
MATRICES: dict[str, tuple[float, float]] = {
    "bt709": (0.2126, 0.0722),
    "bt601": (0.299, 0.114),
    "bt2020": (0.2627, 0.0593),
}


def _coefficients(matrix: str) -> tuple[float, float, float]:
    """(Kr, Kg, Kb) of a named matrix, with a clear error for unknown names."""
    try:
        kr, kb = MATRICES[matrix.lower()]
    except KeyError:
        raise ValueError(f"unknown colour matrix {matrix!r}; use one of {', '.join(MATRICES)}") from None
    return kr, 1.0 - kr - kb, kb


def _range_params(bit_depth: int, full_range: bool) -> tuple[float, float, float, float]:
    """(luma offset, luma scale, chroma offset, chroma scale) in code values."""
    if full_range:
        top = float((1 << bit_depth) - 1)
        return 0.0, top, float(1 << (bit_depth - 1)), top
    s = float(1 << (bit_depth - 8)) if bit_depth >= 8 else 1.0 / (1 << (8 - bit_depth))
    return 16.0 * s, 219.0 * s, 128.0 * s, 224.0 * s


# --------------------------------------------------------------------------------------------
# chroma resampling


def _chroma_shift(chroma_format: int) -> tuple[int, int]:
    """(vertical, horizontal) log2 subsampling, taken from VideoFormat (its one home)."""
    if chroma_format not in CHROMA_FORMATS:
        raise ValueError(f"unknown chroma format {chroma_format}; use one of {CHROMA_FORMATS}")
    return VideoFormat(0, 0, chroma_format).chroma_shift


def upsample_chroma(c: torch.Tensor, size: tuple[int, int], shift: tuple[int, int]) -> torch.Tensor:
    """Bring a chroma plane back to the luma grid (bilinear, centre sited, edge clamped).

    Args:
        c: chroma tensor ``[..., h, w]`` (any leading dimensions, float).
        size: target luma ``(H, W)``.
        shift: ``(vertical, horizontal)`` log2 subsampling, e.g. ``(1, 1)`` for 4:2:0,
            ``(0, 1)`` for 4:2:2, ``(0, 0)`` for 4:4:4 (then ``c`` is returned unchanged).

    Returns:
        Tensor ``[..., H, W]``.
    """
    sy, sx = shift
    h, w = c.shape[-2:]
    extra_h, extra_w = size[0] - (h << sy), size[1] - (w << sx)
    if not (0 <= extra_h <= sy and 0 <= extra_w <= sx):
        raise ValueError(f"chroma {(h, w)} with shift {tuple(shift)} cannot fill luma {tuple(size)}")
    if not (sy or sx):
        return c
    x = c.reshape(-1, 1, h, w)
    # torch's half-pixel bilinear with an exact scale factor of 2 reads chroma position (x - 0.5) / 2
    # and clamps at the edges, which is the siting defined above (weights 3/4 and 1/4).
    x = F.interpolate(x, scale_factor=(float(1 << sy), float(1 << sx)), mode="bilinear", align_corners=False)
    if extra_h or extra_w:  # odd luma size: the last row/column lies past the last chroma centre
        x = F.pad(x, (0, extra_w, 0, extra_h), mode="replicate")
    return x.reshape(*c.shape[:-2], *size)


def downsample_chroma(c: torch.Tensor, shift: tuple[int, int]) -> torch.Tensor:
    """Subsample a full-resolution chroma plane by box averaging (centre siting).

    Args:
        c: chroma tensor ``[..., H, W]`` on the luma grid.
        shift: ``(vertical, horizontal)`` log2 subsampling (0 or 1 each).

    Returns:
        Tensor ``[..., H >> sy, W >> sx]``; an odd trailing row/column is dropped.
    """
    sy, sx = shift
    if sy:
        h = c.shape[-2] >> 1
        c = 0.5 * (c[..., 0 : 2 * h : 2, :] + c[..., 1 : 2 * h : 2, :])
    if sx:
        w = c.shape[-1] >> 1
        c = 0.5 * (c[..., 0 : 2 * w : 2] + c[..., 1 : 2 * w : 2])
    return c


def _shift_between(luma: torch.Tensor, chroma: torch.Tensor) -> tuple[int, int]:
    """Infer the log2 subsampling from luma and chroma tensor sizes."""
    shift = []
    for big, small in zip(luma.shape[-2:], chroma.shape[-2:]):
        if small == big:
            shift.append(0)
        elif small == big >> 1:
            shift.append(1)
        else:
            raise ValueError(f"chroma size {tuple(chroma.shape[-2:])} does not fit luma {tuple(luma.shape[-2:])}")
    return shift[0], shift[1]


# --------------------------------------------------------------------------------------------
# colour conversion (torch core)


def _ycbcr_matrix(matrix: str) -> torch.Tensor:
    """3x3 float64 map from R'G'B' to (Y', Cb, Cr): Cb = (B - Y') / (2 (1 - Kb)), Cr likewise."""
    kr, kg, kb = _coefficients(matrix)
    y = torch.tensor([kr, kg, kb], dtype=torch.float64)
    cb = (torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64) - y) / (2.0 * (1.0 - kb))
    cr = (torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64) - y) / (2.0 * (1.0 - kr))
    return torch.stack([y, cb, cr])


def _rgb_matrix(matrix: str) -> torch.Tensor:
    """3x3 float64 map from (Y', Cb, Cr) to R'G'B', written out from the inverse equations."""
    kr, kg, kb = _coefficients(matrix)
    return torch.tensor(
        [
            [1.0, 0.0, 2.0 * (1.0 - kr)],
            [1.0, -2.0 * kb * (1.0 - kb) / kg, -2.0 * kr * (1.0 - kr) / kg],
            [1.0, 2.0 * (1.0 - kb), 0.0],
        ],
        dtype=torch.float64,
    )


def _code_scale(bit_depth: int, full_range: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(offsets, scales) of the Y, Cb, Cr code values, float64 vectors of 3."""
    y_off, y_scale, c_off, c_scale = _range_params(bit_depth, full_range)
    return (torch.tensor([y_off, c_off, c_off], dtype=torch.float64),
            torch.tensor([y_scale, c_scale, c_scale], dtype=torch.float64))  # fmt: skip


def _apply(m: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``m @ x + bias`` over the channel dimension -3, in x's dtype and device (one pass each)."""
    m = m.to(x.device, x.dtype)
    bias = bias.to(x.device, x.dtype).view(3, 1, 1)
    return torch.einsum("ij,...jhw->...ihw", m, x) + bias


def ycbcr_to_rgb(
    y: torch.Tensor,
    u: torch.Tensor | None,
    v: torch.Tensor | None,
    bit_depth: int = 8,
    matrix: str = "bt709",
    full_range: bool = False,
) -> torch.Tensor:
    """Convert Y'CbCr code values to R'G'B' in nominal [0, 1] (not clamped).

    Args:
        y: luma code values ``[N, 1, H, W]`` or ``[1, H, W]`` (float; integer-valued for real data).
        u, v: Cb and Cr code values with the same leading shape, either on the luma grid or
            subsampled by 2 along one or both axes (up-sampled as the module docstring says);
            ``None`` for 4:0:0 (grey chroma).
        bit_depth: bit depth of the code values.
        matrix: ``"bt709"``, ``"bt601"`` or ``"bt2020"``.
        full_range: full-range instead of limited-range code values.

    Returns:
        Float tensor ``[N, 3, H, W]`` or ``[3, H, W]`` (R, G, B), differentiable in the inputs.
    """
    _coefficients(matrix)  # reject unknown names even for 4:0:0
    off, scale = _code_scale(bit_depth, full_range)
    y = y.float() if not y.is_floating_point() else y
    if u is None or v is None:
        yn = (y - float(off[0])) / float(scale[0])
        return torch.cat([yn, yn, yn], dim=-3)
    size = tuple(y.shape[-2:])
    u = upsample_chroma(u.to(y.dtype), size, _shift_between(y, u))
    v = upsample_chroma(v.to(y.dtype), size, _shift_between(y, v))
    # rgb = M diag(1/scale) (codes - off): fold the range into one affine map
    m = _rgb_matrix(matrix) / scale
    return _apply(m, -(m @ off), torch.cat([y, u, v], dim=-3))


def rgb_to_ycbcr(
    rgb: torch.Tensor,
    bit_depth: int = 8,
    matrix: str = "bt709",
    full_range: bool = False,
    chroma_format: int = 444,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Convert R'G'B' in [0, 1] to Y'CbCr code values (float, not rounded or clipped).

    Args:
        rgb: ``[N, 3, H, W]`` or ``[3, H, W]`` tensor.
        bit_depth: bit depth of the output code values.
        matrix: ``"bt709"``, ``"bt601"`` or ``"bt2020"``.
        full_range: produce full-range instead of limited-range code values.
        chroma_format: 444, 422, 420 (chroma box-averaged on the float values) or 400
            (chroma returned as ``None``).

    Returns:
        ``(y, u, v)``, each with a channel dimension of 1; ``u`` and ``v`` are subsampled as
        ``chroma_format`` says, or ``None`` for 4:0:0.
    """
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"expected 3 colour channels in dimension -3, got shape {tuple(rgb.shape)}")
    shift = _chroma_shift(chroma_format)
    off, scale = _code_scale(bit_depth, full_range)
    rgb = rgb.float() if not rgb.is_floating_point() else rgb
    ycc = _apply(scale[:, None] * _ycbcr_matrix(matrix), off, rgb)
    y, chroma = ycc.narrow(-3, 0, 1), ycc.narrow(-3, 1, 2)
    if chroma_format == 400:
        return y, None, None
    u, v = downsample_chroma(chroma, shift).split(1, dim=-3)
    return y, u, v


# --------------------------------------------------------------------------------------------
# numpy / Frame wrappers


def frame_to_rgb(frame: Frame, matrix: str = "bt709", full_range: bool = False) -> np.ndarray:
    """Convert a picture to R'G'B' for viewing or RGB metrics.

    Args:
        frame: the picture (any chroma format and bit depth).
        matrix: colour matrix name.
        full_range: whether the samples are full range.

    Returns:
        ``np.float32`` array ``[3, H, W]`` clamped to [0, 1] (out-of-gamut Y'CbCr combinations
        cannot be shown or compared in RGB otherwise).
    """
    planes = [torch.from_numpy(p.astype(np.float32))[None] for p in frame.planes]
    u, v = (planes[1], planes[2]) if len(planes) == 3 else (None, None)
    rgb = ycbcr_to_rgb(planes[0], u, v, frame.fmt.bit_depth, matrix, full_range)
    return rgb.clamp_(0.0, 1.0).numpy()


def rgb_to_frame(
    rgb: np.ndarray,
    fmt: VideoFormat,
    matrix: str = "bt709",
    full_range: bool = False,
    poc: int = 0,
) -> Frame:
    """Convert an R'G'B' picture to integer Y'CbCr samples.

    Args:
        rgb: float array ``[3, H, W]`` in [0, 1] (H, W must equal the format's size).
        fmt: target sample format (chroma format and bit depth).
        matrix: colour matrix name.
        full_range: produce full-range samples.
        poc: picture order count of the new frame.

    Returns:
        A :class:`Frame` whose samples are rounded half up and clipped to ``0 .. 2^bd - 1``.
    """
    rgb = np.asarray(rgb)
    if rgb.shape != (3, fmt.height, fmt.width):
        raise ValueError(f"rgb shape {rgb.shape} does not match {fmt}")
    rgb_t = torch.from_numpy(rgb.astype(np.float32))
    planes = rgb_to_ycbcr(rgb_t, fmt.bit_depth, matrix, full_range, fmt.chroma_format)
    top = (1 << fmt.bit_depth) - 1
    out = tuple(
        torch.floor(p[0] + 0.5).clamp_(0, top).numpy().astype(np.uint16) for p in planes if p is not None
    )
    return Frame(out, fmt, poc)
