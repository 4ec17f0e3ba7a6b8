"""The terminal display of `gvcodec train`: a rich progress bar with loss, bpp, PSNR and learning rate on
stderr (only on a terminal unless forced). Log lines go through report.console.Console."""

from __future__ import annotations

import sys


class TrainDisplay:
    """A rich progress bar with loss, bpp, PSNR and learning rate (only on a terminal unless forced).

    Args:
        mode: "auto", "1" or "0" (the Progress option).
        terms: the loss-term columns of a log row shown beside the loss (the first four present).
    """

    def __init__(self, mode: str = "auto", terms: tuple[str, ...] = ()) -> None:
        self.terms = terms
        self.enabled = mode == "1" or (mode == "auto" and sys.stderr.isatty())
        self._progress = None
        self._task = None

    def start(self, what: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                  console=Console(file=sys.stderr), transient=False)
        self._progress.start()
        self._task = self._progress.add_task(what, total=total, completed=done, info="")

    def update(self, step: int, row: dict) -> None:
        if self._progress is None:
            return
        parts = [f"loss {row['loss']:.4g}"]
        for key, label in (("bpp", "bpp"), ("psnr", "PSNR")):
            if row.get(key) is not None:
                parts.append(f"{label} {row[key]:.4g}")
        parts += [f"{k} {row[k]:.3g}" for k in self.terms if isinstance(row.get(k), float)][:4]
        parts.append(f"lr {row['lr']:.2e}")
        self._progress.update(self._task, completed=step, info="  ".join(parts))

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
