"""`gvcodec compare` on a real clip: a playable side-by-side video, the study page, --tally, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

CLIP = "foreman_352x288_300f_intra.264"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def coded(sequence, tmp_path_factory):
    """Three frames of a real clip coded by x264 and x265: the folder with x264.y4m, x265.y4m and r.csv."""
    src = sequence(CLIP)
    folder = tmp_path_factory.mktemp("coded")
    for codec, qp in (("x264", 40), ("x265", 37)):
        subprocess.run([sys.executable, "-m", "gvcodec", "encode", "-i", str(src), "-f", "3", f"--Codec={codec}",
                        "-q", str(qp), "-b", f"{codec}.gvc", "-o", f"{codec}.y4m", "--ResultsFile=r.csv",
                        "--SequenceName=foreman"], cwd=folder, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    return folder


@pytest.fixture
def decoded(coded, tmp_path, sequence):
    """The coded files in this test's folder; returns the reference clip's path."""
    for name in ("x264.y4m", "x265.y4m", "r.csv"):
        (tmp_path / name).symlink_to(coded / name)
    return sequence(CLIP)


def reference_crop(src, crop):
    from gvcodec.io.source import open_source
    from gvcodec.report.sidebyside import Crop, to_rgb8

    s = open_source(str(src), count=3)
    return [to_rgb8(f, "bt709", bool(s.full_range), Crop(*crop)) for f in s.frames()]


def psnr(a, b):
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return 10 * np.log10(255 ** 2 / mse)


def test_side_by_side_video_and_study_page(decoded, run_cli, tmp_path):
    out = run_cli("compare", "-r", decoded, "-d", "x264.y4m", "-d", "x265.y4m", "--names", "x264,x265",
                  "--results", "r.csv", "--sequence", "foreman", "-f", 3, "--crop", "160x96+96+64",
                  "-o", "sbs.mp4", "--html", "study", check_rc=0).stdout
    assert "sbs.mp4: 3 frames, 484x96" in out and "1 trials in 1 clip(s)" in out
    with av.open(str(tmp_path / "sbs.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 3 and frames[0].shape == (96, 484, 3)
    # the left panel is the reference window (below its caption), within the viewing copy's loss
    for got, want in zip(frames, reference_crop(decoded, (160, 96, 96, 64))):
        assert psnr(got[40:, :160], want[40:]) > 30
    assert frames[0][:12, 162:240].max() > 200  # x264's caption
    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert study["clips"]["foreman"]["videos"].keys() == {"x264", "x265"}
    for rel in [study["clips"]["foreman"]["reference"], *study["clips"]["foreman"]["videos"].values()]:
        with av.open(str(tmp_path / "study" / rel)) as c:
            assert sum(1 for _ in c.decode(video=0)) == 3 and c.streams.video[0].width == 160
    assert (tmp_path / "study" / "index.html").read_text().count(study["id"]) == 1


def test_labels_without_results_and_default_output(decoded, run_cli, tmp_path):
    out = run_cli("compare", "-r", decoded, "-d", "x264.y4m", "-f", 2, "--crop", "64x48",
                  "--label", "0.05 bpp", check_rc=0).stdout
    assert out.startswith("side_by_side.mp4: 2 frames, 130x48")


def test_tally_command(run_cli, tmp_path):
    records = [{"id": str(i), "left": "a", "right": "b", "chosen": "a" if i < 8 else "b",
                "side": "left" if i < 8 else "right", "viewer": "v"} for i in range(10)]
    (tmp_path / "c.json").write_text(json.dumps(records))
    out = run_cli("compare", "--tally", "c.json", check_rc=0).stdout
    assert "a vs b       10  a  80.0% [ 49.0,  94.3]   b  20.0% [  5.7,  51.0]" in out


@pytest.mark.parametrize("args, message", [
    ([], "give -r REF -d DEC"),
    (["--tally", "c.json", "--serve", "s"], "not --serve and --tally together"),
    (["-r", "x264.y4m"], "at least one decoded video"),
    (["-r", "x264.y4m", "-d", "x264.y4m", "--names", "a,b"], "2 names for 1 decoded videos"),
    (["-r", "x264.y4m", "-d", "x264.y4m", "--html", "s"], "at least two decoded videos"),
    (["-r", "x264.y4m", "-d", "x264.y4m", "--crop", "999x10"], "does not fit"),
    (["-r", "x264.y4m", "-d", "x264.y4m", "--results", "r.csv", "--names", "vtm"], "no row for codec `vtm'"),
    (["-r", "x264.y4m", "-d", "nothing.yuv", "-wdt", 8, "-hgt", 8], "does not exist"),
    (["-r", "x264.y4m", "-d", "x264.y4m", "-o", "v.avi"], "use one of"),
    (["--serve", "."], "has no index.html"),
    (["--tally", "missing.json"], "cannot read choices"),
])
def test_errors_are_one_line(decoded, run_cli, args, message):
    proc = run_cli("compare", *args, check_rc=1)
    assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
