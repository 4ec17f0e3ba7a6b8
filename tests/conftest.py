"""Shared fixtures: the one way tests find ../shared data, synthetic clips, and the CLI runner.

Real clips come from ../shared (beside the checkout) or from the folder named by the
GVCODEC_SHARED environment variable; tests that need them skip with a clear reason where
there are none, so the suite also passes on a bare clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_root() -> Path:
    return Path(os.environ.get("GVCODEC_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_root()
    if not (root / "sequences" / "MANIFEST.tsv").is_file():
        pytest.skip(f"no shared test data at {root} (set GVCODEC_SHARED to the folder holding sequences/)")
    return root


@pytest.fixture(scope="session")
def sequence(shared):
    """sequence(name) -> path of a clip in shared/sequences, skipping when it is absent."""

    def get(name: str) -> Path:
        path = shared / "sequences" / name
        if not path.is_file():
            pytest.skip(f"test clip {name} is not in {shared / 'sequences'}")
        return path

    return get


def synthetic_planes(width: int, height: int, frames: int, chroma_format: int = 420, bit_depth: int = 8,
                     seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    """Moving gradients plus noise, so codecs have something to code."""
    from gvcodec.io.frames import VideoFormat

    fmt = VideoFormat(width, height, chroma_format, bit_depth)
    rng = np.random.default_rng(seed)
    top = (1 << bit_depth) - 1
    out = []
    for t in range(frames):
        planes = []
        for h, w in fmt.plane_shapes():
            yy, xx = np.mgrid[0:h, 0:w]
            base = (np.sin((xx + 3 * t) / 9.0) + np.cos((yy - 2 * t) / 7.0)) * 0.25 + 0.5
            noise = rng.normal(0, 0.02, (h, w))
            planes.append(np.clip((base + noise) * top, 0, top).astype(np.uint16))
        out.append(tuple(planes))
    return out


@pytest.fixture
def make_yuv(tmp_path):
    """make_yuv(width, height, frames, chroma_format=420, bit_depth=8) -> (path, list of plane tuples)."""

    def make(width=64, height=48, frames=3, chroma_format=420, bit_depth=8, name="clip.yuv"):
        planes = synthetic_planes(width, height, frames, chroma_format, bit_depth)
        dtype = np.uint8 if bit_depth <= 8 else np.dtype("<u2")
        path = tmp_path / name
        with open(path, "wb") as f:
            for fr in planes:
                for p in fr:
                    f.write(p.astype(dtype).tobytes())
        return path, planes

    return make


class CliRun(subprocess.CompletedProcess):
    """A finished `gvcodec` run; `one_line` asserts the bad-input contract."""

    def one_line(self, rc: int | None, *fragments: str) -> "CliRun":
        """Exit code `rc` (None: any non-zero), no traceback or internal error, exactly one stderr line
        holding every fragment."""
        assert self.returncode == rc if rc is not None else self.returncode != 0, self.stderr + self.stdout
        assert "Traceback" not in self.stderr and "internal error" not in self.stderr, self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        return self


@pytest.fixture
def run_cli(tmp_path):
    """run_cli(*args) -> CliRun (a CompletedProcess) of `python -m gvcodec args` in tmp_path."""

    def run(*args, check_rc=None):
        done = subprocess.run([sys.executable, "-m", "gvcodec", *map(str, args)], cwd=tmp_path,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        proc = CliRun(done.args, done.returncode, done.stdout, done.stderr)
        if check_rc is not None:
            assert proc.returncode == check_rc, proc.stderr + proc.stdout
        return proc

    return run


@pytest.fixture(scope="session")
def bus_crop():
    """bus_crop(path, first, count, x0=144, y0=112, size=32): `count` frames of the raw 352x288 4:2:0 bus
    clip from `first`, cropped to size x size at (x0, y0), as (Y, U, V) uint16 planes."""
    width, height = 352, 288

    def crop(path, first, count, x0=144, y0=112, size=32):
        fb = width * height * 3 // 2
        raw = np.fromfile(path, np.uint8)
        out = []
        for t in range(first, first + count):
            f = raw[t * fb:(t + 1) * fb]
            y = f[:width * height].reshape(height, width)[y0:y0 + size, x0:x0 + size]
            c = slice(y0 // 2, (y0 + size) // 2), slice(x0 // 2, (x0 + size) // 2)
            u = f[width * height:width * height + fb // 6].reshape(height // 2, width // 2)[c]
            v = f[width * height + fb // 6:].reshape(height // 2, width // 2)[c]
            out.append(tuple(p.astype(np.uint16) for p in (y, u, v)))
        return out

    return crop


@pytest.fixture
def one_thread():
    """Tiny models run faster on one thread than on two contended ones; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_sessionfinish(session, exitstatus):
    """A run that collected no test fails (exit 1) instead of returning pytest's 'no tests' code 5."""
    if exitstatus == 5:
        session.exitstatus = 1
