"""The results CSV: one row per (sequence, codec, rate point), read, appended and filled here only.

Columns are ``RESULTS_COLUMNS`` (empty cells allowed, extra metric columns allowed after them). Rows
are appended one line per write, so parallel runs can share a file. `results_row` is the one place
a row is built (encode, decode's fill and `gvcodec metrics` all use it); BD tables over the rows are
gvcodec.metrics.bdrate, RD plots gvcodec.report.plots.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Sequence

from gvcodec.errors import InputError, OutputError
from gvcodec.metrics.columns import QUALITY_ORDER

RESULTS_COLUMNS = (
    "sequence", "codec", "qp", "frames", "width", "height", "fps", "bits", "kbps", "bpp",
    *QUALITY_ORDER, "enc_fps", "dec_fps", "payload_bits", "container_bits", "encoder_settings",
)  # fmt: skip
_TEXT_COLUMNS = frozenset({"sequence", "codec", "encoder_settings"})


def results_row(sequence: str, codec: str, qp: int, frames: int, width: int, height: int, fps: float, bits: int,
                **measures) -> dict:
    """One results row: identity and rate of a coded sequence (kbps and bpp derived), plus its measures.

    Args:
        sequence, codec, qp: what was coded, by what, at which rate point.
        frames, width, height, fps: the coded sequence (bpp is per luma sample of the output size).
        bits: the whole stream's bits (every bit of the file); `payload_bits` + `container_bits` split
            them into the engine's own bits and the .gvc container's (headers, framing, picture info, hashes).
        measures: further columns (psnr_y, ..., enc_fps); None = empty cell.
    """
    n = max(frames, 1)
    row = {"sequence": sequence, "codec": codec, "qp": qp, "frames": frames, "width": width, "height": height,
           "fps": round(fps, 6), "bits": bits, "kbps": bits * fps / 1000.0 / n, "bpp": bits / (n * width * height),
           **measures}
    # in the CSV's column order, extra columns after them
    return {**{k: row[k] for k in RESULTS_COLUMNS if k in row}, **{k: v for k, v in row.items() if k not in RESULTS_COLUMNS}}


def _parse_cell(column: str, text: str):
    """Empty -> None, identifiers stay text, numbers become int or float, anything else stays text."""
    if text == "":
        return None
    if column in _TEXT_COLUMNS:
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_results(path: str | os.PathLike) -> list[dict]:
    """Read a results CSV.

    Args:
        path: CSV file written by :func:`append_result` (or by hand with the same header).

    Returns:
        One dict per row; empty cells are ``None``, numeric cells ``int`` or ``float``.

    Raises:
        InputError: the file cannot be read or has no ``sequence`` column.
    """
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "sequence" not in reader.fieldnames:
                raise InputError(f"{path} is not a gvcodec results CSV (no 'sequence' column)")
            return [{k: _parse_cell(k, v or "") for k, v in row.items() if k is not None} for row in reader]
    except OSError as exc:
        raise InputError(f"cannot read results CSV {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} is not a gvcodec results CSV (not CSV text: {exc.__class__.__name__})") from None


def _format_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _csv_line(values: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def append_result(path: str | os.PathLike, row: dict) -> None:
    """Append one rate point to a results CSV, creating it with a header when new.

    The header of a new file is ``RESULTS_COLUMNS`` followed by the row's extra keys. Each call
    writes its line with a single append, so concurrent writers do not interleave lines.

    Args:
        path: CSV file (parent folders are created).
        row: column -> value (``None`` or missing = empty cell; floats keep full precision).

    Raises:
        OutputError: the row has a column the existing file's header lacks.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = list(RESULTS_COLUMNS) + [k for k in row if k not in RESULTS_COLUMNS]
    try:
        with open(path, "x", newline="") as f:  # exclusive create: only one writer adds the header
            f.write(_csv_line(header) + _csv_line([_format_cell(row.get(k)) for k in header]))
        return
    except FileExistsError:
        pass
    with open(path, newline="") as f:
        existing = next(csv.reader(f), None)
    lines = ""
    if not existing:
        existing = header
        lines = _csv_line(header)
    unknown = [k for k in row if k not in existing]
    if unknown:
        raise OutputError(f"{path} has no column for {', '.join(unknown)}; write these results to a new file")
    lines += _csv_line([_format_cell(row.get(k)) for k in existing])
    with open(path, "a", newline="") as f:
        f.write(lines)


def fill_result(path: str | os.PathLike, match: dict, values: dict) -> None:
    """Fill empty cells of the last row of a results CSV whose cells equal `match`.

    The decoder uses it to add its frames/s to the row the encoder wrote for the same stream (the
    stream's bits, QP and frame count identify it). The file is rewritten through a temporary file
    and a rename, so an interrupted run leaves the old file whole.

    Raises:
        OutputError: the file cannot be read, lacks a column of `values`, or no row without those
            values matches.
    """
    path = Path(path)
    try:
        with open(path, newline="") as f:
            table = list(csv.reader(f))
    except OSError as e:
        raise OutputError(f"cannot read results file {path}: {e.strerror or e}") from e
    if not table:
        raise OutputError(f"results file {path} is empty")
    header = table[0]
    missing = [k for k in [*match, *values] if k not in header]
    if missing:
        raise OutputError(f"results file {path} has no column for {', '.join(missing)}")
    col = {k: header.index(k) for k in [*match, *values]}

    def same(cell: str, want) -> bool:
        if isinstance(want, (int, float)) and not isinstance(want, bool):
            try:
                return float(cell) == float(want)
            except ValueError:
                return False
        return cell == str(want)

    for line in reversed(table[1:]):
        if len(line) < len(header):
            line.extend([""] * (len(header) - len(line)))
        if all(same(line[col[k]], v) for k, v in match.items()) and all(line[col[k]] == "" for k in values):
            for k, v in values.items():
                line[col[k]] = _format_cell(v)
            break
    else:
        what = ", ".join(f"{k}={v}" for k, v in match.items())
        raise OutputError(f"results file {path} has no row for this stream ({what}) without {', '.join(values)}; "
                          "encode it with --ResultsFile first")
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "w", newline="") as f:
            f.write("".join(_csv_line(line) for line in table))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
