"""`gvcodec bdrate ANCHOR.csv TEST.csv`: BD-rate (and BD-quality) per sequence and averaged."""

from __future__ import annotations

from typing import List, Optional

import typer


def command(
    files: List[str] = typer.Argument(..., help="results CSV(s): ANCHOR.csv TEST.csv, or one CSV with --anchor/--test"),
    anchor: str = typer.Option("", "--anchor", help="codec name of the anchor rows (one-CSV form)"),
    test: str = typer.Option("", "--test", help="codec name of the test rows (one-CSV form)"),
    metric: Optional[List[str]] = typer.Option(None, "--metric", help="metric column(s) (default: every quality column present)"),
    method: str = typer.Option("pchip", "--method", help="pchip (JVET CTC), akima or cubic"),
) -> None:
    """BD-rate of TEST against ANCHOR from gvcodec results CSVs (rate = bpp)."""
    from gvcodec.errors import OptionError
    from gvcodec.metrics.bdrate import bdrate_table, format_bdrate_table, read_results

    if method not in ("pchip", "akima", "cubic"):
        raise OptionError(f"unknown method `{method}' (pchip, akima or cubic)")
    if len(files) == 2:
        rows_a, rows_t = read_results(files[0]), read_results(files[1])
        if anchor:
            rows_a = [r for r in rows_a if r.get("codec") == anchor]
        if test:
            rows_t = [r for r in rows_t if r.get("codec") == test]
    elif len(files) == 1:
        if not anchor or not test:
            raise OptionError("with one CSV give --anchor CODEC and --test CODEC")
        rows = read_results(files[0])
        rows_a = [r for r in rows if r.get("codec") == anchor]
        rows_t = [r for r in rows if r.get("codec") == test]
    else:
        raise OptionError("give ANCHOR.csv TEST.csv, or one CSV with --anchor and --test")
    if not rows_a or not rows_t:
        raise OptionError("no rows for the anchor or the test codec")
    table = bdrate_table(rows_a, rows_t, metrics=metric or None, method=method)
    typer.echo(format_bdrate_table(table))
