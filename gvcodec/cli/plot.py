"""`gvcodec plot results.csv [more.csv] -o DIR`: RD curves per sequence and metric, and a BD-rate table image."""

from __future__ import annotations

from typing import List, Optional

import typer


def command(
    files: List[str] = typer.Argument(..., help="results CSV(s) (rows of all files are plotted together)"),
    out_dir: str = typer.Option("plots", "-o", "--output", help="folder for the PNG files (created if absent)"),
    metric: Optional[List[str]] = typer.Option(None, "--metric", help="metric column(s) to plot (default: every quality column present)"),
    anchor: str = typer.Option("", "--anchor", help="anchor codec of the BD-rate table (default: x264 if present, else the first codec)"),
    method: str = typer.Option("pchip", "--method", help="BD interpolation: pchip (JVET CTC), akima or cubic"),
    dpi: int = typer.Option(100, "--dpi", help="image resolution (the RD plots are 6.4 x 4.8 inches)"),
) -> None:
    """RD curves (bpp on x, one PNG per sequence and metric, every codec on the same axes) and
    bdrate.png (BD-rate of every other codec against the anchor, per sequence and averaged)."""
    from pathlib import Path

    from gvcodec.errors import OptionError, OutputError
    from gvcodec.metrics.bdrate import METHODS, bdrate_table
    from gvcodec.report.results import read_results
    from gvcodec.report.bdtable_image import bdrate_table_image
    from gvcodec.report.plots import in_order, metric_columns, plot_rd_curves

    if method not in METHODS:
        raise OptionError(f"unknown method `{method}' ({', '.join(METHODS)})")
    if not 10 <= dpi <= 1000:
        raise OptionError(f"--dpi {dpi} is out of range (10..1000)")
    rows = [r for path in files for r in read_results(path)]
    if not rows:
        raise OptionError(f"no result rows in {', '.join(files)}")
    present = metric_columns(rows)
    metrics = [m.strip() for spec in (metric or []) for m in spec.split(",") if m.strip()] or present
    missing = [m for m in metrics if m not in present]
    if missing:
        raise OptionError(f"no values for metric(s) {', '.join(missing)} (present: {', '.join(present) or 'none'})")
    codecs = in_order(str(r.get("codec")) for r in rows)
    if anchor and anchor not in codecs:
        raise OptionError(f"anchor `{anchor}' has no rows (codecs: {', '.join(codecs)})")
    anchor = anchor or ("x264" if "x264" in codecs else codecs[0])
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder `{out}': {exc.strerror}") from None

    written = plot_rd_curves(rows, out, metrics, dpi=dpi)
    tests = [c for c in codecs if c != anchor]
    if tests:
        anchor_rows = [r for r in rows if str(r.get("codec")) == anchor]
        tables = {t: bdrate_table(anchor_rows, [r for r in rows if str(r.get("codec")) == t], metrics, method)
                  for t in tests}
        written.append(bdrate_table_image(tables, anchor, out / "bdrate.png", dpi=dpi))
    for path in written:
        typer.echo(str(path))
    if not tests:
        typer.echo(f"only one codec ({anchor}): no BD-rate table", err=True)
