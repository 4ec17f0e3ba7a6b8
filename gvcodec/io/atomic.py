"""Outputs are written to a temporary file beside the target and renamed when complete,
so an interrupted run never leaves a partial file at the target path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from gvcodec.errors import OutputError


class AtomicFile:
    """A binary output file that appears at `path` only after `commit()`.

    Use as a context manager: leaving the block normally commits, an exception discards.
    """

    def __init__(self, path: str | os.PathLike, what: str = "output"):
        self.path = Path(path)
        self.what = what
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if self.path.is_dir():
            raise OutputError(f"cannot write {what} `{path}': it is a directory")
        from gvcodec.io.outputs import is_read_only

        if is_read_only(self.path):
            raise OutputError(f"{what} `{path}' is read-only: gvcodec does not replace read-only files "
                              "(like cp without -f); remove it or make it writable")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=folder)
        except FileNotFoundError:
            raise OutputError(f"cannot write {what} `{path}': folder `{folder}' does not exist") from None
        except OSError as exc:
            raise OutputError(f"cannot write {what} `{path}': {exc.strerror}") from None
        self.tmp = Path(tmp)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.done = False

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.what} `{self.path}': {exc.strerror}") from None

    def tell(self) -> int:
        return self.file.tell()

    def commit(self) -> None:
        """Flush, then rename the temporary file onto the target path."""
        if self.done:
            return
        try:
            self.file.close()
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.what} `{self.path}': {exc.strerror}") from None
        self.done = True

    def discard(self) -> None:
        """Drop the temporary file; the target path is left untouched."""
        if self.done:
            return
        self.done = True
        try:
            self.file.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
