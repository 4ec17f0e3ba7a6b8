"""Classical engines end to end through the CLI: bits add up to the file, decoded MD5s match."""

import re
from pathlib import Path

import numpy as np
import pytest

BITS = re.compile(r"^POC +(\d+) .*?\)\s+(\d+) bits", re.M)
MD5_OK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]")
CFG = Path(__file__).resolve().parents[2] / "cfg"


def test_x265_on_a_real_clip_bits_equal_file_size_and_md5_match(sequence, run_cli, tmp_path):
    clip = sequence("bus_352x288_17f_yuv420p.yuv")
    enc = run_cli("encode", "-c", CFG / "lowdelay.cfg",
        "-i", clip, "-wdt", 352, "-hgt", 288, "-fr", 30, "-f", 9, "-q", 37, "--Codec=x265",
        "-b", "bus.gvc", "-o", "rec.yuv", check_rc=0)
    bits = [int(b) for _, b in BITS.findall(enc.stdout)]
    assert len(bits) == 9
    size = (tmp_path / "bus.gvc").stat().st_size
    assert sum(bits) == size * 8
    assert f"Bytes written to file: {size} " in enc.stdout
    dec = run_cli("decode", "-b", "bus.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 9
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    ref = np.fromfile(clip, np.uint8)[: 9 * 352 * 288 * 3 // 2]
    rec = np.fromfile(tmp_path / "rec.yuv", np.uint8)
    mse = np.mean((ref.astype(float) - rec) ** 2)
    assert 20 < 10 * np.log10(255 ** 2 / mse) < 45  # really coded, not copied


@pytest.mark.parametrize("codec", ["x264", "svtav1"])
def test_other_classical_codecs_round_trip(make_yuv, run_cli, tmp_path, codec):
    path, _ = make_yuv(64, 48, 4)
    run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, "-q", 40, f"--Codec={codec}", "-b", "a.gvc",
            "-o", "rec.yuv", check_rc=0)
    dec = run_cli("decode", "-b", "a.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 4
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()


def test_ten_bit_x265_with_padding_and_8_bit_output(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(72, 40, 3, bit_depth=10)
    enc = run_cli("encode", "-i", path, "-wdt", 72, "-hgt", 40, "--InputBitDepth=10", "-q", 30, "--Codec=x265",
                  "--PadMultiple=64", "-b", "a.gvc", "-o", "rec.yuv", check_rc=0)
    assert sum(int(b) for _, b in BITS.findall(enc.stdout)) == (tmp_path / "a.gvc").stat().st_size * 8
    info = run_cli("info", "a.gvc", check_rc=0).stdout
    assert "72x40 (coded 128x64" in info and "internal 10" in info
    run_cli("decode", "-b", "a.gvc", "-o", "dec8.yuv", "-d", 8, check_rc=0)
    assert (tmp_path / "dec8.yuv").stat().st_size == 3 * 72 * 40 * 3 // 2
    assert (tmp_path / "rec.yuv").stat().st_size == 3 * 72 * 40 * 3  # recon at the internal 10 bit
