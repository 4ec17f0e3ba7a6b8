"""Raw YUV and Y4M: exact round trips at 8 and 10 bit, all chroma formats, bad sizes, streaming."""

import tracemalloc

import numpy as np
import pytest

from gvcodec.errors import InputError
from gvcodec.io.frames import Frame, VideoFormat, convert_bit_depth
from gvcodec.io.source import open_sink, open_source
from gvcodec.io.y4m import Y4mReader
from gvcodec.io.yuv import YuvReader


@pytest.mark.parametrize("chroma", [400, 420, 422, 444])
@pytest.mark.parametrize("depth", [8, 10])
def test_raw_yuv_round_trip_is_exact(make_yuv, tmp_path, chroma, depth):
    path, planes = make_yuv(48, 32, 3, chroma, depth)
    src = open_source(str(path), width=48, height=32, chroma_format=chroma, bit_depth=depth)
    frames = list(src.frames())
    assert len(frames) == 3 == src.num_frames
    for f, ref in zip(frames, planes):
        assert all(np.array_equal(a, b) for a, b in zip(f.planes, ref))
    out = tmp_path / "out.yuv"
    sink = open_sink(str(out), src.fmt, src.frame_rate, depth)
    for f in frames:
        sink.write(f)
    sink.close()
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("chroma", [400, 420, 444])
@pytest.mark.parametrize("depth", [8, 10])
def test_y4m_round_trip_is_exact(make_yuv, tmp_path, chroma, depth):
    path, planes = make_yuv(48, 32, 2, chroma, depth)
    src = open_source(str(path), width=48, height=32, chroma_format=chroma, bit_depth=depth)
    out = tmp_path / "clip.y4m"
    sink = open_sink(str(out), src.fmt, src.frame_rate, depth)
    for f in src.frames():
        sink.write(f)
    sink.close()
    back = open_source(str(out))
    assert back.fmt == src.fmt and back.num_frames == 2
    for f, ref in zip(back.frames(), planes):
        assert all(np.array_equal(a, b) for a, b in zip(f.planes, ref))


def test_ten_bit_samples_are_two_bytes_little_endian(tmp_path):
    fmt = VideoFormat(2, 2, 400, 10)
    sink = open_sink(str(tmp_path / "a.yuv"), fmt, 25, 10)
    sink.write(Frame((np.array([[1, 2], [3, 1023]], np.uint16),), fmt))
    sink.close()
    assert (tmp_path / "a.yuv").read_bytes() == bytes([1, 0, 2, 0, 3, 0, 0xFF, 0x03])


def test_bit_depth_conversion_follows_hm():
    fmt = VideoFormat(2, 1, 400, 10)
    f = Frame((np.array([[1023, 2]], np.uint16),), fmt)
    assert convert_bit_depth(f, 8).planes[0].tolist() == [[255, 1]]  # (x + 2) >> 2, clipped
    assert convert_bit_depth(convert_bit_depth(f, 8), 10).planes[0].tolist() == [[1020, 4]]


def test_leftover_bytes_are_reported(make_yuv):
    path, _ = make_yuv(48, 32, 2)
    with open(path, "ab") as f:
        f.write(b"xyz")
    with pytest.raises(InputError, match=r"\+ 3 bytes left over"):
        YuvReader(str(path), VideoFormat(48, 32))


def test_missing_size_and_odd_size_are_reported(make_yuv):
    path, _ = make_yuv(48, 32, 1)
    with pytest.raises(InputError, match="needs its size"):
        open_source(str(path))
    with pytest.raises(InputError, match="is odd"):
        open_source(str(path), width=47, height=32)


def test_missing_input_is_reported(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_source(str(tmp_path / "none.yuv"), width=16, height=16)


def test_truncated_y4m_frame_is_reported(make_yuv, tmp_path):
    path, _ = make_yuv(16, 16, 1)
    src = open_source(str(path), width=16, height=16)
    out = tmp_path / "a.y4m"
    sink = open_sink(str(out), src.fmt, src.frame_rate, 8)
    for f in src.frames():
        sink.write(f)
    sink.close()
    out.write_bytes(out.read_bytes()[:-5])
    with pytest.raises(InputError, match="ended inside frame 0"):
        list(Y4mReader(str(out)).frames())


def test_frame_selection_skip_ratio_count(make_yuv):
    path, planes = make_yuv(16, 16, 10)
    src = open_source(str(path), width=16, height=16, skip=1, ratio=2, count=3)
    got = list(src.frames())
    assert src.num_frames == 3 and [f.poc for f in got] == [0, 1, 2]
    assert np.array_equal(got[1].planes[0], planes[3][0])


def test_reading_streams_frames_without_growing_memory(tmp_path):
    fmt = VideoFormat(320, 240)
    path = tmp_path / "long.yuv"
    with open(path, "wb") as f:
        f.write(bytes(fmt.frame_bytes() * 200))
    src = open_source(str(path), width=320, height=240)
    tracemalloc.start()
    for _ in src.frames():
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * fmt.frame_bytes()  # a handful of frames, not 200


def test_output_is_atomic_on_failure(tmp_path):
    fmt = VideoFormat(16, 16)
    target = tmp_path / "out.yuv"
    sink = open_sink(str(target), fmt, 25, 8)
    sink.write(Frame.blank(fmt))
    sink.discard()
    assert not target.exists() and list(tmp_path.iterdir()) == []
