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
    markdown: str = typer.Option("", "--md", help="also write the table into this markdown file (section per pair)"),
    note: str = typer.Option("", "--note", help="a line for the markdown section (e.g. the command that made the CSV)"),
) -> None:
    """BD-rate of TEST against ANCHOR from gvcodec results CSVs (rate = bpp)."""
    from gvcodec.errors import OptionError
    from gvcodec.metrics.bdrate import bdrate_table, format_bdrate_table
    from gvcodec.report.results import read_results

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
    text = format_bdrate_table(table)
    typer.echo(text)
    if not any(c.value is not None for cells in table.rows.values() for c in cells.values()):
        from gvcodec.errors import InputError

        notes = sorted({c.note for cells in table.rows.values() for c in cells.values() if c.note})
        raise InputError("no BD value could be computed (every cell is n/a"
                         + (f": {'; '.join(notes[:3])}" if notes else "") + ")")
    if markdown:
        write_markdown(markdown, rows_a, rows_t, text, method, note)


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def write_markdown(path: str, rows_a: list[dict], rows_t: list[dict], table_text: str, method: str,
                   note: str = "") -> None:
    """A results.md section: the BD-rate table plus median speeds and their ratio."""
    import platform

    from gvcodec.report.results_md import update_section

    def num(row, key):
        try:
            return float(row.get(key) or "nan") if row.get(key) not in ("", None) else None
        except ValueError:
            return None

    a, t = rows_a[0].get("codec", "anchor"), rows_t[0].get("codec", "test")
    lines = [note, ""] if note else []
    lines += [f"{len(rows_t)} test and {len(rows_a)} anchor runs, BD-rate method {method}, rate = bpp; "
             f"machine {platform.machine()}, {platform.python_version()}.", "", "```", table_text, "```", "",
             "| speed (median over runs) | " + a + " | " + t + " | ratio test/anchor |", "|---|---|---|---|"]
    for key, label in (("enc_fps", "encode frames/s"), ("dec_fps", "decode frames/s")):
        ma, mt = _median([num(r, key) for r in rows_a]), _median([num(r, key) for r in rows_t])
        if ma is None or mt is None:
            continue
        lines.append(f"| {label} | {ma:.2f} | {mt:.2f} | {mt / ma:.2f} |")
    update_section(path, f"ctc:{t}-vs-{a}", f"{t} against {a} (bin/ctc.sh)", "\n".join(lines))
