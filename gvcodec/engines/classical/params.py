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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BFRAMES = 15
_FRAME_LINE = re.compile(r"^Frame(\d+)$")


def gop_is_reordered(frame_lines: dict[str, str]) -> bool | None:
    """Whether an HM GOP table (Frame1..FrameN values) codes pictures out of display order.

    Each line is `Type POC QPoffset ...`; None when there are no usable lines.
    """
    rows = []
    for key, value in frame_lines.items():
        m = _FRAME_LINE.match(key)
        parts = value.split()
        if m and len(parts) >= 2:
            try:
                rows.append((int(m.group(1)), int(parts[1])))
            except ValueError:
                continue
    if not rows:
        return None
    pocs = [poc for _, poc in sorted(rows)]
    return pocs != sorted(pocs)


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
    """

    qp: int = 32
    intra_qp_offset: int | None = None
    preset: str = "medium"
    threads: int = 0
    intra_period: int = -1
    bframes: int = 0

    @property
    def random_access(self) -> bool:
        return self.bframes > 0

    @classmethod
    def from_options(cls, opts) -> ClassicalParams:
        explicit = getattr(opts, "explicit", set())
        offset = opts.intra_qp_offset if "IntraQPOffset" in explicit else None
        reordered = gop_is_reordered(getattr(opts, "ignored", {}))
        gop = opts.gop_size
        bframes = min(gop - 1, MAX_BFRAMES) if gop > 1 and reordered is not False else 0
        return cls(qp=opts.qp, intra_qp_offset=offset, preset=opts.preset, threads=opts.threads,
                   intra_period=opts.intra_period, bframes=bframes)
