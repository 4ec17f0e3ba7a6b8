"""Bad input: one clear line on stderr, a non-zero exit, no traceback, nothing half-written."""

import pytest


@pytest.fixture
def clip(make_yuv):
    return make_yuv(64, 48, 3)[0]


@pytest.fixture
def stream(clip, run_cli, tmp_path):
    run_cli("encode", "-i", clip, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-q", 35, "-b", "s.gvc", check_rc=0)
    return tmp_path / "s.gvc"


def test_leftover_bytes(clip, run_cli, tmp_path):
    with open(clip, "ab") as f:
        f.write(b"\0" * 100)
    run_cli("encode", "-i", clip, "-wdt", 64, "-hgt", 48, "-b", "o.gvc").one_line(None, "100 bytes left over")
    assert not (tmp_path / "o.gvc").exists()


def test_missing_size(clip, run_cli):
    run_cli("encode", "-i", clip, "-b", "o.gvc").one_line(None, "-wdt")


def test_odd_size(clip, run_cli):
    run_cli("encode", "-i", clip, "-wdt", 63, "-hgt", 48, "-b", "o.gvc").one_line(None, "odd")


def test_unknown_key_and_w1(clip, run_cli, tmp_path):
    run_cli("encode", "--Bogus=1", "-i", clip).one_line(None, "Unknown option `Bogus'")
    cfg = tmp_path / "x.cfg"
    cfg.write_text("Bogus : 2\n")
    run_cli("encode", "-c", cfg, "-i", clip).one_line(None, "x.cfg:1 error: Unknown option `Bogus'")
    ok = run_cli("encode", "-w", 1, "-c", cfg, "-i", clip, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-b", "o.gvc")
    assert ok.returncode == 0 and "warning: Unknown option `Bogus'" in ok.stderr


def test_malformed_cfg_line_warns_and_runs(clip, run_cli, tmp_path):
    cfg = tmp_path / "m.cfg"
    cfg.write_text("QP 30\nQP : 33\n")
    proc = run_cli("encode", "-c", cfg, "-i", clip, "-wdt", 64, "-hgt", 48, "--Codec=x264", "-b", "o.gvc")
    assert proc.returncode == 0 and "m.cfg:1 warning: line formatting error" in proc.stderr
    assert "QP 33 )" in proc.stdout


def test_missing_and_unreadable_input(run_cli, tmp_path):
    run_cli("encode", "-i", "nope.yuv", "-wdt", 64, "-hgt", 48, "-b", "o.gvc").one_line(None, "does not exist")
    (tmp_path / "dir.yuv").mkdir()
    run_cli("encode", "-i", "dir.yuv", "-wdt", 64, "-hgt", 48, "-b", "o.gvc").one_line(None, "not a readable file")
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    run_cli("encode", "-i", "bad.mp4", "-b", "o.gvc").one_line(None, "cannot open input")


def test_unwritable_output(clip, run_cli):
    run_cli("encode", "-i", clip, "-wdt", 64, "-hgt", 48, "-b", "/nonexistent/dir/o.gvc").one_line(None, "cannot write bitstream", "does not exist")


def test_truncated_stream_names_unit_and_offset(stream, run_cli, tmp_path):
    data = stream.read_bytes()
    stream.write_bytes(data[:-30])
    proc = run_cli("decode", "-b", stream, "-o", "d.yuv")
    proc.one_line(None, "truncated", "unit", "byte")
    assert not (tmp_path / "d.yuv").exists()


def test_corrupted_stream_names_unit_and_offset(stream, run_cli):
    data = bytearray(stream.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stream.write_bytes(bytes(data))
    run_cli("decode", "-b", stream).one_line(None, "CRC mismatch in unit", "at byte")


def test_forged_header_size_is_refused(stream, run_cli):
    from gvcodec.bitstream.syntax import uv
    from gvcodec.bitstream.writer import frame_unit

    data = stream.read_bytes()
    head, length = 6, data[7]  # the SEQUENCE_HEADER unit: type, a one-byte length, payload, CRC
    payload = data[head + 2:head + 2 + length]
    assert payload[0] == 64  # width 64, a one-byte varint
    forged = frame_unit(1, uv(60000) + payload[1:])  # width 60000, with a valid CRC
    stream.write_bytes(data[:head] + forged + data[head + 2 + length + 4:])
    run_cli("decode", "-b", stream).one_line(None, "picture size 60000x48 is beyond")


def test_picture_hash_mismatch_fails_the_decode(stream, run_cli):
    from gvcodec.bitstream.reader import StreamReader
    from gvcodec.bitstream.writer import frame_unit

    unit = list(StreamReader(str(stream)).units())[1]
    data = stream.read_bytes()
    raw = data[unit.offset:unit.offset + unit.size]
    head = 1 + next(i for i in range(1, 6) if raw[i] < 0x80)  # type and length varint
    payload = bytearray(raw[head:-4])
    payload[len(payload) - len(unit.payload) - 1] ^= 1  # the last byte of the picture's hashes
    stream.write_bytes(data[:unit.offset] + frame_unit(2, bytes(payload)) + data[unit.offset + unit.size:])
    proc = run_cli("decode", "-b", stream)
    assert proc.returncode == 3 and "(***ERROR***)" in proc.stdout and "(OK)" in proc.stdout
    assert "decoding mismatch" in proc.stderr and "first POC 1" in proc.stderr


def test_decode_of_a_non_stream(run_cli, tmp_path):
    (tmp_path / "x.gvc").write_bytes(b"\x00" * 64)
    run_cli("decode", "-b", "x.gvc").one_line(None, "not a gvcodec bitstream")


def test_interrupted_encode_leaves_no_partial_output(tmp_path):
    _interrupt(tmp_path, "SIGINT", 130)


def _interrupt(tmp_path, sig, rc):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    repo = Path(__file__).resolve().parents[2]
    clip = tmp_path / "long.yuv"
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, 640 * 480 * 3 // 2, dtype=np.uint8).tobytes()
    clip.write_bytes(frame * 300)
    proc = subprocess.Popen([sys.executable, "-m", "gvcodec", "encode", "-i", str(clip), "-wdt", "640", "-hgt", "480",
                             "--Codec=x265", "--Preset=slow", "-b", "out.gvc", "-o", "rec.yuv"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(repo), "PYTHONUNBUFFERED": "1"})
    # Signal mid-encode: after the first POC line, while the partial outputs exist (the encode takes
    # only seconds, so a timer after the .part file appeared could race with its end).
    line = proc.stdout.readline()
    while line and not line.startswith("POC"):
        line = proc.stdout.readline()
    assert line.startswith("POC") and any(p.name.endswith(".part") for p in tmp_path.iterdir())
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == rc, err
    assert "Traceback" not in err and "no partial output" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yuv"]


def test_terminated_encode_leaves_no_partial_output(tmp_path):
    _interrupt(tmp_path, "SIGTERM", 143)
