"""Side-by-side layout, captions and the viewing-copy writer."""

from fractions import Fraction

import av
import numpy as np
import pytest

from gvcodec.errors import OptionError
from gvcodec.report.sidebyside import Crop, Grid, caption_lines, make_grid, pick_row
from gvcodec.report.text_overlay import render_caption
from gvcodec.report.video_writer import RgbVideoWriter


def test_crop_parse_and_check():
    assert Crop.parse("320x180+640+360") == Crop(320, 180, 640, 360)
    assert Crop.parse("64x48") == Crop(64, 48, 0, 0)
    for bad in ("64x", "0x10+1+1", "a", "64x48+1"):
        with pytest.raises(OptionError):
            Crop.parse(bad)
    Crop(64, 48, 16, 16).check(80, 64)
    with pytest.raises(OptionError, match="does not fit"):
        Crop(64, 48, 17, 0).check(80, 64)


def test_caption_lines_from_a_results_row():
    row = {"codec": "x265", "qp": 37, "bpp": 0.07254, "psnr_y": 33.441, "msssim": 0.97781, "lpips": 0.1234, "vmaf": None}
    assert caption_lines("x265", row, extra="preset slow") == [
        "x265", "0.0725 bpp @ QP 37", "Y-PSNR 33.44 dB   MS-SSIM 0.9778", "LPIPS 0.1234", "preset slow"]
    assert caption_lines("ref") == ["ref"]


def test_pick_row_needs_exactly_one_row():
    rows = [{"sequence": s, "codec": c, "qp": q} for s in ("a", "b") for c in ("x264", "x265") for q in (32, 37)]
    assert pick_row(rows, "x265", "b", "32") == {"sequence": "b", "codec": "x265", "qp": 32}
    with pytest.raises(OptionError, match="4 rows for codec `x264'.*narrow it"):
        pick_row(rows, "x264")
    with pytest.raises(OptionError, match="no row for codec `vtm'"):
        pick_row(rows, "vtm", "a")


def test_grid_tiles_pictures_and_burns_captions():
    pics = [np.full((40, 60, 3), v, np.uint8) for v in (50, 100, 150)]
    grid = make_grid(60, 40, [["ref"], ["A", "0.1 bpp"], ["B"]])
    assert grid.size == (3 * 60 + 2 * 2, 40) and (grid.columns, grid.rows) == (3, 1)
    out = grid.compose(pics)
    for i, v in enumerate((50, 100, 150)):
        x, _ = grid.origin(i)
        assert (out[-5:, x:x + 60] == v).all()  # below the caption the picture is untouched
        assert out[:15, x:x + 30].max() > 200  # white text in the caption
        assert out[:15, x:x + 30].min() < v  # on a darkened box
    assert (out[:, 60:62] == 0).all()  # black gap between panels
    assert Grid(10, 10, 5).size == (3 * 10 + 2 * 2, 2 * 10 + 2)  # 5 panels: two rows of three


def test_caption_is_cut_to_the_panel():
    cap = render_caption(["a rather long caption line that does not fit"], 12, 50)
    assert cap.shape[1] == 50 and cap.alpha.max() == pytest.approx(1.0)


@pytest.mark.parametrize("name, size", [("v.mp4", (64, 48)), ("v.mkv", (33, 21)), ("v.webm", (40, 30))])
def test_video_writer_round_trip(tmp_path, name, size):
    w, h = size
    writer = RgbVideoWriter(tmp_path / name, w, h, Fraction(25))
    for t in range(4):
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 1] = 40 * t
        writer.write(img)
    assert not (tmp_path / name).exists()  # appears only when closed
    writer.close()
    with av.open(str(tmp_path / name)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 4 and frames[0].shape == (h + h % 2, w + w % 2, 3)
    assert [int(np.median(f[..., 1])) for f in frames] == pytest.approx([0, 40, 80, 120], abs=3)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_video_writer_errors_and_discard(tmp_path):
    with pytest.raises(OptionError, match="use one of"):
        RgbVideoWriter(tmp_path / "v.avi", 8, 8, Fraction(25))
    writer = RgbVideoWriter(tmp_path / "v.mp4", 8, 8, Fraction(25))
    with pytest.raises(ValueError):
        writer.write(np.zeros((8, 9, 3), np.uint8))
    writer.discard()
    assert list(tmp_path.iterdir()) == []
