"""PyAV input on real clips."""

import numpy as np

from gvcodec.io.source import open_source


def test_mp4_clip_streams_yuv420_frames(sequence):
    src = open_source(str(sequence("davis_bear_854x480_82f.mp4")), count=3)
    frames = list(src.frames())
    assert src.fmt.width == 854 and src.fmt.height == 480 and src.fmt.chroma_format == 420
    assert len(frames) == 3 and src.frame_rate == 30
    assert frames[0].planes[0].shape == (480, 854) and frames[0].planes[1].shape == (240, 427)
    assert 20 < frames[0].planes[0].mean() < 235


def test_raw_h264_clip_defaults_to_25_fps_and_skips_frames(sequence):
    path = str(sequence("container_ship_176x144_1700f.264"))
    a = list(open_source(path, count=4).frames())
    b = list(open_source(path, skip=2, count=2).frames())
    assert np.array_equal(a[2].planes[0], b[0].planes[0])
    assert open_source(path, count=1).frame_rate == 25


def test_full_range_clip_is_flagged(sequence):
    assert open_source(str(sequence("asl_book_640x480_109f.mkv")), count=1).full_range is True
