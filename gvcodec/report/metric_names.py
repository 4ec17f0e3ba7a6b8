"""How results-CSV metric columns are named and printed for people (plot axes, burned-in labels).

One home for the display names, units and number formats, so a plot axis and a video label say
the same thing about the same column. Columns not listed here are shown by their own name.
"""

from __future__ import annotations

import math

# column -> (display name, unit or "", decimals)
_DISPLAY: dict[str, tuple[str, str, int]] = {
    "psnr_y": ("Y-PSNR", "dB", 2),
    "psnr_u": ("U-PSNR", "dB", 2),
    "psnr_v": ("V-PSNR", "dB", 2),
    "psnr_yuv": ("YUV-PSNR", "dB", 2),
    "psnr_rgb": ("RGB PSNR", "dB", 2),
    "msssim": ("MS-SSIM", "", 4),
    "msssim_rgb": ("RGB MS-SSIM", "", 4),
    "vmaf": ("VMAF", "", 2),
    "lpips": ("LPIPS", "", 4),
    "lpips_alex": ("LPIPS (Alex)", "", 4),
    "lpips_vgg": ("LPIPS (VGG)", "", 4),
    "dists": ("DISTS", "", 4),
    "e_warp": ("E_warp", "", 4),
    "clip_f": ("CLIP-F", "", 4),
    "fvd": ("FVD", "", 1),
}


def lower_is_better(column: str) -> bool:
    """Whether smaller values of `column` mean better quality (LPIPS and its variants, DISTS, FVD, E_warp)."""
    from gvcodec.metrics.columns import LOWER_IS_BETTER

    return column in LOWER_IS_BETTER or column.split("_")[0] in LOWER_IS_BETTER


def display_name(column: str) -> str:
    """`psnr_rgb` -> `RGB PSNR`; unknown columns keep their name."""
    return _DISPLAY.get(column, (column, "", 4))[0]


def axis_label(column: str) -> str:
    """Axis title: name, unit in parentheses, and the direction for lower-is-better metrics."""
    name, unit, _ = _DISPLAY.get(column, (column, "", 4))
    label = f"{name} ({unit})" if unit else name
    return label + (", lower is better" if lower_is_better(column) else "")


def format_value(column: str, value: float) -> str:
    """`psnr_y`, 33.0523 -> `Y-PSNR 33.05 dB`."""
    name, unit, decimals = _DISPLAY.get(column, (column, "", 4))
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"{name} n/a"
    return f"{name} {value:.{decimals}f}" + (f" {unit}" if unit else "")
