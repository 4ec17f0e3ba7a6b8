"""The results CSV store: round trip, filling the decoder's columns, text cells stay text."""

import math

import pytest

from gvcodec.errors import OutputError
from gvcodec.report.results import RESULTS_COLUMNS, append_result, fill_result, read_results, results_row


def test_results_row_derives_rate_columns():
    row = results_row("bus", "x265", 32, 10, 352, 288, 30.0, 50_000, psnr_y=35.0)
    assert row["kbps"] == pytest.approx(150.0) and row["bpp"] == pytest.approx(50_000 / (10 * 352 * 288))
    assert row["psnr_y"] == 35.0 and list(row)[:8] == list(RESULTS_COLUMNS[:8])


def test_results_csv_round_trip(tmp_path):
    path = tmp_path / "out" / "results.csv"
    first = {"sequence": "bus", "codec": "gv", "qp": 22, "frames": 17, "bpp": 0.123456789012345,
             "psnr_y": 36.1234567890123, "msssim": None, "lpips": 0.25}  # fmt: skip
    second = {"sequence": "bus", "codec": "gv", "qp": 27, "psnr_y": 34.5, "lpips": 0.3}
    append_result(path, first)
    append_result(path, second)
    header = path.read_text().splitlines()[0].split(",")
    assert header == list(RESULTS_COLUMNS) + ["lpips"]
    back = read_results(path)
    assert len(back) == 2
    assert back[0]["bpp"] == first["bpp"] and back[0]["psnr_y"] == first["psnr_y"]
    assert back[0]["qp"] == 22 and back[0]["msssim"] is None and back[0]["vmaf"] is None
    assert back[1]["lpips"] == 0.3 and back[1]["frames"] is None
    with pytest.raises(OutputError, match="no column for niqe"):  # a metric column the file was not made with
        append_result(path, {"sequence": "bus", "codec": "gv", "niqe": 4.2})


def test_fill_result_completes_the_last_matching_row(tmp_path):
    path = tmp_path / "r.csv"
    for qp, bits in ((22, 9000), (27, 4000), (27, 4000)):
        append_result(path, {"sequence": "bus", "codec": "gv", "qp": qp, "frames": 3, "bits": bits, "enc_fps": 2.5})
    fill_result(path, {"bits": 4000, "qp": 27, "frames": 3}, {"dec_fps": 7.25})
    back = read_results(path)
    assert [r["dec_fps"] for r in back] == [None, None, 7.25]  # the latest run of that stream
    fill_result(path, {"bits": 4000, "qp": 27, "frames": 3}, {"dec_fps": 6.0})
    assert [r["dec_fps"] for r in read_results(path)] == [None, 6.0, 7.25]
    assert back[2]["enc_fps"] == 2.5 and not list(tmp_path.glob("*.part"))
    with pytest.raises(OutputError, match="no row for this stream"):
        fill_result(path, {"bits": 4000, "qp": 27, "frames": 3}, {"dec_fps": 1.0})
    with pytest.raises(OutputError, match="no row for this stream"):
        fill_result(path, {"bits": 1, "qp": 22, "frames": 3}, {"dec_fps": 1.0})
    with pytest.raises(OutputError, match="cannot read"):
        fill_result(tmp_path / "none.csv", {"bits": 1}, {"dec_fps": 1.0})


def test_results_csv_keeps_sequence_names_as_text(tmp_path):
    path = tmp_path / "r.csv"
    append_result(path, {"sequence": "1080", "codec": "007", "kbps": float("nan")})
    row = read_results(path)[0]
    assert row["sequence"] == "1080" and row["codec"] == "007" and row["kbps"] is None
    assert row["bits"] is None and not any(isinstance(v, float) and math.isnan(v) for v in row.values())
