"""Fixtures of the training tests: one torch thread, a real raw clip, fast option sets."""

from __future__ import annotations

import pytest

BUS = "bus_352x288_17f_yuv420p.yuv"


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/conftest.py)."""
    yield


@pytest.fixture
def fast_argv(tmp_path, sequence):
    """fast_argv(*extra) -> argv of a tiny run on the bus clip (64x64, 5 frames, batch 1, no workers)."""
    bus = sequence(BUS)

    def make(*extra: str) -> list[str]:
        return ["--Model=gnvc-vd-tiny", f"--RunDir={tmp_path / 'run'}", f"--Data={bus}", "--Frames=5", "--Crop=64",
                "--BatchSize=1", "--Workers=0", "--LogEvery=1", "--CheckpointEvery=100", "--Progress=0",
                "--Verbosity=0", "--WarmupSteps=0", "--EmaDecay=0.9", "--ConvertClips=1", "--CacheDir=", *extra]

    return make


@pytest.fixture
def init_weights(tmp_path):
    """A seeded-initialisation weights file of the tiny model (the start of stages I and II in tests)."""
    from gvcodec.models.gnvc_vd.model import GnvcVd
    from gvcodec.train.checkpoint import save_weights

    path = tmp_path / "init.safetensors"
    save_weights(path, GnvcVd.from_config("gnvc-vd-tiny").state_dict(), {"gvcodec.model": "gnvc-vd-tiny"})
    return path
