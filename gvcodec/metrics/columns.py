"""The quality columns the metrics write into stats and results files: their order and direction."""

from __future__ import annotations

# Columns written by `gvcodec metrics` (lpips_alex ... fvd) plus the short names hand-made CSVs use.
LOWER_IS_BETTER = frozenset({"lpips", "lpips_alex", "lpips_vgg", "dists", "fvd", "ewarp", "e_warp"})
# Quality columns of a results CSV in the order tables and plots list them (as its header has them).
QUALITY_ORDER = ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb", "msssim", "msssim_rgb", "vmaf",
                 "lpips_alex", "lpips_vgg", "dists", "ewarp", "clipf", "fvd")
QUALITY_COLUMNS = frozenset(QUALITY_ORDER) | LOWER_IS_BETTER
