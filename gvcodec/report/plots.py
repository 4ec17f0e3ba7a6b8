"""Rate-distortion curves from results CSV rows, one PNG per sequence and metric (matplotlib, Agg).

Every codec of the rows shares the axes of a plot (markers on the measured points, joined by
lines in rate order), and a codec keeps its colour and marker in every plot of a run. The rate
axis is bits per pixel, as in the BD-rate tables. Figures are built with matplotlib's object API
on the Agg canvas (no pyplot, no display, no global state) and written atomically.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterable, Sequence

from gvcodec.io.atomic import AtomicFile

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")


def new_figure(width_in: float, height_in: float, dpi: int):
    """A matplotlib Figure on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: str | Path) -> Path:
    """Render `fig` to PNG and write it atomically to `path`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    with AtomicFile(path, "plot") as f:
        f.write(buf.getvalue())
    return Path(path)


def safe_name(text: str) -> str:
    """A file-name-safe form of a sequence or metric name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "unnamed"


def in_order(values: Iterable) -> list:
    """Distinct values in order of first appearance."""
    seen: dict = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def metric_columns(rows: Sequence[dict]) -> list[str]:
    """Quality columns with at least one number in `rows`: the results CSV's own quality columns
    in header order, then every extra (non-standard) numeric column, sorted by name."""
    from gvcodec.metrics.columns import QUALITY_COLUMNS
    from gvcodec.report.results import RESULTS_COLUMNS

    numeric = {k for r in rows for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    known = [c for c in RESULTS_COLUMNS if c in QUALITY_COLUMNS and c in numeric]
    return known + sorted(c for c in numeric if c not in RESULTS_COLUMNS)


def codec_styles(codecs: Sequence[str]) -> dict[str, tuple[str, str]]:
    """codec -> (colour, marker), fixed for a whole run so every plot agrees."""
    return {c: (COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]) for i, c in enumerate(codecs)}


def plot_rd_curves(rows: Sequence[dict], out_dir: str | Path, metrics: Sequence[str] | None = None,
                   dpi: int = 100) -> list[Path]:
    """Write `rd_<sequence>_<metric>.png` for every sequence and metric that has points.

    Args:
        rows: results rows (as from :func:`gvcodec.report.results.read_results`), any codecs.
        out_dir: existing folder for the PNG files.
        metrics: metric columns to plot (default: :func:`metric_columns`).
        dpi: pixels per inch of the 6.4 x 4.8 inch figures.

    Returns:
        The paths written, sequence by sequence in order of appearance, metrics in the given order.
    """
    from gvcodec.metrics.bdrate import _curve
    from gvcodec.report.metric_names import axis_label

    metrics = list(metrics) if metrics is not None else metric_columns(rows)
    codecs = in_order(str(r.get("codec")) for r in rows)
    styles = codec_styles(codecs)
    written = []
    for seq in in_order(str(r.get("sequence")) for r in rows):
        seq_rows = [r for r in rows if str(r.get("sequence")) == seq]
        for metric in metrics:
            curves = {c: _curve([r for r in seq_rows if str(r.get("codec")) == c], metric) for c in codecs}
            curves = {c: pts for c, pts in curves.items() if pts}
            if not curves:
                continue
            fig = new_figure(6.4, 4.8, dpi)
            ax = fig.add_subplot()
            for codec, pts in curves.items():
                colour, marker = styles[codec]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, marker=marker, linewidth=1.5,
                        markersize=6, label=codec)
            ax.set_title(seq)
            ax.set_xlabel("rate (bpp)")
            ax.set_ylabel(axis_label(metric))
            ax.grid(True, linestyle=":", linewidth=0.7)
            ax.legend(loc="best", fontsize="small")
            fig.tight_layout()
            written.append(save_png(fig, Path(out_dir) / f"rd_{safe_name(seq)}_{safe_name(metric)}.png"))
    return written
