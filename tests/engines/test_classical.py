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


POC_LINE = re.compile(r"^POC +(\d+) TId: \d \( ([IPB])-SLICE, nQP (\d+) QP \d+ \) +(\d+) bits", re.M)


def test_intra_qp_is_the_codecs_own_unless_intra_qp_offset_is_given(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(64, 48, 3)
    common = ("-i", path, "-wdt", 64, "-hgt", 48, "-q", 37, "--Codec=x265", "--Threads=1", "--ResultsFile=r.csv")
    own = run_cli("encode", *common, "-b", "own.gvc", check_rc=0)
    given = run_cli("encode", *common, "--IntraQPOffset=0", "-b", "given.gvc", check_rc=0)
    (p_own, p_given) = (POC_LINE.findall(e.stdout) for e in (own, given))
    assert p_own[0][1:3] == ("I", "34") and p_own[1][1:3] == ("P", "37")  # x265 ipratio 1.4: about -3 QP
    assert p_given[0][1:3] == ("I", "37")
    assert int(p_own[0][3]) > int(p_given[0][3])  # really coded at the lower QP
    rows = list(__import__("csv").DictReader(open(tmp_path / "r.csv")))
    assert "ipratio" not in rows[0]["encoder_settings"] and "ipratio=1.0000" in rows[1]["encoder_settings"]


@pytest.mark.parametrize("codec", ["x265", "x264"])
def test_random_access_codes_b_pictures_in_coding_order_and_outputs_display_order(make_yuv, run_cli, tmp_path,
                                                                                 codec):
    path, planes = make_yuv(64, 48, 10)
    enc = run_cli("encode", "-c", CFG / "randomaccess.cfg", "-i", path, "-wdt", 64, "-hgt", 48, "-q", 32,
                  "-ip", 8, f"--Codec={codec}", "--Threads=1", "-b", "ra.gvc", "-o", "rec.yuv",
                  "--SEIDecodedPictureHash=2", check_rc=0)
    lines = POC_LINE.findall(enc.stdout)
    pocs = [int(p) for p, *_ in lines]
    types = "".join(t for _, t, *_ in lines)
    assert sorted(pocs) == list(range(10)) and pocs != sorted(pocs)  # coding order, every POC once
    assert pocs[0] == 0 and pocs[1] >= 4 and types[0] == "I" and "B" in types  # an anchor, then the Bs before it
    assert re.search(r"B-SLICE.*\[L0 \d+ \] \[L1 \d+ \]", enc.stdout)
    assert sum(int(b) for *_, b in lines) == (tmp_path / "ra.gvc").stat().st_size * 8
    dec = run_cli("decode", "-b", "ra.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(re.findall(r"\[CRC:[0-9a-f,]+,\(OK\)\]", dec.stdout)) == 10
    assert [int(p) for p in re.findall(r"^POC +(\d+)", dec.stdout, re.M)] == pocs  # the log in coding order
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    frame = 64 * 48 * 3 // 2
    rec = np.fromfile(tmp_path / "rec.yuv", np.uint8).reshape(10, frame).astype(float)
    src = np.stack([np.concatenate([p.ravel() for p in fr]) for fr in planes]).astype(float)
    assert np.argmin(((rec[5] - src) ** 2).mean(axis=1)) == 5  # picture 5 of the file is POC 5: display order


def test_chroma_format_idc_444_and_internal_bit_depth_10_code_x265_444(make_yuv, run_cli, tmp_path):
    path, _ = make_yuv(64, 48, 2)
    enc = run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, "--ChromaFormatIDC=444", "--InternalBitDepth=10",
                  "-q", 30, "--Codec=x265", "--Threads=1", "-b", "a.gvc", "-o", "rec.yuv", check_rc=0)
    assert len(POC_LINE.findall(enc.stdout)) == 2
    info = run_cli("info", "a.gvc", check_rc=0).stdout
    assert "chroma format    : 444" in info and "internal 10" in info
    assert (tmp_path / "rec.yuv").stat().st_size == 2 * 64 * 48 * 3 * 2  # 4:4:4, 16-bit samples
    dec = run_cli("decode", "-b", "a.gvc", "-o", "dec.yuv", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 2
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()


def test_encoder_options_map_the_structure_to_each_codec():
    from gvcodec.engines.classical.engine import encoder_options
    from gvcodec.engines.classical.params import ClassicalParams

    ra = ClassicalParams(qp=32, bframes=7, intra_period=32)
    x265 = encoder_options("x265", ra)["x265-params"]
    assert "bframes=7:b-adapt=0:b-pyramid=1" in x265 and "keyint=32" in x265 and "rc-lookahead" not in x265
    assert "rc-lookahead=8" in encoder_options("x265", ClassicalParams(bframes=7, preset="ultrafast"))["x265-params"]
    assert "b-pyramid=normal" in encoder_options("x264", ra)["x264-params"]
    assert "pred-struct=2:hierarchical-levels=3" in encoder_options("svtav1", ra)["svtav1-params"]
    assert "hierarchical-levels=2" in encoder_options("svtav1", ClassicalParams(bframes=1))["svtav1-params"]
    assert "ipratio=1.1225" in encoder_options("x265", ClassicalParams(intra_qp_offset=-1))["x265-params"]
    assert "ipratio" not in encoder_options("x264", ClassicalParams())["x264-params"]


def test_payload_decoding_to_another_pixel_format_is_a_bitstream_error(make_yuv, run_cli, tmp_path):
    from gvcodec.bitstream.reader import StreamReader
    from gvcodec.bitstream.writer import StreamWriter

    for fmt in (420, 422):
        path, _ = make_yuv(64, 48, 2, chroma_format=fmt, name=f"c{fmt}.yuv")
        run_cli("encode", "-i", path, "-wdt", 64, "-hgt", 48, f"--InputChromaFormat={fmt}", "--Codec=x265",
                "--Threads=1", "-b", f"s{fmt}.gvc", check_rc=0)
    header = StreamReader(str(tmp_path / "s420.gvc")).header
    w = StreamWriter(str(tmp_path / "forged.gvc"))  # 4:2:0 header, 4:2:2 payloads (as a fuzzer may make)
    w.write_header(header)
    for unit in StreamReader(str(tmp_path / "s422.gvc")).units():
        unit.pictures[0].md5 = ()
        header.picture_hash = 0
        w.write_pictures(unit)
    w.finish()
    proc = run_cli("decode", "-b", "forged.gvc", "-o", "dec.yuv")
    assert proc.returncode == 2 and "decoded picture is yuv422p, header says yuv420p" in proc.stderr
    assert "Traceback" not in proc.stderr


# HM-style GOP tables (columns: Type POC QPoffset QPOffsetModelOff QPOffsetModelScale CbQPoffset ...),
# written for these tests in the shipped cfgs' syntax
HM_LD_B = "GOPSize : 8\nIntraQPOffset : -1\n" + "".join(
    f"Frame{i}: B {i} {off} {mo} {ms} 0 0 1.0 0 0 0 4 4 -1 -{i + 1} -{i + 5} -{i + 9} 0\n"
    for i, off, mo, ms in zip(range(1, 9), (5, 4, 5, 4, 5, 4, 5, 1), [-6.5] * 7 + [0.0], [0.259] * 7 + [0.0]))


def _ra_table(offsets: dict[int, int], model: tuple[float, float] = (0.0, 0.0)) -> str:
    """A GOP 8 random-access table in HM's coding order; `offsets`: POC -> QPoffset."""
    rows = [(8, 0), (4, 1), (2, 2), (1, 3), (3, 3), (6, 2), (5, 3), (7, 3)]
    return "IntraPeriod : 16\nGOPSize : 8\nIntraQPOffset : -3\n" + "".join(
        f"Frame{i}: B {poc} {offsets.get(poc, 0)} {model[0]} {model[1]} 0 0 1.0 0 0 {tid} 2 2 -1 1 0\n"
        for i, (poc, tid) in enumerate(rows, 1))


def test_gop_table_qps_are_hms_slice_qps():
    from gvcodec.engines.classical.params import ClassicalParams, gop_table
    from gvcodec.options.parse import parse_options

    lines = dict(line.split(": ", 1) for line in HM_LD_B.splitlines() if line.startswith("Frame"))
    cp = ClassicalParams(qp=37, gop=gop_table(lines, 8))
    # HM's LD-B table at QP 37 (reference/hm-vtm-conventions.md): odd 45, even 44, POC % 8 == 0: 38
    assert [cp.table_qp(poc) for poc in range(18)] == [None] + [45, 44, 45, 44, 45, 44, 45, 38] * 2 + [45]
    assert gop_table(lines, 4) == () and gop_table({"Frame1": "B 1 x"}, 1) == ()  # incomplete: no table
    assert ClassicalParams(qp=37, gop=cp.gop, intra_period=4).table_qp(8) is None  # intra pictures keep theirs


def test_gop_table_gives_x264_the_exact_slice_qps(sequence, run_cli, tmp_path):
    """x264 clamps a constant-QP picture to the span of its I/P/B QPs: the decoder's own per-picture
    QPs (FFmpeg's exported encoding parameters) show each table QP was really used."""
    import struct

    import av

    from gvcodec.bitstream.reader import StreamReader

    clip = sequence("bus_352x288_17f_yuv420p.yuv")
    (tmp_path / "ra.cfg").write_text(_ra_table({8: 1, 4: 2, 2: 3, 6: 3, 1: 4, 3: 4, 5: 4, 7: 4}, (-5.9, 0.2333)))
    enc = run_cli("encode", "-c", "ra.cfg", "-i", clip, "-wdt", 352, "-hgt", 288, "-fr", 30, "-f", 17, "-q", 32,
                  "--Codec=x264", "--Threads=1", "-b", "ra.gvc", check_rc=0)
    logged = {int(p): int(q) for p, q in re.findall(r"^POC +(\d+) .*?QP (\d+) \)", enc.stdout, re.M)}
    # QP 32: offset QP 33..36, then the model adds floor(clip(0, 3, qp * 0.2333 - 5.4)) = 2 (36: 2.999)
    assert logged[0] == logged[16] == 29 and logged[8] == 35 and logged[4] == 36 and logged[1] == 38

    dec = av.CodecContext.create("h264", "r")
    dec.options = {"export_side_data": "venc_params"}
    used = {}

    def grab(frames):
        for f in frames:
            for sd in f.side_data:
                if sd.type.name == "VIDEO_ENC_PARAMS":  # AVVideoEncParams, then one block per macroblock
                    raw = bytes(memoryview(sd))
                    count, offset, size, _, base = struct.unpack_from("<I4xQQii", raw)
                    deltas = {struct.unpack_from("<i", raw, offset + i * size + 16)[0] for i in range(count)}
                    assert len(deltas) == 1  # constant QP: one QP per picture
                    used[f.pts] = base + deltas.pop()

    for unit in StreamReader(str(tmp_path / "ra.gvc")).units():
        if hasattr(unit, "payload"):
            pkt = av.Packet(unit.payload)
            pkt.pts = unit.poc_first
            grab(dec.decode(pkt))
    grab(dec.decode(None))
    assert used == logged


@pytest.mark.parametrize("codec,threads", [("x265", 1), ("x265", 4), ("x264", 1)])
def test_gop_table_qps_reach_the_pictures_they_name(sequence, run_cli, tmp_path, codec, threads):
    """x265 numbers zones in coding order: raising one table entry's QP shrinks exactly its pictures."""
    clip = sequence("bus_352x288_17f_yuv420p.yuv")
    bits = {}
    for name, offsets in (("flat", {}), ("poc4", {4: 12})):
        (tmp_path / f"{name}.cfg").write_text(_ra_table(offsets))
        enc = run_cli("encode", "-c", f"{name}.cfg", "-i", clip, "-wdt", 352, "-hgt", 288, "-fr", 30, "-f", 17,
                      "-q", 32, f"--Codec={codec}", f"--Threads={threads}", "-b", f"{name}.gvc", check_rc=0)
        bits[name] = {int(p): int(b) for p, b in BITS.findall(enc.stdout)}
    ratio = {poc: bits["poc4"][poc] / bits["flat"][poc] for poc in bits["flat"]}
    assert sorted(ratio, key=ratio.get)[:2] in ([4, 12], [12, 4]), ratio
    assert max(ratio[4], ratio[12]) < 0.5


def test_gop_table_qps_x264_cannot_reach_are_refused_in_one_line():
    from gvcodec.engines.classical.engine import encoder_options
    from gvcodec.engines.classical.params import ClassicalParams, GopEntry
    from gvcodec.errors import OptionError

    below = ClassicalParams(qp=32, intra_qp_offset=-1, gop=(GopEntry(1, -4),))  # 28 < intra 31: x264 clamps
    with pytest.raises(OptionError, match="QP 28 below its intra QP 31"):
        encoder_options("x264", below, 9)
    assert "zones=2,9,q=28" in encoder_options("x265", below, 9)["x265-params"]  # x265 has no such clamp
    above = ClassicalParams(qp=20, gop=(GopEntry(1, 24),))  # +24: past x264's pbratio limit of 10
    with pytest.raises(OptionError, match="at most 20 QP above P"):
        encoder_options("x264", above, 9)
    assert "pbratio=10.0794" in encoder_options("x264", ClassicalParams(qp=20, gop=(GopEntry(1, 20),)), 9)["x264-params"]
