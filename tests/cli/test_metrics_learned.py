"""`gvcodec metrics` with the temporal and learned metrics on a real clip: stats, missing weights, results rows."""

import csv
import json

import pytest
import torch

from gvcodec.metrics.backbones import ALEXNET_LAYERS
from gvcodec.report.results import read_results

BUS = "bus_352x288_17f_yuv420p.yuv"
SIZE = ("-wdt", 352, "-hgt", 288)


def write_tiny_lpips_alex(folder):
    """A narrow random AlexNet trunk (torchvision keys) and LPIPS heads of its widths."""
    gen = torch.Generator().manual_seed(0)
    widths, state, cin = (8, 12, 16, 12, 12), {}, 3
    for (index, k, *_), cout in zip(ALEXNET_LAYERS, widths):
        state[f"features.{index}.weight"] = torch.randn(cout, cin, k, k, generator=gen) * (2 / (cin * k * k)) ** 0.5
        state[f"features.{index}.bias"] = torch.zeros(cout)
        cin = cout
    torch.save(state, folder / "alexnet.pth")
    heads = {f"lin{i}.model.1.weight": torch.rand(1, w, 1, 1, generator=gen) for i, w in enumerate(widths)}
    torch.save(heads, folder / "alex.pth")


@pytest.fixture
def bus(sequence):
    return sequence(BUS)


def test_per_frame_and_average_values_reach_the_log_and_stats(bus, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))  # no cached VGG16: lpips-vgg is skipped
    write_tiny_lpips_alex(tmp_path)
    # decoded = reference: LPIPS is exactly 0, E_warp is the clip's own residual along its DIS flow
    met = run_cli("metrics", "-r", bus, "-d", bus, *SIZE, "-f", 3, "-m", "psnr,ewarp,lpips-alex,lpips-vgg",
                  f"--AlexNetWeights={tmp_path / 'alexnet.pth'}", f"--LpipsWeightsDir={tmp_path}", "--stats", "s.json",
                  check_rc=0)
    assert met.stderr.strip().splitlines() == [
        f"gvcodec: lpips-vgg not measured: missing vgg16-397923af.pth: put torchvision's file at "
        f"{tmp_path / 'empty-torch-home' / 'hub' / 'checkpoints' / 'vgg16-397923af.pth'} or give --Vgg16Weights=FILE"]
    assert "[LPIPS-A 0.000000]" in met.stdout and "E_warp" in met.stdout
    data = json.loads((tmp_path / "s.json").read_text())
    frames, summary = data["frames"], data["summary"]
    assert [f["lpips_alex"] for f in frames] == [0.0, 0.0, 0.0]
    assert frames[0]["ewarp"] is None and all(f["ewarp"] >= 0 for f in frames[1:])
    assert all(f["lpips_vgg"] is None for f in frames) and summary["lpips_vgg"] is None
    assert summary["lpips_alex"] == 0.0 and summary["ewarp"] == pytest.approx((frames[1]["ewarp"] + frames[2]["ewarp"]) / 2)


def test_results_row_carries_the_stream_rate_and_every_metric(bus, run_cli, tmp_path):
    run_cli("encode", "-i", bus, *SIZE, "-f", 3, "--Codec=x264", "-q", 37, "-b", "a.gvc", "-o", "rec.yuv",
            "--ResultsFile=enc.csv", "--SequenceName=bus", check_rc=0)
    run_cli("metrics", "-r", bus, "-d", "rec.yuv", *SIZE, "-f", 3, "-m", "psnr,ewarp", "-b", "a.gvc",
            "--ResultsFile=met.csv", "--stats", "s.csv", check_rc=0)
    enc, met = read_results(tmp_path / "enc.csv")[0], read_results(tmp_path / "met.csv")[0]
    assert met["sequence"] == "bus_352x288_17f_yuv420p" and met["codec"] == "x264" and met["qp"] == 37
    for key in ("frames", "width", "height", "bits", "bpp", "psnr_y", "psnr_yuv"):
        assert met[key] == pytest.approx(enc[key]), key
    assert met["ewarp"] > 0 and met["lpips_alex"] is None
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["ewarp"] == "" and float(rows[2]["ewarp"]) > 0


def test_results_rows_need_the_stream_and_metric_names_are_checked(bus, run_cli):
    bad = run_cli("metrics", "-r", bus, "-d", bus, *SIZE, "-f", 2, "--ResultsFile=r.csv")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "gvcodec: ResultsFile rows need the decoded stream's rate: give -b STREAM.gvc"
    bad = run_cli("metrics", "-r", bus, "-d", bus, *SIZE, "-f", 2, "-m", "psnr,lpips")
    assert bad.returncode == 1
    assert "unknown metric(s): lpips (known: psnr, rgbpsnr, msssim, rgbmsssim, vmaf, ewarp, lpips-alex" in bad.stderr
