"""The pipeline in-process: encode -> results row, decode -> the encoder's reconstruction, metrics ->
the encoder's measures; every row through report.results.results_row."""

from __future__ import annotations

import pytest

from gvcodec.options.parse import parse_options
from gvcodec.pipeline.decode import run_decode
from gvcodec.pipeline.encode import run_encode
from gvcodec.pipeline.metrics import run_metrics
from gvcodec.report.console import Console
from gvcodec.report.results import RESULTS_COLUMNS, append_result, read_results

BUS = "bus_352x288_17f_yuv420p.yuv"


@pytest.fixture(scope="module")
def coded(sequence, tmp_path_factory):
    """5 frames of the bus clip coded with x265 at QP 37: (options, results row, folder)."""
    out = tmp_path_factory.mktemp("pipeline")
    argv = ["-i", str(sequence(BUS)), "-wdt", "352", "-hgt", "288", "-fr", "30", "-f", "5", "-q", "37",
            "--Codec=x265", "--Threads=1", "-b", str(out / "s.gvc"), "-o", str(out / "rec.yuv"),
            "--SequenceName=bus", f"--ResultsFile={out / 'r.csv'}"]  # a results row measures MS-SSIM too
    opts = parse_options(argv, "encode")
    return opts, run_encode(opts, Console(verbosity=0, progress="0")), out


def test_encode_returns_one_complete_results_row(coded):
    opts, row, out = coded
    assert [c for c in RESULTS_COLUMNS if c in row] == list(row)  # the CSV's columns, in its order
    assert "dec_fps" not in row and "vmaf" not in row  # the decoder's; `gvcodec metrics`' 
    assert (row["sequence"], row["codec"], row["qp"], row["frames"]) == ("bus", "x265", 37, 5)
    assert row["bits"] == (out / "s.gvc").stat().st_size * 8
    assert row["kbps"] == pytest.approx(row["bits"] * 30 / 1000 / 5)
    assert 25 < row["psnr_y"] < 45 and 0.5 < row["msssim"] <= 1 and row["enc_fps"] > 0
    append_result(out / "r.csv", row)
    back = read_results(out / "r.csv")[0]
    assert back["bits"] == row["bits"] and back["psnr_y"] == pytest.approx(row["psnr_y"])


def test_decode_gives_the_encoders_reconstruction(coded):
    _, row, out = coded
    opts = parse_options(["-b", str(out / "s.gvc"), "-o", str(out / "dec.yuv")], "decode")
    result = run_decode(opts, Console(verbosity=0, progress="0"))
    assert result["row"] == {"bits": row["bits"], "qp": 37, "frames": 5}
    assert (out / "dec.yuv").read_bytes() == (out / "rec.yuv").read_bytes()


def test_metrics_measure_what_the_encoder_measured(coded, sequence):
    _, row, out = coded
    argv = ["-r", str(sequence(BUS)), "-d", str(out / "rec.yuv"), "-wdt", "352", "-hgt", "288", "-f", "5",
            "-b", str(out / "s.gvc"), f"--ResultsFile={out / 'm.csv'}", "--SequenceName=bus"]
    avg = run_metrics(parse_options(argv, "metrics"), Console(verbosity=0, progress="0"))
    assert avg["psnr_y"] == pytest.approx(row["psnr_y"]) and avg["psnr_yuv"] == pytest.approx(row["psnr_yuv"])
    measured = read_results(out / "m.csv")[0]
    assert {k: measured[k] for k in ("sequence", "codec", "qp", "frames", "bits")} == \
        {"sequence": "bus", "codec": "x265", "qp": 37, "frames": 5, "bits": row["bits"]}
    assert measured["kbps"] == pytest.approx(row["kbps"])
