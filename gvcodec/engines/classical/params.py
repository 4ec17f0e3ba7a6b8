"""The classical encoders' parameters, typed and frozen, read from the options once (no PyAV import).

Coding structure (docs/options.md, "Classical anchors"):

* low delay (GOPSize 1, or an HM GOP table whose pictures are coded in display order): IPPP...,
  B-frames off;
* random access (GOPSize > 1 and either no Frame lines or Frame lines in another order than display
  order, as HM's and VTM's RA cfgs): GOPSize - 1 B-frames between anchors (at most 15), used as
  references (b-pyramid), fixed (not adaptive) placement;
* an intra picture every IntraPeriod frames (-1: only the first); scene-cut detection is off.

The intra QP is the encoder's own default (x264/x265 ipratio 1.4, i.e. I pictures about 3 QP below
the P pictures) unless IntraQPOffset was given, then ipratio = 2^(-IntraQPOffset/6).

A complete HM GOP table (Frame1..FrameN for GOPSize N) also gives every other picture HM's own slice
QP (QPoffset and the QPOffsetModel columns, as HM-16.25 computes it: `GopEntry.qp`); x264 and x265
receive it as one-picture zones (engine.py), SVT-AV1 keeps its own QPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gvcodec.options.table import GOP_TABLE_ROW

MAX_BFRAMES = 15


@dataclass(frozen=True)
class GopEntry:
    """One row of an HM GOP table, as far as the classical anchors use it.

    Attributes:
        poc: the picture's POC within its GOP (1..GOPSize).
        qp_offset: QPoffset column.
        model_offset / model_scale: QPOffsetModelOff / QPOffsetModelScale columns (HM-16.20 and later).
    """

    poc: int
    qp_offset: int
    model_offset: float = 0.0
    model_scale: float = 0.0

    def qp(self, base: int) -> int:
        """HM's slice QP of a non-intra picture at this entry: the offset, then the model's extra
        0..3 computed from the offset QP (HM TEncCfg::getQPForPicture)."""
        qp = base + self.qp_offset
        return qp + math.floor(min(max(qp * self.model_scale + self.model_offset + 0.5, 0.0), 3.0))


def _frame_rows(frame_lines: dict[str, str]) -> list[tuple[int, list[str]]]:
    rows = []
    for key, value in frame_lines.items():
        m = GOP_TABLE_ROW.match(key)
        if m and len(value.split()) >= 2:
            rows.append((int(m.group(1)), value.split()))
    return sorted(rows)


def gop_is_reordered(frame_lines: dict[str, str]) -> bool | None:
    """Whether an HM GOP table (Frame1..FrameN values) codes pictures out of display order.

    Each line is `Type POC QPoffset ...`; None when there are no usable lines.
    """
    pocs = []
    for _, parts in _frame_rows(frame_lines):
        try:
            pocs.append(int(parts[1]))
        except ValueError:
            continue
    if not pocs:
        return None
    return pocs != sorted(pocs)


def gop_table(frame_lines: dict[str, str], gop_size: int) -> tuple[GopEntry, ...]:
    """The GOP table's entries in POC order when it is complete (Frame1..FrameN for GOPSize N, each POC
    1..N once, numeric QP columns); () otherwise, and then no picture gets a table QP."""
    rows = _frame_rows(frame_lines)
    if not rows or [i for i, _ in rows] != list(range(1, gop_size + 1)):
        return ()
    entries = []
    for _, parts in rows:
        try:
            model = (float(parts[3]), float(parts[4])) if len(parts) >= 5 else (0.0, 0.0)
            entries.append(GopEntry(int(parts[1]), int(parts[2]), *model))
        except (ValueError, IndexError):
            return ()
        if not all(map(math.isfinite, model)):
            return ()
    entries.sort(key=lambda e: e.poc)
    if [e.poc for e in entries] != list(range(1, gop_size + 1)):
        return ()
    return tuple(entries)


@dataclass(frozen=True)
class ClassicalParams:
    """What x264, x265 and SVT-AV1 are configured with (the option table checked the ranges).

    Attributes:
        qp: constant QP of the P pictures.
        intra_qp_offset: QP offset of intra pictures when IntraQPOffset was given; None = the
            encoder's own default (x264/x265: ipratio 1.4, about -3 QP).
        preset: speed preset (x264/x265 names; mapped to SVT-AV1's numbers).
        threads: encoder threads (0 = the library's default).
        intra_period: frames between intra pictures (-1 = only the first).
        bframes: B-frames between anchor pictures (0 = low delay P).
        gop: the cfg's complete HM GOP table in POC order; () = none (the codec's own QP per type).
    """

    qp: int = 32
    intra_qp_offset: int | None = None
    preset: str = "medium"
    threads: int = 0
    intra_period: int = -1
    bframes: int = 0
    gop: tuple[GopEntry, ...] = ()

    @property
    def random_access(self) -> bool:
        return self.bframes > 0

    def is_intra(self, poc: int) -> bool:
        return poc == 0 or (self.intra_period > 0 and poc % self.intra_period == 0)

    def table_qp(self, poc: int, qp_range: tuple[int, int] = (0, 51)) -> int | None:
        """The GOP table's QP for picture `poc` (HM: the entry at (poc - 1) mod GOPSize); None for intra
        pictures and without a table."""
        if not self.gop or self.is_intra(poc):
            return None
        lo, hi = qp_range
        return min(max(self.gop[(poc - 1) % len(self.gop)].qp(self.qp), lo), hi)

    @classmethod
    def from_options(cls, opts) -> ClassicalParams:
        explicit = getattr(opts, "explicit", set())
        offset = opts.intra_qp_offset if "IntraQPOffset" in explicit else None
        reordered = gop_is_reordered(getattr(opts, "ignored", {}))
        gop = opts.gop_size
        bframes = min(gop - 1, MAX_BFRAMES) if gop > 1 and reordered is not False else 0
        return cls(qp=opts.qp, intra_qp_offset=offset, preset=opts.preset, threads=opts.threads,
                   intra_period=opts.intra_period, bframes=bframes,
                   gop=gop_table(getattr(opts, "ignored", {}), gop))
