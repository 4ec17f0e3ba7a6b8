"""RD curves and the BD-rate table image: real PNG files, one per sequence and metric, with the curves drawn."""

import math

import numpy as np
import pytest
from PIL import Image

from gvcodec.metrics.bdrate import bdrate_table
from gvcodec.report.results import read_results
from gvcodec.report.bdtable_image import bdrate_table_image
from gvcodec.report.plots import COLOURS, codec_styles, metric_columns, plot_rd_curves

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_results(path, sequences=("foreman", "bus"), codecs=(("x265", 0.0), ("x264", -1.0), ("neural", 1.0))):
    """Four rate points per codec and sequence; the offset shifts the curves (higher = better)."""
    from gvcodec.report.results import append_result

    for seq in sequences:
        for codec, off in codecs:
            for i, qp in enumerate((22, 27, 32, 37)):
                bpp = 0.4 * 2 ** (-i)
                append_result(path, dict(sequence=seq, codec=codec, qp=qp, frames=4, width=352, height=288, bpp=bpp,
                                         psnr_y=40 + off + 3 * math.log2(bpp), msssim=0.99 - 0.01 * i + 0.001 * off,
                                         lpips=0.05 + 0.03 * i - 0.005 * off))
    return read_results(path)


def png_rgb(path) -> np.ndarray:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    return np.asarray(Image.open(path).convert("RGB"))


def has_colour(img: np.ndarray, hex_colour: str, min_pixels: int = 50) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img.astype(int) - rgb).sum(axis=-1) < 30).sum()) >= min_pixels


def test_metric_columns_in_header_order_then_extras(tmp_path):
    rows = write_results(tmp_path / "r.csv")
    assert metric_columns(rows) == ["psnr_y", "msssim", "lpips"]
    assert metric_columns([{"sequence": "s", "codec": "c", "psnr_rgb": None, "vmaf": 90.0, "clip_f": 0.9}]) == \
        ["vmaf", "clip_f"]


def test_one_png_per_sequence_and_metric_with_every_codec_drawn(tmp_path):
    rows = write_results(tmp_path / "r.csv")
    out = tmp_path / "plots"
    out.mkdir()
    paths = plot_rd_curves(rows, out, dpi=50)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"rd_{s}_{m}.png" for s in ("foreman", "bus") for m in ("psnr_y", "msssim", "lpips"))
    styles = codec_styles(["x265", "x264", "neural"])
    for path in paths:
        img = png_rgb(path)
        assert img.shape == (240, 320, 3)  # 6.4 x 4.8 inches at 50 dpi
        for codec in ("x265", "x264", "neural"):
            assert has_colour(img, styles[codec][0]), f"{codec} curve missing in {path.name}"
    assert not list(out.glob(".*part"))  # atomic writes leave no temporary file


def test_codec_without_a_metric_is_left_out_and_empty_metric_gives_no_plot(tmp_path):
    rows = write_results(tmp_path / "r.csv", sequences=("foreman",))
    for r in rows:
        if r["codec"] == "neural":
            r["lpips"] = None
    paths = plot_rd_curves(rows, tmp_path, metrics=["lpips", "vmaf"], dpi=50)
    assert [p.name for p in paths] == ["rd_foreman_lpips.png"]  # no vmaf values: no vmaf plot
    img = png_rgb(paths[0])
    assert has_colour(img, COLOURS[0]) and not has_colour(img, COLOURS[2])


def test_bdrate_table_image(tmp_path):
    rows = write_results(tmp_path / "r.csv")
    anchor = [r for r in rows if r["codec"] == "x264"]
    tables = {c: bdrate_table(anchor, [r for r in rows if r["codec"] == c]) for c in ("x265", "neural")}
    assert tables["neural"].average["psnr_y"].value < tables["x265"].average["psnr_y"].value < 0
    path = bdrate_table_image(tables, "x264", tmp_path / "bd.png", dpi=60)
    img = png_rgb(path)
    assert img.shape[1] > 200 and has_colour(img, "#d9f2d9")  # savings are tinted green
    with pytest.raises(ValueError):
        bdrate_table_image({}, "x264", tmp_path / "none.png")
