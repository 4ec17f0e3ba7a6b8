"""Commands a person runs: help, info, metrics, bdrate, stats files."""

import csv
import json
import re


def test_help_lists_options_with_defaults(run_cli):
    import os
    import subprocess
    import sys
    from pathlib import Path

    # --help imports neither torch nor the pipeline (start-up under 0.3 s)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "gvcodec", "encode", "--help"],
                           capture_output=True, text=True, env=env)
    imported = [line.split("|")[-1].strip() for line in probe.stderr.splitlines()]
    assert probe.returncode == 0 and "gvcodec.options.table" in imported
    assert "torch" not in imported and "numpy" not in imported and "gvcodec.pipeline.encode" not in imported
    for cmd in ("encode", "decode", "metrics"):
        out = run_cli(cmd, "--help", check_rc=0).stdout
        assert "(default:" in out and "-c FILE" in out
    assert "--QP" in run_cli("encode", "--help").stdout and "-wdt" in run_cli("encode", "--help").stdout
    assert "BitstreamFile" in run_cli("decode", "--help").stdout


def test_info_prints_header_and_unit_table(make_yuv, run_cli):
    path, _ = make_yuv(64, 48, 3)
    run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-b", "a.gvc", check_rc=0)
    out = run_cli("info", "a.gvc", check_rc=0).stdout
    assert "engine           : x264" in out
    assert len(re.findall(r"PICTURES", out)) == 3 and "END_OF_STREAM verified" in out


def test_stats_files_and_results_row(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(64, 48, 3)
    run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-q", 30, "-b", "a.gvc",
            "--stats", "s.csv", "--ResultsFile=r.csv", "--SequenceName=synth", check_rc=0)
    rows = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert len(rows) == 3 and rows[0]["type"] == "I" and float(rows[0]["psnr_y"]) > 25
    assert 0 < float(rows[1]["msssim_y"]) <= 1 and float(rows[0]["psnr_rgb"]) > 20
    assert sum(int(r["bits"]) for r in rows) == (tmp_path / "a.gvc").stat().st_size * 8
    assert all(int(r["payload_bits"]) + int(r["container_bits"]) == int(r["bits"]) for r in rows)
    assert 0 < float(rows[1]["msssim_rgb"]) <= 1
    res = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert res[0]["sequence"] == "synth" and res[0]["codec"] == "x264" and res[0]["qp"] == "30"
    assert int(res[0]["payload_bits"]) + int(res[0]["container_bits"]) == int(res[0]["bits"])
    assert int(res[0]["container_bits"]) == sum(int(r["container_bits"]) for r in rows)
    assert 0 < float(res[0]["msssim_rgb"]) <= 1
    assert "x264-params=qp=30:bframes=0:" in res[0]["encoder_settings"]
    run_cli("decode", "-b", "a.gvc", "--StatsFile=d.json", check_rc=0)
    d = json.load(open(tmp_path / "d.json"))
    assert [f["md5_ok"] for f in d["frames"]] == [True, True, True]


def test_metrics_command_matches_encoder_psnr(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(64, 48, 3)
    enc = run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-q", 30, "-b", "a.gvc",
                  "-o", "rec.yuv", check_rc=0)
    met = run_cli("metrics", "-r", path, "-d", "rec.yuv", "-wdt", 64, "-hgt", 48, check_rc=0)
    y_enc = re.findall(r"\[Y (\d+\.\d+) dB", enc.stdout)
    y_met = re.findall(r"\[Y (\d+\.\d+) dB", met.stdout)
    assert y_enc == y_met and len(y_met) == 3
    assert len(re.findall(r"\[MS-SSIM RGB 0\.\d+\]", met.stdout)) == 3  # RGB MS-SSIM by default


def test_bdrate_of_two_codecs(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(64, 48, 2)
    for codec in ("x264", "x265"):
        for qp in (27, 32, 37, 42):
            run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, f"--Codec={codec}", "-q", qp, "-b", "a.gvc",
                    "--ResultsFile=r.csv", check_rc=0)
    out = run_cli("bdrate", "r.csv", "--anchor", "x264", "--test", "x265", check_rc=0).stdout
    assert "clip" in out and "psnr_y" in out.lower()


def test_info_model_prints_the_per_module_table(run_cli):
    out = run_cli("info", "--model", "gnvc-vd-paper", check_rc=0).stdout
    assert re.search(r"3D VAE\s+\(all\)\s+126,892,531", out)
    assert re.search(r"VideoDiT \(with adapter\)\s+\(all\)\s+2,153,972,032", out)
    bad = run_cli("info", "--model", "no-such-model")
    assert bad.returncode == 1 and "no model config" in bad.stderr and "Traceback" not in bad.stderr


def test_ctc_command_runs_a_sweep_in_one_process(shared, sequence, run_cli, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    sequence("container_ship_176x144_1700f.264")
    env = {**os.environ, "GVCODEC_SHARED": str(shared), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "gvcodec", "ctc", "-s", "container_ship_176x144_1700f.264",
                           "-q", "27 32 37 42", "-c", "x264 x265:Preset=ultrafast", "-f", "2", "-o", "out",
                           "--Threads=1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert sorted((r["codec"], int(r["qp"])) for r in rows) == sorted(
        (c, q) for c in ("x264", "x265:Preset=ultrafast") for q in (27, 32, 37, 42))
    assert all(float(r["dec_fps"]) > 0 and r["encoder_settings"] for r in rows)  # decoded, hashes checked
    assert "preset=ultrafast" in rows[-1]["encoder_settings"]
    assert "BD-rate of x265:Preset=ultrafast against x264" in proc.stdout
    log = (tmp_path / "out" / "logs" / "container_ship_176x144_1700f_x264_q32.dec.log").read_text()
    assert log.count("(OK)") == 2


def test_hm_keys_without_effect_are_listed_at_verbosity_6_only(run_cli, tmp_path):
    (tmp_path / "vtm.cfg").write_text("DualITree : 1\nALF : 1\nExtendedPrecision : 0\nFrame1: B 1 5\n")
    loud = run_cli("encode", "-c", "vtm.cfg", "-v", 6)
    assert "note: 3 HM/VTM keys accepted without effect: DualITree ALF ExtendedPrecision\n" in loud.stderr
    quiet = run_cli("encode", "-c", "vtm.cfg")
    assert "accepted without effect" not in quiet.stderr and "Unknown option" not in quiet.stderr
