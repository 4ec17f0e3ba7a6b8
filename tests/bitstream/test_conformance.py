"""Conformance of neural streams: symbols normative (exit 2), pictures by MD5 or, where synthesis ran
under another configuration, by the picture fingerprint within the tolerance (docs/bitstream.md)."""

from __future__ import annotations

import re

import pytest

from gvcodec.engines.conformance import TOLERANCE, fingerprint_size

CHECK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]|\[FP:\(within [0-9.]+, OK\)\]")


@pytest.mark.parametrize("engine", ["gnvc-vd", "givic"])
def test_threads_1_encode_decodes_with_threads_2_and_same_config_gives_md5_ok(engine, real_streams, run_cli, tmp_path):
    stream, clean = real_streams(engine)  # encoded with --Threads=1
    same = run_cli("decode", "-b", stream, "-o", "same.yuv", "--Threads=1", check_rc=0)
    assert len(re.findall(r"\(OK\)\]", same.stdout)) == len(re.findall(r"^POC", same.stdout, re.M)) > 0
    assert "[FP:" not in same.stdout
    other = run_cli("decode", "-b", stream, "-o", "other.yuv", "--Threads=2")
    assert other.returncode == 0, other.stderr
    pocs = re.findall(r"^POC.*$", other.stdout, re.M)
    assert pocs and all(CHECK.search(line) for line in pocs), other.stdout


def test_md5_drift_within_tolerance_exits_0_and_says_so(real_streams, forge, payload_offset, run_cli, layout, tmp_path):
    hash_span, picture_count = layout
    """Another configuration's float drift, simulated: the stream's MD5s changed (CRC recomputed), the
    pictures equal the encoder's, so only the fingerprint can vouch for them."""
    stream, _ = real_streams("gnvc-vd")

    def other_md5(i, t, p):
        if t != 2:
            return p
        a, b = hash_span(p)
        return p[:a] + bytes(x ^ 0x5A for x in p[a:b]) + p[b:]

    forge(stream, tmp_path / "drift.gvc", unit=other_md5)
    proc = run_cli("decode", "-b", "drift.gvc", "-o", "d.yuv", "--Threads=1")
    assert proc.returncode == 0, proc.stderr
    pocs = re.findall(r"^POC.*$", proc.stdout, re.M)
    assert pocs and all("(differs)] [FP:(within 0.0000, OK)]" in line for line in pocs), proc.stdout
    assert f"fingerprint within 0.0000 <= {TOLERANCE}" in proc.stdout


def test_fingerprint_outside_tolerance_is_a_mismatch(real_streams, forge, payload_offset, run_cli, layout, tmp_path):
    hash_span, picture_count = layout
    stream, _ = real_streams("gnvc-vd")
    size = fingerprint_size(3)

    def bad_print(i, t, p):
        if t != 2:
            return p
        a, b = hash_span(p)
        p = p[:a] + bytes(x ^ 0x5A for x in p[a:b]) + p[b:]
        return p[:-size] + bytes([p[-size] ^ 0x40]) + p[-size + 1:]  # first cell of the last picture: +-1 sample

    forge(stream, tmp_path / "bad.gvc", unit=bad_print)
    proc = run_cli("decode", "-b", "bad.gvc", "-o", "d.yuv", "--Threads=1")
    assert proc.returncode == 3, proc.stderr
    assert "***ERROR***)]" in proc.stdout and "[FP:(" in proc.stdout


@pytest.mark.parametrize("engine", ["gnvc-vd", "givic"])
def test_changed_engine_payload_byte_never_exits_0(engine, real_streams, forge, payload_offset, decode, layout, tmp_path):
    hash_span, picture_count = layout
    from gvcodec.errors import GvcodecError

    stream, _ = real_streams(engine)
    size = fingerprint_size(3)
    for k, frac in enumerate((0.0, 0.1, 0.3, 0.5, 0.7, 0.9)):
        def change(i, t, p):
            if t != 2 or i != 1:
                return p
            start, end = payload_offset(p), len(p) - size * picture_count(p)
            j = start + int((end - start - 1) * frac)
            return p[:j] + bytes([p[j] ^ 0x10]) + p[j + 1:]

        bad = forge(stream, tmp_path / f"p{k}.gvc", unit=change)
        with pytest.raises(GvcodecError) as err:
            decode(bad, tmp_path / f"p{k}.yuv", "--Threads=1")
        assert err.value.exit_code in (2, 3), err.value


def test_streams_without_picture_hash_carry_no_fingerprints(real_streams, encode_like, decode, tmp_path):
    """SEIDecodedPictureHash 0 (no picture check wanted): no fingerprints either, so rate comparisons with
    hashes off count only the coded pictures; the stream decodes to the same pictures."""
    from gvcodec.bitstream.reader import StreamReader

    stream, clean = real_streams("gnvc-vd")
    bare = encode_like("gnvc-vd", "--SEIDecodedPictureHash=0")
    assert "fingerprint" not in StreamReader(str(bare)).header.engine_params
    assert "fingerprint" in StreamReader(str(stream)).header.engine_params
    decode(bare, tmp_path / "bare.yuv", "--Threads=1")
    assert (tmp_path / "bare.yuv").read_bytes() == clean
