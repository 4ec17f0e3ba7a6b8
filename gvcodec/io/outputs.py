"""Checking a run's outputs before any coding starts.

Every output of a command (bitstream, recon, statistics, results row, summary file) is checked
up front, so a run never codes for minutes and then fails on a typo, and never leaves some outputs
renamed into place while another one failed:

* its folder exists and is writable (gvcodec creates no folders: like HM and cp);
* it is not a directory, and not a read-only file (0444): gvcodec does not replace a read-only
  target, like `cp` without `-f`; remove it or make it writable;
* it is not one of the run's inputs (the same file, also through another spelling or a link),
  and no two outputs are the same file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gvcodec.errors import OptionError, OutputError


def is_read_only(path: Path) -> bool:
    """True for an existing file nobody may write (mode bits, so also for root, who os.access ignores)."""
    try:
        st = path.stat()
    except OSError:
        return False
    return not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(inputs: dict[str, str], outputs: dict[str, str], existing: tuple[str, ...] = ()) -> None:
    """Refuse outputs that cannot or must not be written, before the run does any work.

    Args:
        inputs: what -> path of every file the run reads ("" = not given).
        outputs: what -> path of every file the run writes or appends to ("" = not given).
        existing: names in `outputs` that must already exist (a results CSV the decoder fills in).
    """
    given_in = {k: Path(v) for k, v in inputs.items() if v}
    given_out = {k: Path(v) for k, v in outputs.items() if v}
    seen: dict[str, Path] = {}
    for what, path in given_out.items():
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"cannot write {what} `{path}': folder `{folder}' does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write {what} `{path}': folder `{folder}' is not writable")
        if path.is_dir():
            raise OutputError(f"cannot write {what} `{path}': it is a directory")
        if what in existing and not path.is_file():
            raise OutputError(f"{what} `{path}' does not exist (encode with --ResultsFile writes it)")
        if is_read_only(path):
            raise OutputError(f"{what} `{path}' is read-only: gvcodec does not replace read-only files "
                              "(like cp without -f); remove it or make it writable")
        for in_what, in_path in given_in.items():
            if _same(path, in_path):
                raise OptionError(f"{what} `{path}' is the {in_what}: gvcodec never overwrites an input")
        for other, other_path in seen.items():
            if _same(path, other_path):
                raise OptionError(f"{what} and {other} are the same file `{path}'")
        seen[what] = path
