"""Picture type, temporal id and reference use of an H.264/HEVC access unit, from its first slice header.

Only the fields before `slice_type` are parsed (HEVC: first_slice_segment_in_pic_flag,
no_output_of_prior_pics_flag, slice_pic_parameter_set_id; num_extra_slice_header_bits is 0 in x265's
streams; H.264: first_mb_in_slice), so no parameter set is needed.
"""

from __future__ import annotations

import re

_START = re.compile(b"\x00\x00\x01")


class _Bits:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3] if (self.pos >> 3) < len(self.data) else 0
        self.pos += 1
        return (byte >> (7 - ((self.pos - 1) & 7))) & 1

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0 and zeros < 32:
            zeros += 1
        value = 0
        for _ in range(zeros):
            value = (value << 1) | self.bit()
        return (1 << zeros) - 1 + value


def _nals(payload: bytes):
    starts = [m.end() for m in _START.finditer(payload)]
    for i, s in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(payload)
        yield payload[s:end]


def _rbsp(nal: bytes, limit: int = 32) -> bytes:
    return nal[:limit].replace(b"\x00\x00\x03", b"\x00\x00")


def picture_type(codec: str, payload: bytes) -> tuple[str, int, bool] | None:
    """(slice type I/P/B, temporal id, used as reference) of the access unit, or None if not found."""
    for nal in _nals(payload):
        if len(nal) < 3:
            continue
        if codec == "x265":
            nut = (nal[0] >> 1) & 0x3F
            if nut > 21 or 10 <= nut <= 15:
                continue  # not a slice of a picture
            tid = (nal[1] & 7) - 1
            b = _Bits(_rbsp(nal[2:]))
            if not b.bit():
                continue  # not the first slice segment
            if 16 <= nut <= 23:
                b.bit()
            b.ue()
            st = b.ue()
            kind = {0: "B", 1: "P", 2: "I"}.get(st)
            return (kind, max(tid, 0), not (nut < 16 and nut % 2 == 0)) if kind else None
        if codec == "x264":
            nut = nal[0] & 0x1F
            if nut not in (1, 5):
                continue
            b = _Bits(_rbsp(nal[1:]))
            b.ue()
            st = b.ue() % 5
            kind = {0: "P", 1: "B", 2: "I", 3: "P", 4: "I"}.get(st)
            return kind, 0, bool(nal[0] & 0x60)
    return None
