"""Bjontegaard-delta tables (BD-rate, BD-quality) through the ``bjontegaard`` package, over the rows of
a results CSV (gvcodec.report.results).

BD values follow VCEG-M33 with JVET's piecewise cubic (PCHIP) interpolation by default (the
``bjontegaard`` package's ``pchip`` matches the JVET Excel sheet); ``akima`` and ``cubic`` (the
original 2001 polynomial) are selectable. The rate axis is bits per pixel (``bpp``), so sequences of
different sizes and frame rates can share a table. BD-rate is in percent (negative = the test
codec needs fewer bits for the same quality). BD-quality is the mean quality gain at equal rate,
in the metric's own unit.

Metrics where lower is better (``LOWER_IS_BETTER``: LPIPS, DISTS, FVD, E_warp) are negated before
interpolation so every curve rises with rate; BD-rate keeps its meaning, and BD-quality is negated
back, so it is reported in the metric's own direction (negative = better for those metrics).

A cell that cannot be computed (fewer than 4 points, a curve that is not monotonic, quality ranges
that do not overlap, an interpolation error) is left empty with a note instead of failing the table.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from gvcodec.errors import InputError
from gvcodec.report.results import RESULTS_COLUMNS

# Columns written by `gvcodec metrics` (lpips_alex ... fvd) plus the short names hand-made CSVs use.
LOWER_IS_BETTER = frozenset({"lpips", "lpips_alex", "lpips_vgg", "dists", "fvd", "ewarp", "e_warp"})
QUALITY_COLUMNS = frozenset({"psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb", "msssim", "msssim_rgb", "vmaf",
                             "clipf"}) | LOWER_IS_BETTER
METHODS = ("pchip", "akima", "cubic")
MIN_POINTS = 4
MIN_OVERLAP = 0.75

def rows_for_codec(rows: Iterable[dict], codec: str) -> list[dict]:
    """The rows of one codec (results files usually hold the anchor and the tests together)."""
    return [r for r in rows if r.get("codec") == codec]


# --------------------------------------------------------------------------------------------
# Bjontegaard deltas on one pair of curves


def _delta(kind, rate_a, q_a, rate_t, q_t, method, lower_is_better):
    import bjontegaard  # imported lazily: it loads matplotlib (~0.7 s)

    if method not in METHODS:
        raise ValueError(f"unknown interpolation {method!r}; use one of {', '.join(METHODS)}")
    sign = -1.0 if lower_is_better else 1.0
    qa = [sign * q for q in q_a]
    qt = [sign * q for q in q_t]
    fn = bjontegaard.bd_rate if kind == "rate" else bjontegaard.bd_psnr
    # min_overlap=0: short overlaps are reported as table notes instead of warnings
    value = float(fn(rate_a, qa, rate_t, qt, method=method, require_matching_points=False, min_overlap=0))
    return value if kind == "rate" else sign * value


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test, method="pchip", lower_is_better=False) -> float:
    """BD-rate of one test curve against one anchor curve.

    Args:
        rate_anchor, quality_anchor: anchor points (any rate unit, the same for both curves).
        rate_test, quality_test: test points.
        method: ``"pchip"`` (JVET), ``"akima"`` or ``"cubic"``.
        lower_is_better: the quality metric improves downwards (LPIPS, DISTS, FVD, ...).

    Returns:
        Average rate difference in percent at equal quality (negative = test saves bits).
    """
    return _delta("rate", rate_anchor, quality_anchor, rate_test, quality_test, method, lower_is_better)


def bd_quality(rate_anchor, quality_anchor, rate_test, quality_test, method="pchip", lower_is_better=False) -> float:
    """BD-quality (BD-PSNR for PSNR) of one test curve against one anchor curve.

    Args:
        rate_anchor, quality_anchor, rate_test, quality_test, method, lower_is_better: as in :func:`bd_rate`.

    Returns:
        Average quality difference at equal rate, in the metric's unit and direction.
    """
    return _delta("quality", rate_anchor, quality_anchor, rate_test, quality_test, method, lower_is_better)


# --------------------------------------------------------------------------------------------
# per-sequence tables


@dataclass(frozen=True)
class BdCell:
    """One table entry: a value, or ``None`` with the reason in ``note`` (a note may also qualify a value)."""

    value: float | None
    note: str | None = None


@dataclass
class BdTable:
    """BD values per sequence and metric, plus the mean over sequences.

    Attributes:
        kind: ``"rate"`` (percent) or ``"quality"`` (metric units).
        method: interpolation method.
        metrics: metric columns, in table order.
        rows: sequence -> metric -> cell, sequences sorted by name.
        average: metric -> cell with the mean over the sequences that have a value.
    """

    kind: str
    method: str
    metrics: tuple[str, ...]
    rows: dict[str, dict[str, BdCell]] = field(default_factory=dict)
    average: dict[str, BdCell] = field(default_factory=dict)


def _rate(row: dict) -> float | None:
    """Bits per pixel of a row: the ``bpp`` cell, or bits / (width * height * frames)."""
    bpp = row.get("bpp")
    if isinstance(bpp, (int, float)):
        return float(bpp)
    try:
        return float(row["bits"]) / (float(row["width"]) * float(row["height"]) * float(row["frames"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _curve(rows: list[dict], metric: str) -> list[tuple[float, float]]:
    """(bpp, quality) points with both values finite, sorted by rate."""
    points = []
    for row in rows:
        rate, q = _rate(row), row.get(metric)
        if rate is not None and rate > 0 and isinstance(q, (int, float)) and math.isfinite(q) and math.isfinite(rate):
            points.append((rate, float(q)))
    return sorted(points)


def _curve_problem(name: str, points, metric: str, lower_is_better: bool) -> str | None:
    if len(points) < MIN_POINTS:
        return f"{name} has {len(points)} points with {metric} (needs {MIN_POINTS})"
    rates = [p[0] for p in points]
    qs = [-p[1] if lower_is_better else p[1] for p in points]
    if any(b <= a for a, b in zip(rates, rates[1:])):
        return f"{name} has repeated rates"
    if any(b <= a for a, b in zip(qs, qs[1:])):
        return f"{name} {metric} does not improve monotonically with rate"
    return None


def _span(points, axis: int) -> str:
    values = [p[axis] for p in points]
    return f"{min(values):.4g}-{max(values):.4g}"


def _cell(anchor, test, metric, kind, method, lower_is_better) -> BdCell:
    for name, points in (("anchor", anchor), ("test", test)):
        problem = _curve_problem(name, points, metric, lower_is_better)
        if problem:
            return BdCell(None, problem)
    axis = 1 if kind == "rate" else 0  # BD-rate integrates over quality, BD-quality over rate
    lo = max(min(p[axis] for p in anchor), min(p[axis] for p in test))
    hi = min(max(p[axis] for p in anchor), max(p[axis] for p in test))
    if hi <= lo:
        what = metric if kind == "rate" else "rate"
        return BdCell(None, f"{what} ranges do not overlap (anchor {_span(anchor, axis)}, test {_span(test, axis)})")
    total = max(p[axis] for p in anchor + test) - min(p[axis] for p in anchor + test)
    overlap = (hi - lo) / total
    # JVET's sheet and bjontegaard flag overlaps under 75 %: the value extrapolates little but
    # rests on a short stretch of the curves, so keep it and say so.
    note = None
    if overlap < MIN_OVERLAP:
        note = f"curves overlap on {overlap:.0%} of the {'quality' if kind == 'rate' else 'rate'} range"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = _delta(kind, *zip(*anchor), *zip(*test), method, lower_is_better)
        if caught and note is None:
            note = str(caught[0].message)
    except Exception as exc:  # noqa: BLE001 - any interpolation failure becomes a note, not a crash
        return BdCell(None, f"bjontegaard failed: {exc}")
    if not math.isfinite(value):
        return BdCell(None, note or "no finite BD value")
    return BdCell(value, note)


def _codec_of(rows: list[dict], role: str) -> None:
    codecs = sorted({str(r.get("codec")) for r in rows})
    if len(codecs) > 1:
        raise InputError(f"{role} rows mix codecs {', '.join(codecs)}; select one with rows_for_codec()")


def _default_metrics(rows_anchor, rows_test) -> tuple[str, ...]:
    def present(rows):
        return {k for r in rows for k, v in r.items() if k in QUALITY_COLUMNS and isinstance(v, (int, float))}

    both = present(rows_anchor) & present(rows_test)
    ordered = [c for c in RESULTS_COLUMNS if c in both]
    return tuple(ordered + sorted(both - set(ordered)))


def bdrate_table(
    rows_anchor: Iterable[dict],
    rows_test: Iterable[dict],
    metrics: Sequence[str] | None = None,
    method: str = "pchip",
    kind: str = "rate",
    lower_is_better: Iterable[str] = LOWER_IS_BETTER,
) -> BdTable:
    """Per-sequence BD values of a test codec against an anchor, plus their mean.

    Args:
        rows_anchor: results rows of the anchor codec (as from :func:`read_results`).
        rows_test: results rows of the test codec.
        metrics: quality columns to evaluate (default: every quality column both sides report).
        method: ``"pchip"`` (default, JVET), ``"akima"`` or ``"cubic"``.
        kind: ``"rate"`` for BD-rate in percent, ``"quality"`` for BD-quality.
        lower_is_better: metric names whose curves are negated before interpolation.

    Returns:
        A :class:`BdTable`; cells that cannot be computed carry a note instead of a value.

    Raises:
        ValueError: unknown method or kind.
        InputError: the rows of one side mix several codecs.
    """
    if method not in METHODS:
        raise ValueError(f"unknown interpolation {method!r}; use one of {', '.join(METHODS)}")
    if kind not in ("rate", "quality"):
        raise ValueError(f"unknown BD kind {kind!r}; use 'rate' or 'quality'")
    rows_anchor, rows_test = list(rows_anchor), list(rows_test)
    _codec_of(rows_anchor, "anchor")
    _codec_of(rows_test, "test")
    metrics = tuple(metrics) if metrics is not None else _default_metrics(rows_anchor, rows_test)
    lower = frozenset(lower_is_better)
    table = BdTable(kind, method, metrics)
    sequences = sorted({str(r["sequence"]) for r in rows_anchor + rows_test})
    for seq in sequences:
        a = [r for r in rows_anchor if str(r["sequence"]) == seq]
        t = [r for r in rows_test if str(r["sequence"]) == seq]
        cells = {}
        for metric in metrics:
            if not a or not t:
                cells[metric] = BdCell(None, f"no {'anchor' if not a else 'test'} results")
            else:
                cells[metric] = _cell(_curve(a, metric), _curve(t, metric), metric, kind, method, metric in lower)
        table.rows[seq] = cells
    for metric in metrics:
        values = [cells[metric].value for cells in table.rows.values() if cells[metric].value is not None]
        if not values:
            table.average[metric] = BdCell(None, "no sequence has a value")
        else:
            note = None if len(values) == len(sequences) else f"mean of {len(values)} of {len(sequences)} sequences"
            table.average[metric] = BdCell(sum(values) / len(values), note)
    return table


def format_bdrate_table(table: BdTable) -> str:
    """Render a :class:`BdTable` as plain text, with numbered notes under the table.

    Args:
        table: result of :func:`bdrate_table`.

    Returns:
        Multi-line text ending in a newline.
    """
    notes: list[str] = []

    def show(label: str, metric: str, cell: BdCell) -> str:
        text = "n/a" if cell.value is None else (f"{cell.value:+.2f}" if table.kind == "rate" else f"{cell.value:+.4f}")
        if cell.note:
            notes.append(f"{label} {metric}: {cell.note}")
            text += f" [{len(notes)}]"
        return text

    grid = [["sequence", *table.metrics]]
    for seq, cells in table.rows.items():
        grid.append([seq, *(show(seq, m, cells[m]) for m in table.metrics)])
    grid.append(["average", *(show("average", m, table.average[m]) for m in table.metrics)])
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    if table.kind == "rate":
        title = f"BD-rate (%) vs anchor, rate = bpp, {table.method}; negative = fewer bits for the same quality"
    else:
        title = (f"BD-quality vs anchor (metric units), rate = bpp, {table.method}; positive = better at the same rate"
                 " (negative for lower-is-better metrics)")  # fmt: skip
    lines = [title]
    for i, row in enumerate(grid):
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]).rstrip())
        if i == 0 or i == len(grid) - 2:
            lines.append("-" * len(lines[-1]))
    lines += [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"
