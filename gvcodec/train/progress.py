"""Progress of a training run: a rich display on a terminal, a CSV log always.

The CSV (`log.csv` in the stage folder) has one row every LogEvery steps: step, stage, qp (the
QP index for GNVC-VD, the QP for GIViC), lambda, loss, every loss term (empty where the stage
has none), bpp, psnr, lr, grad_norm and
seconds (training time of the stage so far, across resumes). On resume, rows after the
checkpoint's step are dropped so the log matches the weights.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

COLUMNS = ("step", "stage", "qp", "lambda", "loss", "l1", "mse", "latent_reg", "pixel_mse", "msssim", "perceptual",
           "adv_g", "adv_d", "codec_mse", "refine_mse", "cfm", "coarse_mse", "bpp", "psnr", "lr", "grad_norm", "seconds")
TERM_COLUMNS = COLUMNS[5:COLUMNS.index("bpp")]


class CsvLog:
    """Appends rows to a stage's log.csv.

    Args:
        path: the file.
        resume_step: keep only rows up to this step (0: start a new file).
    """

    def __init__(self, path: Path, resume_step: int = 0) -> None:
        self.path = path
        rows = []
        if resume_step and path.is_file():
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if r.get("step") and int(r["step"]) <= resume_step]
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, COLUMNS)
            w.writeheader()
            w.writerows({k: r.get(k, "") for k in COLUMNS} for r in rows)

    def write(self, row: dict) -> None:
        def fmt(v):
            return f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v)

        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, COLUMNS).writerow({k: fmt(row.get(k)) for k in COLUMNS})


class Display:
    """A rich progress bar with loss, bpp, PSNR and learning rate (only on a terminal unless forced).

    Args:
        mode: "auto", "1" or "0" (the Progress option).
    """

    def __init__(self, mode: str = "auto") -> None:
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
        parts += [f"{k} {row[k]:.3g}" for k in TERM_COLUMNS if isinstance(row.get(k), float)][:4]
        parts.append(f"lr {row['lr']:.2e}")
        self._progress.update(self._task, completed=step, info="  ".join(parts))

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
