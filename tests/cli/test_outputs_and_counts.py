"""Outputs checked before coding and renamed into place together; inputs never overwritten; frame
counts compared end to end; no input that ends as an internal error (exit 70)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def clip(make_yuv):
    return make_yuv(64, 48, 3)[0]


ENC = ("-wdt", 64, "-hgt", 48, "--Codec=x264", "-q", 35)


@pytest.fixture
def stream(clip, run_cli, tmp_path):
    run_cli("encode", "-i", clip, *ENC, "-b", "s.gvc", check_rc=0)
    return tmp_path / "s.gvc"


def test_outputs_never_overwrite_an_input(clip, stream, run_cli, tmp_path):
    before = clip.read_bytes()
    for flag in ("-o", "-b"):
        args = ["-b", "o.gvc", "-o", clip] if flag == "-o" else ["-b", clip]
        run_cli("encode", "-i", clip, *ENC, *args).one_line(1, "is the input", "never overwrites")
        assert clip.read_bytes() == before
    run_cli("encode", "-i", "./" + clip.name, *ENC, "-b", clip.name).one_line(1, "is the input")
    os.symlink(clip, tmp_path / "link.yuv")
    run_cli("encode", "-i", clip, *ENC, "-b", "link.yuv").one_line(1, "is the input")
    assert clip.read_bytes() == before
    data = stream.read_bytes()
    run_cli("decode", "-b", stream, "-o", stream).one_line(1, "is the bitstream")
    assert stream.read_bytes() == data
    assert not (tmp_path / "o.gvc").exists()


def test_same_file_for_two_outputs_is_refused_not_exit_70(clip, run_cli, tmp_path):
    run_cli("encode", "-i", clip, *ENC, "-b", "x", "-o", "x").one_line(1, "same file")
    assert not (tmp_path / "x").exists()
    run_cli("encode", "-i", clip, *ENC, "-b", "x.gvc", "--stats", "x.gvc").one_line(1, "same file")


def test_read_only_target_is_refused_like_cp_without_f(clip, run_cli, tmp_path):
    target = tmp_path / "ro.gvc"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    run_cli("encode", "-i", clip, *ENC, "-b", target).one_line(1, "read-only")
    assert target.read_bytes() == b"keep me"
    run_cli("encode", "-i", clip, *ENC, "-b", "o.gvc", "-o", target).one_line(1, "read-only")
    assert target.read_bytes() == b"keep me" and not (tmp_path / "o.gvc").exists()


def test_missing_folder_of_any_output_fails_before_coding(clip, stream, run_cli, tmp_path):
    for extra in (["--stats", "nodir/s.csv"], ["--ResultsFile=nodir/r.csv"], ["--SummaryOutFilename=nodir/s.txt"]):
        run_cli("encode", "-i", clip, *ENC, "-b", "o.gvc", "-o", "r.yuv", *extra).one_line(1, "does not exist")
        assert not (tmp_path / "o.gvc").exists() and not (tmp_path / "r.yuv").exists()
        assert not (tmp_path / "nodir").exists()  # no folder created either
    run_cli("decode", "-b", stream, "-o", "d.yuv", "--ResultsFile=nodir/r.csv").one_line(1, "does not exist")
    run_cli("decode", "-b", stream, "-o", "d.yuv", "--stats", "nodir/s.csv").one_line(1, "does not exist")
    run_cli("decode", "-b", stream, "-o", "d.yuv", "--ResultsFile=absent.csv").one_line(1, "does not exist")
    assert not (tmp_path / "d.yuv").exists()


def test_bad_device_frame_rate_and_skip_are_option_errors(clip, stream, run_cli, tmp_path):
    run_cli("decode", "-b", stream, "--Device=bogus").one_line(1, "Device")
    run_cli("encode", "-i", clip, *ENC, "-fr", "1:1000000000", "-b", "o.gvc").one_line(1, "frame rate")
    run_cli("decode", "-b", stream, "-o", "d.yuv", "-s", 100).one_line(1, "SkipFrames 100")
    assert not (tmp_path / "d.yuv").exists()


def test_binary_inputs_to_bdrate_and_cfg(run_cli, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    run_cli("bdrate", blob, "--anchor", "a", "--test", "b").one_line(1, "not a gvcodec results CSV")
    proc = run_cli("encode", "-c", blob, "-i", "x.yuv")
    proc.one_line(1, "not a text file")
    assert "\x00" not in proc.stderr + proc.stdout and "\x7f" not in proc.stderr


def test_bdrate_with_every_cell_na_fails(run_cli, tmp_path):
    from gvcodec.report.results import append_result

    csv = tmp_path / "r.csv"
    for codec in ("a", "b"):  # one rate point per codec: no curve, every cell n/a
        append_result(csv, {"sequence": "bus", "codec": codec, "qp": 32, "frames": 3, "width": 64, "height": 48,
                            "bits": 9000, "psnr_y": 33.0})
    proc = run_cli("bdrate", csv, "--anchor", "a", "--test", "b")
    assert proc.returncode == 1 and "no BD value" in proc.stderr


def test_metrics_with_different_frame_counts_fails(make_yuv, run_cli):
    ref = make_yuv(64, 48, 17, name="ref.yuv")[0]
    dec = make_yuv(64, 48, 3, name="dec.yuv")[0]
    run_cli("metrics", "-r", ref, "-d", dec, "-wdt", 64, "-hgt", 48).one_line(1, "17 frames", "3")
    ok = run_cli("metrics", "-r", ref, "-d", dec, "-wdt", 64, "-hgt", 48, "-f", 3)
    assert ok.returncode == 0, ok.stderr


def test_truncated_faststart_mp4_is_refused_not_coded_short(sequence, run_cli, tmp_path):
    """The real 82-frame clip remuxed with its index first (faststart), then cut in half: the index
    still announces 82 frames, 32 decode. Old gvcodec coded 32 with exit 0 and a header saying 82."""
    av = pytest.importorskip("av")

    src = av.open(str(sequence("davis_bear_854x480_82f.mp4")))
    path = tmp_path / "cut.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        o = out.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(src.streams.video[0]):
            if pkt.dts is not None:
                pkt.stream = o
                out.mux(pkt)
    src.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    proc = run_cli("encode", "-i", path, "--Codec=x264", "--Preset=ultrafast", "-b", "o.gvc", "-o", "r.yuv")
    proc.one_line(1, "ended after", "of the 82 frames it announces", "-f ")
    assert not (tmp_path / "o.gvc").exists() and not (tmp_path / "r.yuv").exists()


def test_header_frame_count_is_compared_with_the_stream(stream, run_cli, tmp_path):
    from types import SimpleNamespace

    from gvcodec.bitstream.reader import StreamReader
    from gvcodec.bitstream.syntax import pack_sequence_header
    from gvcodec.bitstream.writer import frame_unit

    data = stream.read_bytes()
    reader = StreamReader(str(stream))
    header, first = reader.header, next(iter(reader.units()))  # the sequence header unit ends where unit 1 starts
    assert header.frame_count == 3
    fields = {k: getattr(header, k) for k in vars(header)}
    fields["frame_count"] = 82
    forged = data[:6] + frame_unit(1, pack_sequence_header(SimpleNamespace(**fields))) + data[first.offset:]
    (tmp_path / "f.gvc").write_bytes(forged)
    run_cli("decode", "-b", "f.gvc", "-o", "d.yuv").one_line(2, "announces 82 frames", "holds 3")
    assert not (tmp_path / "d.yuv").exists()
    run_cli("info", "f.gvc").one_line(2, "announces 82 frames")


def test_train_names_missing_listed_files(tmp_path):
    from gvcodec.errors import InputError
    from gvcodec.train.data import ClipSpec, build_dataset

    (tmp_path / "MANIFEST.tsv").write_text("file\nnot_here.mp4\n")
    with pytest.raises(InputError) as err:
        build_dataset(str(tmp_path / "MANIFEST.tsv"), "", 0.0, ClipSpec(frames=5, crop=(64, 64)), 0, 1)
    assert "not_here.mp4 (listed but missing)" in str(err.value) and "none given" not in str(err.value)


def test_file_header_only_stream_names_no_unit_minus_one(stream, run_cli, tmp_path):
    from gvcodec.bitstream.syntax import FILE_HEADER

    (tmp_path / "head.gvc").write_bytes(stream.read_bytes()[:FILE_HEADER.size])  # the file header alone
    for cmd in (["info", "head.gvc"], ["decode", "-b", "head.gvc"]):
        proc = run_cli(*cmd)
        proc.one_line(2, "with no SEQUENCE_HEADER")
        assert "unit -1" not in proc.stderr


def test_y4m_with_frame_parameters_is_not_taken_for_a_truncated_file(make_yuv, run_cli, tmp_path):
    """FRAME lines with parameters make the size-based frame count an over-estimate: the count is then
    unknown (header frame_count 0) instead of a false 'ended after' refusal."""
    raw, planes = make_yuv(64, 48, 3)
    with open(tmp_path / "p.y4m", "wb") as f:
        f.write(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n")
        frame = 64 * 48 * 3 // 2
        data = raw.read_bytes()
        for i in range(3):
            f.write(b"FRAME Ixyz\n" + data[i * frame:(i + 1) * frame])
    run_cli("encode", "-i", "p.y4m", "--Codec=x264", "-q", 35, "-b", "p.gvc", check_rc=0)
    run_cli("decode", "-b", "p.gvc", "-o", "d.yuv", check_rc=0)
