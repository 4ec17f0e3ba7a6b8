"""The .gvc container: round trip, and every kind of damage detected and named."""


import pytest

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.reader import StreamReader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.bitstream.writer import StreamWriter
from gvcodec.errors import BitstreamError


def _header(**kw):
    base = dict(width=352, height=288, coded_width=384, coded_height=320, chroma_format=420, frame_rate_num=30000,
                frame_rate_den=1001, frame_count=3, engine="x265", model="m", qp=37, gop_frames=1,
                engine_params={"codec": "x265", "n": [1, 2]})
    base.update(kw)
    return SequenceHeader(**base)


def _write(path, n_units=3):
    w = StreamWriter(str(path))
    w.write_header(_header())
    for poc in range(n_units):
        pics = [PictureInfo(poc, "I" if poc == 0 else "P", 37, 0, (poc - 1,) if poc else (),
                            md5=(bytes(16), bytes([poc]) * 16, bytes(16)))]
        w.write_pictures(PicturesUnit(pics, bytes([poc]) * (10 + poc), symbol_hash=bytes([7]) * 16))
    w.finish()
    return path


def test_round_trip_keeps_header_and_units(tmp_path):
    path = _write(tmp_path / "a.gvc")
    r = StreamReader(str(path))
    assert r.header == _header()
    units = list(r.units())
    assert [u.poc_first for u in units] == [0, 1, 2]
    assert units[2].payload == bytes([2]) * 12 and units[2].pictures[0].refs == (1,)
    assert units[1].pictures[0].md5[1] == bytes([1]) * 16 and units[0].symbol_hash == bytes([7]) * 16
    assert r.ended


def test_file_is_absent_until_finished(tmp_path):
    w = StreamWriter(str(tmp_path / "a.gvc"))
    w.write_header(_header())
    assert not (tmp_path / "a.gvc").exists()
    w.discard()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cut", [3, 20, 200, -20, -2])
def test_truncation_is_detected_and_located(tmp_path, cut):
    path = _write(tmp_path / "a.gvc")
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut > 0 else data[:cut])
    with pytest.raises(BitstreamError, match="truncated|corrupted") as e:
        list(StreamReader(str(path)).units())
    if cut > 8:
        assert "byte" in str(e.value)


def test_flipped_byte_in_a_unit_is_a_crc_error_naming_the_unit(tmp_path):
    path = _write(tmp_path / "a.gvc")
    reader = StreamReader(str(path))
    second = list(reader.units())[1]
    data = bytearray(path.read_bytes())
    data[second.offset + 7] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(BitstreamError, match=rf"CRC mismatch in unit 2 \(PICTURES\) at byte {second.offset}"):
        list(StreamReader(str(path)).units())


def test_every_single_byte_flip_is_detected(tmp_path):
    path = _write(tmp_path / "a.gvc", n_units=1)
    clean = path.read_bytes()
    for i in range(len(clean)):
        if i == 5:
            continue  # the minor format version: a newer minor version is readable by design
        data = bytearray(clean)
        data[i] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(BitstreamError):
            list(StreamReader(str(path)).units())


def test_forged_unit_length_is_rejected_without_allocation(tmp_path):
    path = _write(tmp_path / "a.gvc")
    data = bytearray(path.read_bytes())
    data[7:8] = b"\xf0\xff\xff\xff\x0f"  # the sequence header's length varint, now 2^32 - 16
    path.write_bytes(bytes(data))
    with pytest.raises(BitstreamError, match="claims 4294967280 bytes"):
        StreamReader(str(path))


def test_header_beyond_sane_limits_is_rejected():
    for bad in (dict(width=100000), dict(coded_width=100), dict(internal_bit_depth=40), dict(frame_rate_den=0),
                dict(chroma_format=411), dict(frame_count=10**9)):
        with pytest.raises(BitstreamError):
            _header(**bad).validate()


def test_missing_unit_is_detected_by_end_of_stream(tmp_path):
    path = _write(tmp_path / "a.gvc")
    units = list(StreamReader(str(path)).units())
    data = path.read_bytes()
    u = units[1]
    path.write_bytes(data[:u.offset] + data[u.offset + u.size:])
    with pytest.raises(BitstreamError, match="units are missing"):
        list(StreamReader(str(path)).units())


def test_not_a_gvc_file(tmp_path):
    p = tmp_path / "x.gvc"
    p.write_bytes(b"hello world, not a stream")
    with pytest.raises(BitstreamError, match="not a gvcodec bitstream"):
        StreamReader(str(p))


def test_format_version_1_streams_are_refused_in_one_line(tmp_path):
    path = _write(tmp_path / "a.gvc")
    data = bytearray(path.read_bytes())
    data[4] = 1
    path.write_bytes(bytes(data))
    with pytest.raises(BitstreamError, match=r"format version 1\.0; this gvcodec reads 2\.x") as e:
        StreamReader(str(path))
    assert "\n" not in str(e.value)


def test_container_costs_a_few_bytes_per_picture_without_hashes(tmp_path):
    w = StreamWriter(str(tmp_path / "a.gvc"))
    header_bytes = w.bytes + w.write_header(_header(picture_hash=0, engine_params={}, model=""))
    sizes = [w.write_pictures(PicturesUnit([PictureInfo(poc, "P", 37, 0, (poc - 1, poc - 2, poc - 3))],
                                           bytes(600))) - 600 for poc in range(3, 12)]
    w.finish()
    assert header_bytes <= 40 and max(sizes) <= 12  # was 8 + 213 and 32 bytes in format version 1
    units = list(StreamReader(str(tmp_path / "a.gvc")).units())
    assert units[4].pictures[0].refs == (6, 5, 4) and units[4].pictures[0].qp == 37


@pytest.mark.parametrize("kind,size", [(1, 16), (2, 2), (3, 4)])
def test_each_picture_hash_kind_round_trips_with_its_size(tmp_path, kind, size):
    w = StreamWriter(str(tmp_path / "a.gvc"))
    w.write_header(_header(picture_hash=kind))
    pics = [PictureInfo(0, "I", 35, 0, (), md5=(b"\x01" * size, b"\x02" * size, b"\x03" * size))]
    w.write_pictures(PicturesUnit(pics, b"xyz"))
    w.finish()
    r = StreamReader(str(tmp_path / "a.gvc"))
    (unit,) = r.units()
    assert r.header.picture_hash == kind and unit.hash_kind == kind
    assert unit.pictures[0].md5 == (b"\x01" * size, b"\x02" * size, b"\x03" * size) and unit.payload == b"xyz"
    assert unit.pictures[0].qp == 35


def test_b_pictures_keep_both_reference_lists_and_coding_order(tmp_path):
    w = StreamWriter(str(tmp_path / "a.gvc"))
    w.write_header(_header(picture_hash=0))
    order = [(0, "I", (), ()), (4, "P", (0,), ()), (2, "B", (0,), (4,)), (1, "B", (0,), (2,)), (3, "B", (2,), (4,))]
    for poc, st, l0, l1 in order:
        w.write_pictures(PicturesUnit([PictureInfo(poc, st, 37, 1 if st == "B" else 0, l0, refs1=l1)], b"p"))
    w.finish()
    got = [(u.poc_first, u.pictures[0].slice_type, u.pictures[0].refs, u.pictures[0].refs1)
           for u in StreamReader(str(tmp_path / "a.gvc")).units()]
    assert got == order


def test_engine_parameters_keep_their_types():
    from gvcodec.bitstream.syntax import FieldReader, pack_value

    value = {"a": 1.25, "b": [1, -300, "é", None, True], "c": {"d": 2**40}, "e": 0.1}
    assert FieldReader(pack_value(value), "t").value() == value
    with pytest.raises(BitstreamError):
        FieldReader(pack_value(value)[:-3], "t").value()


def test_picture_hashes_are_hm_s_crc_and_checksum():
    import numpy as np

    from gvcodec.bitstream.hashes import picture_hash
    from gvcodec.io.frames import Frame, VideoFormat

    fmt = VideoFormat(9, 1, 400, 8)
    frame = Frame((np.frombuffer(b"123456789", np.uint8).reshape(1, 9).astype(np.uint16),), fmt, 0)
    assert picture_hash(frame, 2) == (b"\xe5\xcc",)  # CRC-16/AUG-CCITT check value of "123456789"
    # checksum: sum of (sample ^ (x & 0xff)) for the single row y = 0
    want = sum(b ^ x for x, b in enumerate(b"123456789"))
    assert picture_hash(frame, 3) == (want.to_bytes(4, "big"),)
    assert len(picture_hash(frame, 1)[0]) == 16 and picture_hash(frame, 0) == ()
