"""The only writer to stdout and stderr.

stdout carries the HM log (what CTC scripts parse); stderr carries warnings and, when it is a
terminal, a rich progress bar with frames/s and ETA. In pipes and CI the bar stays quiet.
"""

from __future__ import annotations

import sys


class Console:
    """Log lines, warnings and progress for one run.

    Args:
        verbosity: 0 prints nothing on stdout, 1+ prints the HM log.
        progress: "auto" (only when stderr is a terminal), "1" or "0".
    """

    def __init__(self, verbosity: int = 5, progress: str = "auto"):
        self.verbosity = verbosity
        self.show_progress = progress == "1" or (progress == "auto" and sys.stderr.isatty())
        self._progress = None
        self._task = None

    def line(self, text: str = "") -> None:
        if self.verbosity >= 1:
            # rich's live display redirects sys.stdout above the bar, so the log stays on stdout
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def warn(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def start(self, what: str, total: int | None) -> None:
        """Open the progress bar (no-op unless shown)."""
        if not self.show_progress:
            return
        from rich.console import Console as RichConsole
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[fps]:.2f} fps"), TimeRemainingColumn(),
            console=RichConsole(file=sys.stderr), transient=True)
        self._progress.start()
        self._task = self._progress.add_task(what, total=total, fps=0.0)

    def advance(self, frames: int, fps: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=frames, fps=fps)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
