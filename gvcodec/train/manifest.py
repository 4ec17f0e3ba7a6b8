"""Which videos and images a training run reads.

Sources are given as a comma list of MANIFEST.tsv files, folders or media files. A manifest is a
tab-separated table with a header row; the columns used are `file` (relative to the manifest's
folder), and, where present, `width`, `height`, `frames` and `pix_fmt` (raw `.yuv` needs its
size: from the manifest or a `WxH` in its name). The ../shared/sequences and ../shared/images manifests work as they are. A
folder stands for its MANIFEST.tsv, or for every media file in it when it has none. Files that
cannot be read as video (archives such as `.yuv.tar.xz`) are skipped and reported.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from gvcodec.errors import InputError
from gvcodec.io.frames import VideoFormat
from gvcodec.train.options import expand_path

VIDEO_SUFFIXES = (".yuv", ".y4m", ".mp4", ".mkv", ".webm", ".mov", ".avi", ".264", ".h264", ".265", ".hevc", ".ivf")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SKIPPED_SUFFIXES = (".tar", ".xz", ".gz", ".zip", ".bz2", ".zst", ".7z")

# pixel format name -> (chroma format, bit depth)
PIX_FMTS = {"yuv420p": (420, 8), "yuvj420p": (420, 8), "yuv422p": (422, 8), "yuv444p": (444, 8), "gray": (400, 8),
            "yuv420p10le": (420, 10), "yuv422p10le": (422, 10), "yuv444p10le": (444, 10)}


@dataclass(frozen=True)
class MediaEntry:
    """One listed file.

    Attributes:
        path: the file.
        width, height: picture size from the manifest (0 = unknown).
        frames: frame count from the manifest (0 = unknown).
        pix_fmt: pixel format from the manifest ("" = unknown).
    """

    path: str
    width: int = 0
    height: int = 0
    frames: int = 0
    pix_fmt: str = ""

    @property
    def is_raw(self) -> bool:
        return Path(self.path).suffix.lower() == ".yuv"

    def raw_format(self) -> VideoFormat:
        """Sample format of a raw .yuv entry (the manifest must give width, height and pix_fmt)."""
        width, height = self.width, self.height
        if not (width and height):
            m = re.search(r"(\d+)x(\d+)", Path(self.path).name)
            if not m:
                raise InputError(f"raw video `{self.path}' needs width and height (manifest columns, or WxH in its name)")
            width, height = int(m.group(1)), int(m.group(2))
        pix = self.pix_fmt or "yuv420p"
        if pix not in PIX_FMTS:
            raise InputError(f"raw video `{self.path}': unsupported pix_fmt `{pix}' "
                             f"(known: {', '.join(PIX_FMTS)})")
        chroma, depth = PIX_FMTS[pix]
        return VideoFormat(width, height, chroma, depth)


def _int(text: str | None) -> int:
    try:
        return int(str(text).strip().split()[0])
    except (ValueError, IndexError):
        return 0


def read_manifest(path: Path) -> list[MediaEntry]:
    """Entries of one MANIFEST.tsv (paths made absolute against its folder)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as exc:
        raise InputError(f"cannot read manifest `{path}': {exc.strerror}") from None
    if rows and "file" not in rows[0]:
        raise InputError(f"manifest `{path}' has no `file' column")
    out = []
    for row in rows:
        name = (row.get("file") or "").strip()
        if not name:
            continue
        out.append(MediaEntry(str(path.parent / name), _int(row.get("width")), _int(row.get("height")),
                              _int(row.get("frames")), (row.get("pix_fmt") or "").strip()))
    return out


def list_media(spec: str, suffixes: tuple[str, ...]) -> tuple[list[MediaEntry], list[str]]:
    """Expand a comma list of manifests, folders and files.

    Args:
        spec: e.g. "../shared/sequences/MANIFEST.tsv,../shared/sequences/train".
        suffixes: media file suffixes to keep (VIDEO_SUFFIXES or IMAGE_SUFFIXES).

    Returns:
        (entries in a stable order, skipped files with the reason).
    """
    entries: list[MediaEntry] = []
    skipped: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        p = Path(expand_path(item))
        if p.is_dir():
            manifest = p / "MANIFEST.tsv"
            found = read_manifest(manifest) if manifest.is_file() else [
                MediaEntry(str(f)) for f in sorted(p.iterdir()) if f.suffix.lower() in suffixes]
        elif p.is_file() and p.suffix.lower() == ".tsv":
            found = read_manifest(p)
        elif p.is_file():
            found = [MediaEntry(str(p))]
        else:
            raise InputError(f"data source `{item}' does not exist")
        for e in found:
            suffix = Path(e.path).suffix.lower()
            if suffix in SKIPPED_SUFFIXES or suffix not in suffixes:
                skipped.append(f"{e.path} (not a readable {'video' if suffixes is VIDEO_SUFFIXES else 'image'} file)")
            elif not Path(e.path).is_file():
                skipped.append(f"{e.path} (listed but missing)")
            else:
                entries.append(e)
    seen, unique = set(), []
    for e in entries:
        if e.path not in seen:
            seen.add(e.path)
            unique.append(e)
    return unique, skipped
