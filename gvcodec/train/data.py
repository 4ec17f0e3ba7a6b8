"""Training data: random clips of videos and random crops of images, indexed by step.

Every sample is a pure function of (seed, sample index): the index picks the video (uniformly
over the usable videos), the temporal stride (1..MaxStride, as far as the video is long enough),
the first frame, the crop position (even, so 4:2:0 chroma stays aligned) and a horizontal flip. The
sample index of batch element b of step s on rank r is (s * world + r) * batch + b, so a run is
deterministic under its seed whatever the number of DataLoader workers, resumes at any step
without replaying data, and ranks read disjoint samples (DistributedSampler-like sharding).

A step is an image step (1-frame clips from the image set, for the anchor-latent codec and the
VAE's first frame) with probability ImageFraction, decided from (seed, step) so every rank agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from gvcodec.errors import InputError
from gvcodec.train.clips import Window, open_video
from gvcodec.train.manifest import IMAGE_SUFFIXES, VIDEO_SUFFIXES, MediaEntry, list_media

_CLIP, _IMAGE, _KIND = 0xC11B, 0x1A6E, 0x57E9  # stream tags of the per-sample generators


@dataclass(frozen=True)
class ClipSpec:
    """Shape of the samples: frames per clip, crop (width, height), stride range, flips, and the sample
    layout: R'G'B' [3, T, h, w] (GNVC-VD) or, with `yuv420`, native 4:2:0 code values packed as
    GIViC's target [2, T, h, w] (luma, checkerboard U/V multiplex; 4:2:0 sources only)."""

    frames: int
    crop: tuple[int, int]
    max_stride: int = 1
    flip: bool = True
    yuv420: bool = False


def _rng(seed: int, tag: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, tag, index])


def _crop_origin(rng: np.random.Generator, width: int, height: int, crop: tuple[int, int]) -> tuple[int, int]:
    x = int(rng.integers(0, (width - crop[0]) // 2 + 1)) * 2
    y = int(rng.integers(0, (height - crop[1]) // 2 + 1)) * 2
    return x, y


class ClipDataset(Dataset):
    """Random clips [3, frames, h, w] in [-1, 1] from a list of videos.

    Args:
        entries: the videos.
        spec: sample shape.
        seed: run seed.
        cache_dir: transcode compressed videos to raw YUV here (see `clips.cache_raw`).
        max_frames: use at most the first N frames of each video.
    """

    def __init__(self, entries: list[MediaEntry], spec: ClipSpec, seed: int, cache_dir: str = "",
                 max_frames: int = 0, skipped: list[str] | None = None) -> None:
        self.spec, self.seed = spec, seed
        self.videos, self.skipped = [], list(skipped or [])  # skipped: files the listing already dropped
        for e in entries:
            video = open_video(e, cache_dir, max_frames)
            if spec.yuv420 and video.fmt.chroma_format != 420:
                self.skipped.append(f"{e.path} (chroma format {video.fmt.chroma_format}; native 4:2:0 clips need 4:2:0)")
            elif video.fmt.width < spec.crop[0] or video.fmt.height < spec.crop[1]:
                self.skipped.append(f"{e.path} ({video.fmt.width}x{video.fmt.height} is smaller than the crop)")
            elif video.num_frames < spec.frames:
                self.skipped.append(f"{e.path} ({video.num_frames} frames, clips need {spec.frames})")
            else:
                self.videos.append(video)
        if not self.videos:
            raise InputError(f"no usable training video (need at least {spec.frames} frames of "
                             f"{spec.crop[0]}x{spec.crop[1]}); skipped: {'; '.join(self.skipped) or 'none given'}")

    def __len__(self) -> int:
        return 2**62  # indexed by step; the sampler decides what is read

    def window(self, index: int) -> tuple[int, Window, bool]:
        """(video number, window, flip) of sample `index`."""
        rng = _rng(self.seed, _CLIP, index)
        v = int(rng.integers(0, len(self.videos)))
        video, spec = self.videos[v], self.spec
        longest = (video.num_frames - 1) // (spec.frames - 1) if spec.frames > 1 else 1
        stride = int(rng.integers(1, max(1, min(spec.max_stride, longest)) + 1))
        span = (spec.frames - 1) * stride + 1
        start = int(rng.integers(0, video.num_frames - span + 1))
        x, y = _crop_origin(rng, video.fmt.width, video.fmt.height, spec.crop)
        flip = bool(spec.flip and rng.random() < 0.5)
        return v, Window(start, spec.frames, stride, x, y, spec.crop[0], spec.crop[1]), flip

    def __getitem__(self, index: int) -> torch.Tensor:
        v, win, flip = self.window(index)
        if self.spec.yuv420:  # flipped as planes: flipping the packed multiplex would swap U and V sites
            return self.videos[v].read(win, yuv420=True, flip=flip)
        clip = self.videos[v].read(win)
        return clip.flip(-1) if flip else clip


def read_image(path: str) -> np.ndarray:
    """An image file as uint8 [H, W, 3] R'G'B' (decoded by PyAV)."""
    import av

    try:
        with av.open(path) as c:
            frame = next(c.decode(video=0))
            return frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, OSError, StopIteration) as exc:
        raise InputError(f"cannot read image `{path}': {exc}") from None


class ImageDataset(Dataset):
    """Random crops of images as 1-frame clips [3, 1, h, w] in [-1, 1].

    Args:
        entries: the images.
        crop: (width, height).
        seed: run seed.
        flip: random horizontal flips.
    """

    def __init__(self, entries: list[MediaEntry], crop: tuple[int, int], seed: int, flip: bool = True) -> None:
        self.crop, self.seed, self.flip = crop, seed, flip
        self.paths, self.sizes, self.skipped = [], [], []
        for e in entries:
            w, h = (e.width, e.height) if e.width and e.height else read_image(e.path).shape[1::-1]
            if w < crop[0] or h < crop[1]:
                self.skipped.append(f"{e.path} ({w}x{h} is smaller than the crop)")
            else:
                self.paths.append(e.path)
                self.sizes.append((w, h))
        if not self.paths:
            raise InputError(f"no usable training image of at least {crop[0]}x{crop[1]}")

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = _rng(self.seed, _IMAGE, index)
        i = int(rng.integers(0, len(self.paths)))
        img = read_image(self.paths[i])
        x, y = _crop_origin(rng, img.shape[1], img.shape[0], self.crop)
        cut = img[y:y + self.crop[1], x:x + self.crop[0]]
        if self.flip and rng.random() < 0.5:
            cut = cut[:, ::-1]
        t = torch.from_numpy(np.ascontiguousarray(cut)).float().div_(127.5).sub_(1.0)
        return t.permute(2, 0, 1).unsqueeze(1).contiguous()


class TrainingSet(Dataset):
    """Clips, or image crops on image steps; sample i belongs to step i // per_step."""

    def __init__(self, clips: ClipDataset, images: ImageDataset | None, image_fraction: float,
                 per_step: int, seed: int) -> None:
        self.clips, self.images, self.image_fraction = clips, images, image_fraction
        self.per_step, self.seed = per_step, seed

    def __len__(self) -> int:
        return 2**62

    def is_image_step(self, step: int) -> bool:
        return self.images is not None and _rng(self.seed, _KIND, step).random() < self.image_fraction

    def __getitem__(self, index: int) -> torch.Tensor:
        if self.is_image_step(index // self.per_step):
            return self.images[index]
        return self.clips[index]


class StepSampler(Sampler[int]):
    """Sample indexes of steps start..stop-1 for one rank: (s * world + rank) * batch + b."""

    def __init__(self, start: int, stop: int, batch: int, rank: int = 0, world: int = 1) -> None:
        self.start, self.stop, self.batch, self.rank, self.world = start, stop, batch, rank, world

    def __iter__(self):
        for s in range(self.start, self.stop):
            base = (s * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return max(0, self.stop - self.start) * self.batch


def _worker_init(_: int) -> None:
    import signal

    torch.set_num_threads(1)  # decoding workers must not compete with the training threads
    # Ctrl-C and a job scheduler's SIGTERM reach the whole process group: they are the training
    # process's to handle (it checkpoints, then shuts the workers down), so a worker must not die first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def build_dataset(data: str, images: str, image_fraction: float, spec: ClipSpec, seed: int, per_step: int,
                  cache_dir: str = "", max_frames: int = 0) -> tuple[TrainingSet, list[str]]:
    """The training set from option values; returns it and the files skipped (with reasons)."""
    if not data:
        raise InputError("no training videos: give --Data=MANIFEST.tsv[,FOLDER,...]")
    entries, listed_skipped = list_media(data, VIDEO_SUFFIXES)
    clips = ClipDataset(entries, spec, seed, cache_dir, max_frames, skipped=listed_skipped)
    skipped = list(clips.skipped)
    image_set = None
    if images and image_fraction > 0:
        img_entries, img_skipped = list_media(images, IMAGE_SUFFIXES)
        image_set = ImageDataset(img_entries, spec.crop, seed, spec.flip)
        skipped += img_skipped + image_set.skipped
    return TrainingSet(clips, image_set, image_fraction, per_step, seed), skipped


def make_loader(dataset: Dataset, start: int, stop: int, batch: int, rank: int = 0, world: int = 1,
                workers: int = 0, pin_memory: bool = False) -> DataLoader:
    """A DataLoader over steps start..stop-1 (each batch is one step of this rank)."""
    # Its own generator: a DataLoader otherwise draws its base seed from the global RNG, which would
    # make a resumed run (new loader after the RNG restore) diverge from an uninterrupted one.
    return DataLoader(dataset, batch_size=batch, sampler=StepSampler(start, stop, batch, rank, world),
                      generator=torch.Generator().manual_seed(0), num_workers=workers, worker_init_fn=_worker_init if workers else None,
                      prefetch_factor=4 if workers else None, persistent_workers=False, pin_memory=pin_memory,
                      multiprocessing_context="spawn" if workers and torch.cuda.is_initialized() else None)
