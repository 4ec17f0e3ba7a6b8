"""The CSV log of a training run (its terminal display is gvcodec.report.train_display).

The CSV (`log.csv` in the stage folder) has one row every LogEvery steps: step, stage, qp (the
QP index for GNVC-VD, the QP for GIViC), lambda, loss, every loss term (empty where the stage
has none), bpp, psnr, lr, grad_norm and
seconds (training time of the stage so far, across resumes). On resume, rows after the
checkpoint's step are dropped so the log matches the weights.
"""

from __future__ import annotations

import csv
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
