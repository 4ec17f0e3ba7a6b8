"""The classical encoders' parameters, typed and frozen, read from the options once (no PyAV import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassicalParams:
    """What x264, x265 and SVT-AV1 are configured with (the option table checked the ranges).

    Attributes:
        qp: constant QP of the P pictures.
        intra_qp_offset: QP offset of intra pictures (IntraQPOffset).
        preset: speed preset (x264/x265 names; mapped to SVT-AV1's numbers).
        threads: encoder threads (0 = the library's default).
    """

    qp: int = 32
    intra_qp_offset: int = 0
    preset: str = "medium"
    threads: int = 0

    @classmethod
    def from_options(cls, opts) -> ClassicalParams:
        return cls(qp=opts.qp, intra_qp_offset=opts.intra_qp_offset, preset=opts.preset, threads=opts.threads)
