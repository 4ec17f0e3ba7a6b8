"""GNVC-VD engine: GOP plan, bit attribution, QP mapping, and real streams through the CLI."""

import re
from pathlib import Path

import numpy as np
import pytest

from gvcodec.engines.gnvc_vd import gop
from gvcodec.engines.gnvc_vd.engine import qp_index

BITS = re.compile(r"^POC +(\d+) .*?\)\s+(\d+) bits", re.M)
MD5_OK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]")
CFG = Path(__file__).resolve().parents[2] / "cfg"
W, H = 128, 128  # a crop of a real clip keeps the tiny model fast


def test_96_frames_are_coded_as_the_seeds_gops():
    assert gop.plan_gops(96, 25) == [25, 25, 25, 21]
    assert [gop.coded_length(n) for n in (25, 21, 1, 2, 8, 9)] == [25, 21, 1, 5, 9, 9]
    assert gop.plan_gops(33, 25) == [25, 8] and sum(gop.plan_gops(1000, 17)) == 1000


def test_bits_go_to_the_anchor_frame_and_the_frames_of_each_latent():
    bits = gop.picture_bits(2, [100, 10, 7], 9)
    assert sum(bits) == (2 + 117) * 8
    assert bits[0] == (2 + 100) * 8 and bits[1:5] == [20] * 4 and bits[5:9] == [14] * 4
    # frames that only pad the last GOP give their bits to its last real picture
    padded = gop.picture_bits(1, [50, 12], 3)
    assert sum(padded) == 63 * 8 and padded[1:] == [24, 3 * 24]


def test_ctc_qps_are_distinct_rate_points_and_the_range_clamps():
    idx = [qp_index(q, 8) for q in (22, 27, 32, 37, 42, 47)]
    assert idx == [5, 4, 3, 2, 1, 0]
    assert qp_index(0, 8) == 7 and qp_index(51, 8) == 0 and qp_index(51, 64) == 0 and qp_index(12, 64) == 63


@pytest.fixture(scope="module")
def bus_crop(shared, tmp_path_factory):
    """7 frames of the real bus clip, cropped to 128x128 (raw 4:2:0)."""
    clip = shared / "sequences" / "bus_352x288_17f_yuv420p.yuv"
    if not clip.is_file():
        pytest.skip(f"test clip {clip.name} is not in {clip.parent}")
    frame = 352 * 288 * 3 // 2
    data = np.fromfile(clip, np.uint8)[: 7 * frame].reshape(7, frame)
    out = tmp_path_factory.mktemp("bus") / "bus_128x128.yuv"
    with open(out, "wb") as f:
        for fr in data:
            y = fr[: 352 * 288].reshape(288, 352)[64:64 + H, 100:100 + W]
            u = fr[352 * 288: 352 * 288 * 5 // 4].reshape(144, 176)[32:32 + H // 2, 50:50 + W // 2]
            v = fr[352 * 288 * 5 // 4:].reshape(144, 176)[32:32 + H // 2, 50:50 + W // 2]
            f.write(y.tobytes() + u.tobytes() + v.tobytes())
    return out


def _encode(run_cli, clip, *extra, frames=7, rc=0):
    return run_cli("encode", "-c", CFG / "lowdelay.cfg", "--Model=gnvc-vd-tiny", "-i", clip, "-wdt", W, "-hgt", H,
                   "-fr", 30, "-f", frames, "-q", 32, "--GOPFrames=5", "--FlowSteps=2", "-b", "s.gvc",
                   "-o", "rec.yuv", *extra, check_rc=rc)


def test_real_clip_round_trip_bits_md5_and_gop_split(bus_crop, run_cli, tmp_path):
    enc = _encode(run_cli, bus_crop, "--CheckDecode=1", "--Threads=1")
    bits = [int(b) for _, b in BITS.findall(enc.stdout)]
    assert len(bits) == 7  # GOPs of 5 + 2 (the second padded to 5 in time), no frame dropped
    assert sum(bits) == (tmp_path / "s.gvc").stat().st_size * 8
    assert enc.stdout.count("I-SLICE") == 2
    info = run_cli("info", "s.gvc", check_rc=0).stdout
    assert "gnvc-vd" in info and "gnvc-vd-tiny" in info
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", "--Threads=1", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 7
    rec = (tmp_path / "rec.yuv").read_bytes()
    assert rec == (tmp_path / "dec.yuv").read_bytes() and len(rec) == 7 * W * H * 3 // 2


def test_symbols_decode_exactly_with_other_thread_counts(bus_crop, run_cli, tmp_path):
    _encode(run_cli, bus_crop, "--Threads=1", frames=5)
    # Float synthesis may differ with the thread count; the symbols (hashed per unit) may not.
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", "--Threads=2", "-dph", 0, check_rc=0)
    assert "symbol" not in dec.stderr and len((tmp_path / "dec.yuv").read_bytes()) == 5 * W * H * 3 // 2


def test_corrupted_payload_and_foreign_weights_are_named(bus_crop, run_cli, tmp_path):
    _encode(run_cli, bus_crop, frames=5)
    data = bytearray((tmp_path / "s.gvc").read_bytes())
    bad = tmp_path / "bad.gvc"
    data[-60] ^= 0x10
    bad.write_bytes(bytes(data))
    dec = run_cli("decode", "-b", bad, "-o", "x.yuv")
    assert dec.returncode in (2, 3) and dec.stderr.count("\n") == 1 and "unit" in dec.stderr
    assert not (tmp_path / "x.yuv").exists()

    import torch
    from safetensors.torch import save_file

    from gvcodec.models.gnvc_vd.model import GnvcVd

    other = GnvcVd.from_config("gnvc-vd-tiny", seed=1)
    other.finish_tables()
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(tmp_path / "other.safetensors"))
    dec = run_cli("decode", "-b", "s.gvc", "-o", "y.yuv", "--ModelWeights=other.safetensors")
    assert dec.returncode == 1 and "coded with weights" in dec.stderr and "Traceback" not in dec.stderr
    torch.save({"vae.bogus": torch.zeros(1)}, tmp_path / "bad.pth")
    dec = run_cli("decode", "-b", "s.gvc", "-o", "y.yuv", "--ModelWeights=bad.pth")
    assert dec.returncode == 1 and "missing key `vae." in dec.stderr


def test_bad_gop_length_is_one_line(make_yuv, run_cli):
    path, _ = make_yuv(64, 64, 3)
    enc = run_cli("encode", "--Model=gnvc-vd-tiny", "-i", path, "-wdt", 64, "-hgt", 64, "--GOPFrames=6", "-b", "a.gvc")
    assert enc.returncode == 1 and "GOPFrames 6 is not 1 + 4k" in enc.stderr and enc.stderr.count("\n") == 1


def test_the_shipped_default_loads_by_name_and_decodes_its_own_stream(bus_crop, run_cli, tmp_path):
    from gvcodec.engines import registry
    from gvcodec.models.gnvc_vd.cards import card

    weights = card("gnvc-vd-default").weights_path
    assert weights.is_file() and weights.stat().st_size < 20 * 2**20  # shipped in the package, small
    expected = "gnvc-vd" if registry.DEFAULT_MODEL_READY else registry.FALLBACK_CODEC
    assert registry.resolve("", "") == expected
    enc = run_cli("encode", "--Model=gnvc-vd-default", "-i", bus_crop, "-wdt", W, "-hgt", H, "-fr", 30, "-f", 5,
                  "-q", 37, "-b", "d.gvc", "-o", "rec.yuv", check_rc=0)
    assert "Bytes written" in enc.stdout
    assert "gnvc-vd-default" in run_cli("info", "d.gvc", check_rc=0).stdout
    dec = run_cli("decode", "-b", "d.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 5
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
