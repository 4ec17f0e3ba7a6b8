"""Writing a .gvc stream: file header, units with length and CRC, end of stream.

Every method returns the bytes it added, so the report can attribute each byte of the file
to a picture (the bits printed add up to the file size exactly).
"""

from __future__ import annotations

import struct
import zlib

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import (
    END_OF_STREAM, FILE_HEADER, FLAG_PICTURE_MD5, FLAG_SYMBOL_HASH, MAGIC, MD5_BYTES, PICTURE_INFO,
    PICTURES_FIXED, SEQUENCE_HEADER_FIELDS, SYMBOL_HASH_BYTES, UNIT_CRC, UNIT_HEAD, VERSION, PicturesUnit,
    UnitType, pack_fields,
)
from gvcodec.io.atomic import AtomicFile


def frame_unit(unit_type: int, payload: bytes) -> bytes:
    """Wrap a payload as a unit: type, length, payload, CRC-32."""
    head = UNIT_HEAD.pack(unit_type, len(payload))
    return head + payload + UNIT_CRC.pack(zlib.crc32(payload, zlib.crc32(head)) & 0xFFFFFFFF)


def pack_pictures(unit: PicturesUnit) -> bytes:
    """Serialise a PICTURES unit's payload (without the unit framing)."""
    has_md5 = all(p.md5 for p in unit.pictures) and bool(unit.pictures)
    flags = (FLAG_PICTURE_MD5 if has_md5 else 0) | (FLAG_SYMBOL_HASH if unit.symbol_hash else 0)
    out = bytearray(PICTURES_FIXED.pack(unit.poc_first, len(unit.pictures), flags))
    for i, p in enumerate(unit.pictures):
        if p.poc != unit.poc_first + i:
            raise ValueError("pictures of a unit must have consecutive POCs")
        out += PICTURE_INFO.pack(p.slice_type.encode("ascii"), max(-128, min(127, p.qp)), p.temporal_id, len(p.refs))
        out += struct.pack(f"<{len(p.refs)}I", *p.refs)
    if has_md5:
        for p in unit.pictures:
            assert all(len(h) == MD5_BYTES for h in p.md5)
            out += b"".join(p.md5)
    if unit.symbol_hash:
        assert len(unit.symbol_hash) == SYMBOL_HASH_BYTES
        out += unit.symbol_hash
    return bytes(out + unit.payload)


class StreamWriter:
    """Writes a .gvc file atomically: it appears at `path` only after `finish()`."""

    def __init__(self, path: str):
        self.out = AtomicFile(path, "bitstream")
        self.units = 0
        self.frames = 0
        self.bytes = self.out.write(FILE_HEADER.pack(MAGIC, VERSION[0], VERSION[1], 0))

    def _unit(self, unit_type: int, payload: bytes) -> int:
        n = self.out.write(frame_unit(unit_type, payload))
        self.units += 1
        self.bytes += n
        return n

    def write_header(self, header: SequenceHeader) -> int:
        header.validate("sequence header to write")
        return self._unit(UnitType.SEQUENCE_HEADER, pack_fields(SEQUENCE_HEADER_FIELDS, header.to_fields()))

    def write_pictures(self, unit: PicturesUnit) -> int:
        self.frames += len(unit.pictures)
        return self._unit(UnitType.PICTURES, pack_pictures(unit))

    @staticmethod
    def end_size() -> int:
        """Size of the END_OF_STREAM unit, known before it is written."""
        return len(frame_unit(UnitType.END_OF_STREAM, END_OF_STREAM.pack(0, 0)))

    def finish(self) -> int:
        """Write END_OF_STREAM and move the file into place."""
        n = self._unit(UnitType.END_OF_STREAM, END_OF_STREAM.pack(self.frames, self.units))
        self.out.commit()
        return n

    def discard(self) -> None:
        self.out.discard()
