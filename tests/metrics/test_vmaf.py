"""VMAF through imageio-ffmpeg's libvmaf: identical clips score high, distortion lowers the score."""

import numpy as np
import pytest

from gvcodec.errors import GvcodecError, InputError
from gvcodec.io.frames import VideoFormat
from gvcodec.metrics import vmaf
from gvcodec.metrics.vmaf import VmafUnavailableError, vmaf_available, vmaf_yuv_files

needs_vmaf = pytest.mark.skipif(not vmaf_available(), reason="imageio-ffmpeg with libvmaf is not installed")


def write_clip(path, fmt, n_frames, noise=0.0, seed=0):
    """Write a moving textured raw YUV clip; ``noise`` adds Gaussian noise (8-bit units)."""
    scale = 1 << (fmt.bit_depth - 8)
    top = (1 << fmt.bit_depth) - 1
    dtype = np.uint8 if fmt.bit_depth == 8 else "<u2"
    chunks = []
    for t in range(n_frames):
        for h, w in fmt.plane_shapes():
            yy, xx = np.mgrid[0:h, 0:w]
            base = 128 + 60 * np.sin((xx + 3 * t) / 6.0) * np.cos(yy / 9.0)
            base = base + noise * np.random.default_rng(seed + 100 * t).standard_normal((h, w))
            chunks.append(np.clip(np.rint(base * scale), 0, top).astype(dtype).tobytes())
    path.write_bytes(b"".join(chunks))


@needs_vmaf
@pytest.mark.parametrize("bit_depth", [8, 10])
def test_identical_clip_scores_high_and_noise_scores_lower(tmp_path, bit_depth):
    fmt = VideoFormat(176, 144, 420, bit_depth)
    ref, dec = tmp_path / "ref.yuv", tmp_path / "dec.yuv"
    write_clip(ref, fmt, 3)
    write_clip(dec, fmt, 3, noise=30.0)
    same = vmaf_yuv_files(ref, ref, fmt, 3)
    worse = vmaf_yuv_files(ref, dec, fmt, 3)
    assert len(same) == len(worse) == 3
    assert min(same) > 95.0
    assert max(worse) < min(same) - 10.0


@needs_vmaf
def test_short_file_is_an_input_error(tmp_path):
    fmt = VideoFormat(176, 144, 420, 8)
    ref = tmp_path / "ref.yuv"
    write_clip(ref, fmt, 2)
    with pytest.raises(InputError, match="2 frames"):
        vmaf_yuv_files(ref, ref, fmt, 3)


def test_monochrome_and_12_bit_are_rejected(tmp_path):
    for fmt in (VideoFormat(64, 64, 400, 8), VideoFormat(64, 64, 420, 12)):
        with pytest.raises(InputError, match="VMAF supports"):
            vmaf_yuv_files(tmp_path / "a.yuv", tmp_path / "b.yuv", fmt, 1)


def test_missing_imageio_ffmpeg_gives_one_line_install_hint(monkeypatch, tmp_path):
    monkeypatch.setattr(vmaf, "_ffmpeg_exe", lambda: None)
    assert not vmaf_available()
    with pytest.raises(VmafUnavailableError) as info:
        vmaf_yuv_files(tmp_path / "a.yuv", tmp_path / "b.yuv", VideoFormat(64, 64), 1)
    assert isinstance(info.value, GvcodecError)
    assert str(info.value) == "VMAF needs the optional extra: pip install 'gvcodec[vmaf]'"


def test_ffmpeg_without_libvmaf_is_reported_as_unavailable(monkeypatch, tmp_path):
    monkeypatch.setattr(vmaf, "_ffmpeg_exe", lambda: "/bin/true")
    assert not vmaf_available()
    with pytest.raises(VmafUnavailableError, match="no libvmaf filter; VMAF needs the optional extra"):
        vmaf_yuv_files(tmp_path / "a.yuv", tmp_path / "b.yuv", VideoFormat(64, 64), 1)
