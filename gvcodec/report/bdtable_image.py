"""BD-rate tables as a PNG image: one block of rows per test codec (its sequences, then the
average), one column per metric, the same values and notes as `gvcodec bdrate` prints.

Cells are tinted green where the test codec saves bits (negative BD-rate) and red where it needs
more; cells without a value read `n/a` and, like noted values, point to a numbered note under
the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from gvcodec.metrics.bdrate import BdCell, BdTable
from gvcodec.report.metric_names import display_name
from gvcodec.report.plots import new_figure, save_png

_GAIN, _LOSS, _HEAD, _AVG = "#d9f2d9", "#f8d7d7", "#e6e6e6", "#f2f2f2"


def _cell_text(cell: BdCell, kind: str, notes: list[str], where: str) -> str:
    text = "n/a" if cell.value is None else (f"{cell.value:+.2f}" if kind == "rate" else f"{cell.value:+.4f}")
    if cell.note:
        notes.append(f"{where}: {cell.note}")
        text += f" [{len(notes)}]"
    return text


def _tint(cell: BdCell, kind: str, metric: str) -> str:
    if cell.value is None or cell.value == 0:
        return "white"
    if kind == "rate":
        return _GAIN if cell.value < 0 else _LOSS
    from gvcodec.report.metric_names import lower_is_better

    better = cell.value < 0 if lower_is_better(metric) else cell.value > 0
    return _GAIN if better else _LOSS


def bdrate_table_image(tables: Mapping[str, BdTable], anchor: str, path: str | Path, dpi: int = 100) -> Path:
    """Draw the BD tables of several test codecs against one anchor into one PNG.

    Args:
        tables: test codec -> :class:`~gvcodec.metrics.bdrate.BdTable` (all of one kind and method).
        anchor: the anchor codec's name, for the title.
        path: PNG file to write (atomically).
        dpi: resolution.

    Returns:
        `path`.

    Raises:
        ValueError: `tables` is empty.
    """
    if not tables:
        raise ValueError("no BD table to draw")
    first = next(iter(tables.values()))
    kind, method = first.kind, first.method
    metrics = list(dict.fromkeys(m for t in tables.values() for m in t.metrics))
    notes: list[str] = []
    header = ["test", "sequence", *(display_name(m) for m in metrics)]
    text, colours = [], []
    for codec, table in tables.items():
        entries = list(table.rows.items()) + [("average", table.average)]
        for i, (seq, cells) in enumerate(entries):
            row, tint = [codec if i == 0 else "", seq], ["white", _AVG if seq == "average" else "white"]
            for m in metrics:
                cell = cells.get(m, BdCell(None, "not computed"))
                row.append(_cell_text(cell, kind, notes, f"{codec} {seq} {m}"))
                tint.append(_tint(cell, kind, m))
            text.append(row)
            colours.append(tint)
    n_rows, n_cols = len(text) + 1, len(header)
    width = 2.6 + 1.25 * len(metrics)
    height = 0.9 + 0.28 * n_rows + 0.2 * len(notes)
    fig = new_figure(width, height, dpi)
    if kind == "rate":
        title = f"BD-rate (%) against {anchor}, rate = bpp, {method}; negative = fewer bits for the same quality"
    else:
        title = f"BD-quality against {anchor} (metric units), rate = bpp, {method}"
    fig.suptitle(title, fontsize=9, y=1 - 0.12 / height)
    table_top = 1 - 0.45 / height
    table_height = 0.28 * n_rows / height
    ax = fig.add_axes((0.02, table_top - table_height, 0.96, table_height))
    ax.axis("off")
    tab = ax.table(cellText=text, colLabels=header, cellColours=colours, colColours=[_HEAD] * n_cols,
                   cellLoc="right", loc="upper center", bbox=(0, 0, 1, 1))
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    for (r, c), cell in tab.get_celld().items():
        if c < 2:
            cell.set_text_props(ha="left")
        if r == 0 or (r > 0 and text[r - 1][1] == "average"):
            cell.set_text_props(weight="bold")
    for i, note in enumerate(notes, 1):
        fig.text(0.02, (table_top - table_height) - (0.1 + 0.2 * i) / height, f"[{i}] {note}", fontsize=7,
                 va="top")
    return save_png(fig, path)
