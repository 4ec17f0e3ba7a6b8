"""Writing a .gvc stream: file header, units with length and CRC, end of stream.

Every method returns the bytes it added, so the report can attribute each byte of the file
to a picture (the bits printed add up to the file size exactly).
"""

from __future__ import annotations

import zlib

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import (
    FILE_HEADER, FLAG_MULTI, FLAG_SYMBOL_HASH, HASH_BYTES, MAGIC, MAX_REFS, PIC_HAS_L1, PIC_L0_PREVIOUS,
    PIC_TID_MASK, PIC_TID_SHIFT, SLICE_CODES, SYMBOL_HASH_BYTES, UNIT_CRC, VERSION, PicturesUnit, UnitType,
    pack_sequence_header, sv, uv,
)
from gvcodec.io.atomic import AtomicFile


def frame_unit(unit_type: int, payload: bytes) -> bytes:
    """Wrap a payload as a unit: type, length (varint), payload, CRC-32."""
    head = bytes([unit_type]) + uv(len(payload))
    return head + payload + UNIT_CRC.pack(zlib.crc32(payload, zlib.crc32(head)) & 0xFFFFFFFF)


def unit_overhead(payload_length: int) -> int:
    """Bytes of framing around a payload of this length (type, length, CRC)."""
    return 1 + len(uv(payload_length)) + UNIT_CRC.size


def pack_pictures(unit: PicturesUnit, header_qp: int, hash_kind: int) -> bytes:
    """Serialise a PICTURES unit's payload (without the unit framing).

    Args:
        unit: the pictures (consecutive POCs), their hashes (of `hash_kind`) and the engine payload.
        header_qp: the sequence header's QP; each picture stores its QP as a difference to it.
        hash_kind: the header's picture-hash kind (0 = the pictures carry none).
    """
    pics = unit.pictures
    if not pics:
        raise ValueError("a unit holds at least one picture")
    flags = hash_kind | (FLAG_SYMBOL_HASH if unit.symbol_hash else 0) | (FLAG_MULTI if len(pics) > 1 else 0)
    out = bytearray([flags]) + uv(unit.poc_first)
    if len(pics) > 1:
        out += uv(len(pics))
    for i, p in enumerate(pics):
        if p.poc != unit.poc_first + i:
            raise ValueError("pictures of a unit must have consecutive POCs")
        if len(p.refs) > MAX_REFS or len(p.refs1) > MAX_REFS or not 0 <= p.temporal_id <= PIC_TID_MASK:
            raise ValueError("too many references or temporal id beyond 7")
        previous = p.refs == tuple(range(p.poc - 1, p.poc - 1 - len(p.refs), -1))
        byte = SLICE_CODES.index(p.slice_type.upper()) | (p.temporal_id << PIC_TID_SHIFT)
        byte |= (PIC_L0_PREVIOUS if previous else 0) | (PIC_HAS_L1 if p.refs1 else 0)
        out.append(byte)
        out += sv(p.qp - header_qp) + uv(len(p.refs))
        if not previous:
            out += b"".join(sv(r - p.poc) for r in p.refs)
        if p.refs1:
            out += uv(len(p.refs1)) + b"".join(sv(r - p.poc) for r in p.refs1)
    if hash_kind:
        for p in pics:
            if len(p.md5) not in (1, 3) or any(len(h) != HASH_BYTES[hash_kind] for h in p.md5):
                raise ValueError("picture hash of the wrong kind or size")
            out += b"".join(p.md5)
    if unit.symbol_hash:
        assert len(unit.symbol_hash) == SYMBOL_HASH_BYTES
        out += unit.symbol_hash
    return bytes(out + unit.payload)


class StreamWriter:
    """Writes a .gvc file atomically: it appears at `path` only after `finish()`.

    Attributes:
        bytes: bytes written so far; container_bytes: those that are not engine payload.
    """

    def __init__(self, path: str):
        self.out = AtomicFile(path, "bitstream")
        self.units = 0
        self.frames = 0
        self.header: SequenceHeader | None = None
        self.bytes = self.out.write(FILE_HEADER.pack(MAGIC, VERSION[0], VERSION[1]))
        self.container_bytes = self.bytes

    def _unit(self, unit_type: int, payload: bytes, engine_bytes: int = 0) -> int:
        n = self.out.write(frame_unit(unit_type, payload))
        self.units += 1
        self.bytes += n
        self.container_bytes += n - engine_bytes
        return n

    def write_header(self, header: SequenceHeader) -> int:
        header.validate("sequence header to write")
        self.header = header
        return self._unit(UnitType.SEQUENCE_HEADER, pack_sequence_header(header))

    def write_pictures(self, unit: PicturesUnit) -> int:
        assert self.header is not None, "write_header first"
        self.frames += len(unit.pictures)
        hash_kind = self.header.picture_hash
        return self._unit(UnitType.PICTURES, pack_pictures(unit, self.header.qp, hash_kind), len(unit.payload))

    def end_size(self) -> int:
        """Size of the END_OF_STREAM unit, known before it is written (its counts are final by then)."""
        return len(frame_unit(UnitType.END_OF_STREAM, uv(self.frames) + uv(self.units)))

    def finish(self) -> int:
        """Write END_OF_STREAM and move the file into place."""
        n = self._unit(UnitType.END_OF_STREAM, uv(self.frames) + uv(self.units))
        self.out.commit()
        return n

    def discard(self) -> None:
        self.out.discard()
