"""The GIViC engine end to end: stream round trip with picture MD5 and symbol hashes, GOP padding,
and one-line errors for weights that do not match the stream's model or GOP."""

import re

import numpy as np
import pytest


BITS = re.compile(r"^POC +(\d+) .*?\)\s+(\d+) bits", re.M)
MD5_OK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]")
SIZE = 32


@pytest.fixture
def crop(sequence, bus_crop, tmp_path):
    """3 frames of the bus clip cropped to 32x32, as a raw 4:2:0 file."""
    path = tmp_path / "bus_crop.yuv"
    with open(path, "wb") as f:
        for planes in bus_crop(sequence("bus_352x288_17f_yuv420p.yuv"), 0, 3, size=SIZE):
            for p in planes:
                f.write(p.astype(np.uint8).tobytes())
    return path


def _encode(run_cli, src, *extra, rc=0):
    return run_cli("encode", "-i", src, "-wdt", SIZE, "-hgt", SIZE, "--Model=givic-tiny", "--GOPFrames=2",
                   "--OverfitSteps=2", "-b", "s.gvc", "-o", "rec.yuv", *extra, check_rc=rc)


def test_stream_round_trip_md5_and_symbol_hashes(crop, run_cli, tmp_path):
    enc = _encode(run_cli, crop)
    bits = [int(b) for _, b in BITS.findall(enc.stdout)]
    assert len(bits) == 3 and sum(bits) == (tmp_path / "s.gvc").stat().st_size * 8
    info = run_cli("info", "s.gvc", check_rc=0).stdout
    assert "givic-tiny" in info and "GOP frames       : 2" in info and "'init': 'seeded'" in info
    units = [l for l in info.splitlines() if "PICTURES" in l]
    assert len(units) == 2 and all(re.search(r"[0-9a-f]{32}$", u) for u in units)  # symbol hash per GOP
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 3       # the padded 4th frame is never output
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    assert (tmp_path / "dec.yuv").stat().st_size == 3 * SIZE * SIZE * 3 // 2


def test_overfit_objective_option_reaches_the_loop(crop, run_cli, tmp_path):
    _encode(run_cli, crop)  # the model's objective: sample
    sampled = (tmp_path / "s.gvc").read_bytes()
    _encode(run_cli, crop, "--OverfitObjective=denoise")
    assert (tmp_path / "s.gvc").read_bytes() != sampled
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 3
    bad = _encode(run_cli, crop, "--OverfitObjective=lpips", rc=1)
    assert "OverfitObjective" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_mismatched_weights_fail_with_one_line(crop, run_cli, tmp_path):
    import dataclasses

    from gvcodec.models.givic.config import load_givic_config
    from gvcodec.models.givic.loading import save_weights, seeded_model

    _encode(run_cli, crop, "--OverfitSteps=0")
    cfg = load_givic_config("givic-tiny")
    other = seeded_model(dataclasses.replace(cfg, init_seed=5))
    other.cfg = cfg  # same architecture, other weights
    save_weights(other, tmp_path / "other.safetensors", "givic-tiny", 2)
    dec = run_cli("decode", "-b", "s.gvc", "-o", "d.yuv", "--ModelWeights=other.safetensors", check_rc=1)
    assert "weights sha256" in dec.stderr and "Traceback" not in dec.stderr and len(dec.stderr.splitlines()) == 1
    save_weights(other, tmp_path / "gop8.safetensors", "givic-tiny", 8)
    dec = run_cli("decode", "-b", "s.gvc", "-o", "d.yuv", "--ModelWeights=gop8.safetensors", check_rc=1)
    assert "8-frame GOPs" in dec.stderr and len(dec.stderr.splitlines()) == 1
    save_weights(other, tmp_path / "s.safetensors", "givic-s", 2)
    enc = _encode(run_cli, crop, "--ModelWeights=s.safetensors", rc=1)
    assert "are for model givic-s" in enc.stderr and len(enc.stderr.splitlines()) == 1


def test_shipped_default_codes_by_name_with_its_gop_and_beats_the_seeded_init(sequence, bus_crop, run_cli, tmp_path):
    """givic-default (our pretrained givic-tiny, package data) by name: GOPs of the 8 frames it was
    trained on, the QP's grid step in the stream, decoded from the stream alone with matching MD5s,
    and better pictures without overfitting than the untrained seeded init."""
    src = tmp_path / "bus64.yuv"
    with open(src, "wb") as f:
        for planes in bus_crop(sequence("bus_352x288_17f_yuv420p.yuv"), 0, 9, size=64):
            for p in planes:
                f.write(p.astype(np.uint8).tobytes())
    psnr = {}
    for model in ("givic-default", "givic-tiny"):
        enc = run_cli("encode", "-i", src, "-wdt", 64, "-hgt", 64, f"--Model={model}", "--OverfitSteps=0",
                      "-q", 38, "-b", f"{model}.gvc", "-o", f"{model}.yuv", *(["--GOPFrames=8"] if model == "givic-tiny" else []),
                      check_rc=0)
        psnr[model] = float(re.search(r"SUMMARY.*?\n.*?\n\s+\d+\s+a\s+[\d.]+\s+([\d.]+)", enc.stdout, re.S).group(1))
    info = run_cli("info", "givic-default.gvc", check_rc=0).stdout
    assert "GOP frames       : 8" in info and "'init': 'checkpoint'" in info and "'grid_step': 2.0" in info
    dec = run_cli("decode", "-b", "givic-default.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 9
    assert (tmp_path / "givic-default.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    assert psnr["givic-default"] > psnr["givic-tiny"] + 3, psnr
