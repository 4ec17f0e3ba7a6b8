"""Training data on real clips: shapes, value ranges, exact colour conversion, determinism, sharding."""

import pytest
import torch

from gvcodec.errors import InputError
from gvcodec.io.colour import frame_to_rgb
from gvcodec.io.source import open_source
from gvcodec.train.clips import RawVideo, Window, cache_raw, open_video
from gvcodec.train.data import ClipDataset, ClipSpec, StepSampler, build_dataset, make_loader
from gvcodec.train.manifest import VIDEO_SUFFIXES, MediaEntry, list_media

from .conftest import BUS

BEAR = "davis_bear_854x480_82f.mp4"


def whole_picture(path: str, index: int, **kw) -> torch.Tensor:
    frame = list(open_source(path, **kw).frames())[index]
    return torch.from_numpy(frame_to_rgb(frame)) * 2.0 - 1.0


@pytest.mark.parametrize("name", [BUS, BEAR])
def test_crop_equals_the_whole_picture_conversion(sequence, name):
    path = str(sequence(name))
    video = open_video(MediaEntry(path))
    win = Window(start=3, count=3, stride=2, x=40, y=30, w=64, h=64)
    clip = video.read(win)
    assert clip.shape == (3, 3, 64, 64) and clip.dtype == torch.float32
    ref = whole_picture(path, 7, **({"width": 352, "height": 288} if name == BUS else {}))
    assert torch.equal(clip[:, 2], ref[:, 30:94, 40:104])  # frame 3 + 2 * 2, same samples as full-frame BT.709


def test_raw_video_reads_only_the_crop_rows(sequence, monkeypatch):
    video = RawVideo(str(sequence(BUS)), MediaEntry(str(sequence(BUS))).raw_format())
    read = []
    real_open = open

    class Spy:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

        def seek(self, n):
            self.f.seek(n)

        def read(self, n):
            read.append(n)
            return self.f.read(n)

    monkeypatch.setattr("builtins.open", lambda p, m="r", *a, **k: Spy(real_open(p, m)) if p == video.path else real_open(p, m, *a, **k))
    video.read(Window(0, 1, 1, 0, 0, 64, 64))
    assert sum(read) < video.frame_bytes / 3  # 68 of 288 rows, not the frame


def test_dataset_shapes_ranges_and_determinism(sequence, shared):
    spec = ClipSpec(frames=5, crop=(64, 64), max_stride=3)
    entries = [MediaEntry(str(sequence(BUS))), MediaEntry(str(sequence(BEAR)))]
    a, b = ClipDataset(entries, spec, seed=7), ClipDataset(entries, spec, seed=7)
    clips = [a[i] for i in range(6)]
    for c in clips:
        assert c.shape == (3, 5, 64, 64) and c.min() >= -1.0 and c.max() <= 1.0 and c.std() > 0.01
    assert all(torch.equal(x, b[i]) for i, x in enumerate(clips))  # same seed, same samples
    other = ClipDataset(entries, spec, seed=8)
    assert not all(torch.equal(x, other[i]) for i, x in enumerate(clips))
    windows = [a.window(i) for i in range(200)]
    assert {v for v, _, _ in windows} == {0, 1} and {w.stride for _, w, _ in windows} == {1, 2, 3}
    assert {f for _, _, f in windows} == {True, False}
    assert all(w.x % 2 == 0 and w.y % 2 == 0 for _, w, _ in windows)


def test_loader_workers_match_in_process_loading(sequence):
    spec = ClipSpec(frames=1, crop=(64, 64))
    dataset, _ = build_dataset(str(sequence(BUS)), "", 0.0, spec, seed=1, per_step=2)
    direct = list(make_loader(dataset, 3, 5, batch=2, workers=0))
    spawned = list(make_loader(dataset, 3, 5, batch=2, workers=1))
    assert len(direct) == 2 and direct[0].shape == (2, 3, 1, 64, 64)
    assert all(torch.equal(x, y) for x, y in zip(direct, spawned))


def test_sampler_shards_ranks_disjointly():
    r0 = list(StepSampler(2, 4, batch=3, rank=0, world=2))
    r1 = list(StepSampler(2, 4, batch=3, rank=1, world=2))
    assert r0 == [12, 13, 14, 18, 19, 20] and r1 == [15, 16, 17, 21, 22, 23]


def test_manifest_listing_skips_archives(shared):
    entries, skipped = list_media(str(shared / "sequences" / "MANIFEST.tsv"), VIDEO_SUFFIXES)
    assert entries and all(not e.path.endswith(".tar.xz") for e in entries)
    assert any(".tar.xz" in s for s in skipped) or not any(".tar.xz" in e.path for e in entries)
    bus = next(e for e in entries if e.path.endswith(BUS))
    assert (bus.width, bus.height, bus.frames) == (352, 288, 17)


def test_image_steps_give_one_frame_crops(sequence, shared):
    images = shared / "images" / "kodak"
    if not images.is_dir():
        pytest.skip("no shared/images/kodak")
    dataset, _ = build_dataset(str(sequence(BUS)), str(images), 0.5, ClipSpec(5, (64, 64)), seed=0, per_step=1)
    kinds = [dataset.is_image_step(s) for s in range(40)]
    assert any(kinds) and not all(kinds)
    s = kinds.index(True)
    img = dataset[s]
    assert img.shape == (3, 1, 64, 64) and -1.0 <= img.min() and img.max() <= 1.0


def test_cache_transcodes_once_and_reads_the_same(sequence, tmp_path):
    entry = MediaEntry(str(sequence(BEAR)))
    cached = cache_raw(entry, str(tmp_path), max_frames=9)
    assert cached.num_frames == 9 and len(list(tmp_path.glob("*.yuv"))) == 1
    win = Window(4, 2, 4, 100, 50, 64, 64)
    assert torch.equal(cached.read(win), open_video(entry).read(win))
    again = cache_raw(entry, str(tmp_path), max_frames=9)  # reuses the file
    assert again.path == cached.path


def test_too_small_data_is_one_clear_error(sequence):
    with pytest.raises(InputError, match="no usable training video"):
        ClipDataset([MediaEntry(str(sequence(BUS)))], ClipSpec(frames=21, crop=(64, 64)), seed=0)
    with pytest.raises(InputError, match="no training videos"):
        build_dataset("", "", 0.0, ClipSpec(5, (64, 64)), 0, 1)
