"""VMAF through the static ffmpeg of the optional ``imageio-ffmpeg`` package (libvmaf filter).

The ffmpeg shipped in PyAV wheels and in most distributions has no libvmaf, while the
imageio-ffmpeg binary does (with the built-in ``vmaf_v0.6.1`` model), so gvcodec runs that binary
as a subprocess on raw planar YUV files and reads the per-frame scores from libvmaf's JSON log.
Install it with ``pip install 'gvcodec[vmaf]'``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from pathlib import Path

from gvcodec.errors import GvcodecError, InputError
from gvcodec.io.frames import VideoFormat

INSTALL_HINT = "VMAF needs the optional extra: pip install 'gvcodec[vmaf]'"

# libvmaf reads 8- and 10-bit planar YUV; 4:0:0 is not supported by the filter.
_PIX_FMTS = {
    (420, 8): "yuv420p", (422, 8): "yuv422p", (444, 8): "yuv444p",
    (420, 10): "yuv420p10le", (422, 10): "yuv422p10le", (444, 10): "yuv444p10le",
}  # fmt: skip


class VmafError(GvcodecError):
    """libvmaf ran but failed, or its log could not be read."""


class VmafUnavailableError(VmafError):
    """imageio-ffmpeg is not installed or its ffmpeg has no libvmaf filter."""


def _ffmpeg_exe() -> str | None:
    """Path of imageio-ffmpeg's ffmpeg binary, or None when the package or binary is missing."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


@functools.lru_cache(maxsize=4)
def _has_libvmaf(exe: str) -> bool:
    try:
        out = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.split()[1:2] == ["libvmaf"] for line in out.splitlines())


def vmaf_available() -> bool:
    """Whether VMAF can be computed: imageio-ffmpeg is installed and its ffmpeg lists libvmaf.

    Returns:
        True when :func:`vmaf_yuv_files` will run.
    """
    exe = _ffmpeg_exe()
    return exe is not None and _has_libvmaf(exe)


def _require_ffmpeg() -> str:
    exe = _ffmpeg_exe()
    if exe is None:
        raise VmafUnavailableError(INSTALL_HINT)
    if not _has_libvmaf(exe):
        raise VmafUnavailableError(f"the ffmpeg at {exe} has no libvmaf filter; {INSTALL_HINT}")
    return exe


def _raw_input(path: Path, fmt: VideoFormat, pix_fmt: str) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{fmt.width}x{fmt.height}",
            "-framerate", "25", "-i", str(path)]  # fmt: skip


def _check_length(path: Path, fmt: VideoFormat, n_frames: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    need = n_frames * fmt.frame_bytes()
    if size < need:
        have = size // fmt.frame_bytes()
        raise InputError(f"{path} holds {have} frames of {fmt.width}x{fmt.height}, {n_frames} requested")


def vmaf_yuv_files(
    ref_path: str | os.PathLike, dec_path: str | os.PathLike, fmt: VideoFormat, n_frames: int, threads: int = 2
) -> list[float]:
    """Per-frame VMAF (model vmaf_v0.6.1) of a decoded raw YUV file against its original.

    Args:
        ref_path: original planar YUV file (8-bit samples, or 10-bit little-endian).
        dec_path: decoded file in the same format.
        fmt: size, chroma format (420/422/444) and bit depth (8 or 10) of both files.
        n_frames: number of frames to score, from the start of both files.
        threads: libvmaf worker threads.

    Returns:
        ``n_frames`` scores in [0, 100], in display order.

    Raises:
        VmafUnavailableError: imageio-ffmpeg or libvmaf is missing.
        InputError: unsupported format, or a file is missing or too short.
        VmafError: ffmpeg failed or wrote no usable log.
    """
    pix_fmt = _PIX_FMTS.get((fmt.chroma_format, fmt.bit_depth))
    if pix_fmt is None:
        raise InputError(
            f"VMAF supports 8/10-bit 4:2:0, 4:2:2 and 4:4:4, not {fmt.chroma_format} at {fmt.bit_depth} bit"
        )
    if n_frames < 1:
        raise ValueError("n_frames must be at least 1")
    exe = _require_ffmpeg()
    ref, dec = Path(ref_path).resolve(), Path(dec_path).resolve()
    for path in (ref, dec):
        _check_length(path, fmt, n_frames)
    with tempfile.TemporaryDirectory(prefix="gvcodec-vmaf-") as work:
        # The log path is relative to the working directory so it needs no filtergraph escaping.
        # libvmaf takes the distorted ("main") input first and the reference second.
        graph = f"[0:v][1:v]libvmaf=log_fmt=json:log_path=vmaf.json:n_threads={int(threads)}"
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error",
               *_raw_input(dec, fmt, pix_fmt), *_raw_input(ref, fmt, pix_fmt),
               "-lavfi", graph, "-frames:v", str(n_frames), "-f", "null", "-"]  # fmt: skip
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise VmafError(f"ffmpeg libvmaf failed (rc {proc.returncode}): {last}")
        return _parse_log(Path(work) / "vmaf.json", n_frames)


def _parse_log(path: Path, n_frames: int) -> list[float]:
    """Per-frame ``vmaf`` values from libvmaf's JSON log, ordered by frame number."""
    try:
        frames = json.loads(path.read_text())["frames"]
        scores = [float(f["metrics"]["vmaf"]) for f in sorted(frames, key=lambda f: f["frameNum"])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VmafError(f"cannot read the libvmaf log: {exc}") from None
    if len(scores) != n_frames:
        raise VmafError(f"libvmaf scored {len(scores)} frames, {n_frames} expected")
    return scores
