"""The .gvc container: round trip, and every kind of damage detected and named."""

import struct

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
    struct.pack_into("<I", data, 9, 0xFFFFFFF0)  # the sequence header's length field
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
