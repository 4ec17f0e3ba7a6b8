"""bin/ctc.sh end to end on one real clip: CSV rows, BD-rate tables, plots, structure cfg, CTC_METRICS,
codec words with options."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_ctc_random_access_run_writes_csv_bdrate_and_plots(tmp_path, shared, sequence):
    sequence("bus_352x288_17f_yuv420p.yuv")
    if shutil.which("gvcodec") is None:
        pytest.skip("the gvcodec command is not installed (pip install -e .)")
    out = tmp_path / "ctc"
    env = {**os.environ, "GVCODEC_SHARED": str(shared), "CTC_MD": str(tmp_path / "results.md"),
           "CTC_METRICS": "psnr,ewarp"}
    run = subprocess.run(
        ["bash", str(REPO / "bin" / "ctc.sh"), "-s", "bus_352x288_17f_yuv420p.yuv", "-q", "27 32 37 42",
         "-c", "x264 x265:Preset=ultrafast", "-f", "3", "-o", str(out), "-C", str(REPO / "cfg" / "randomaccess.cfg"),
         "-p", str(tmp_path / "plots")],
        capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert sorted((r["codec"], int(r["qp"])) for r in rows) == sorted(
        (c, q) for c in ("x264", "x265:Preset=ultrafast") for q in (27, 32, 37, 42))
    # the decoder filled its frames/s into the encoder's row of each stream
    assert all(float(r["enc_fps"]) > 0 and float(r["dec_fps"]) > 0 for r in rows)
    # a codec word NAME:Key=Value labels its rows and passes the option to that codec alone
    assert "BD-rate of x265:Preset=ultrafast against x264" in run.stdout
    assert (out / "bdrate_x265_Preset_ultrafast_vs_x264.txt").is_file()
    md = (tmp_path / "results.md").read_text()
    assert "randomaccess.cfg" in md
    assert any(Path(tmp_path / "plots").glob("*.png"))
    # CTC_METRICS: every decoded video measured again by `gvcodec metrics`, with its own BD-rate.
    measured = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(measured) == 8 and all(float(r["ewarp"]) >= 0 for r in measured)
    assert "on the CTC_METRICS columns" in run.stdout
    # The random-access cfg reached the encoder: its log names the structure's intra period.
    log = (out / "logs" / "bus_352x288_17f_yuv420p_x264_q32.enc.log").read_text()
    assert "POC" in log
