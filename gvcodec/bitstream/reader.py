"""Reading a .gvc stream unit by unit, validating framing, CRCs and limits as it goes.

Every failure is a BitstreamError naming the unit (index and type) and its byte offset.
"""

from __future__ import annotations

import os
import zlib
from typing import Iterator

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import (
    FILE_HEADER, FLAG_HASH_MASK, FLAG_MULTI, FLAG_SYMBOL_HASH, FLAGS_RESERVED, HASH_BYTES, MAGIC, MAX_FRAMES,
    MAX_REFS, MAX_UNIT_PAYLOAD, PIC_HAS_L1, PIC_L0_PREVIOUS, PIC_RESERVED, PIC_TID_MASK, PIC_TID_SHIFT,
    PIC_TYPE_MASK, SLICE_CODES, SYMBOL_HASH_BYTES, UNIT_CRC, VERSION, FieldReader, PictureInfo, PicturesUnit,
    UnitType, parse_sequence_header,
)
from gvcodec.errors import BitstreamError


def _type_name(t: int) -> str:
    try:
        return UnitType(t).name
    except ValueError:
        return f"type {t}"


def parse_pictures(payload: bytes, num_planes: int, where: str, header_qp: int = 0,
                   header_hash: int | None = None) -> PicturesUnit:
    """Parse a PICTURES payload (the mirror of writer.pack_pictures).

    `header_hash`: the sequence header's picture-hash kind; a unit claiming another is corrupt.
    """
    r = FieldReader(payload, where)
    flags = r.u8()
    if flags & FLAGS_RESERVED:
        raise r.error(f"reserved flag bits set (flags {flags:#04x})")
    hash_kind = flags & FLAG_HASH_MASK
    if header_hash is not None and hash_kind not in (0, header_hash):
        raise r.error(f"picture hash kind {hash_kind} differs from the sequence header's {header_hash}")
    poc_first = r.uv(MAX_FRAMES)
    count = r.uv(MAX_FRAMES) if flags & FLAG_MULTI else 1
    if count == 0 or (flags & FLAG_MULTI and count < 2):
        raise r.error(f"unit holds {count} pictures")
    if count > len(payload):  # every picture takes at least two bytes: reject before allocating
        raise r.error(f"unit claims {count} pictures in {len(payload)} bytes")
    pictures = []
    for i in range(count):
        byte = r.u8()
        if byte & PIC_RESERVED or byte & PIC_TYPE_MASK >= len(SLICE_CODES):
            raise r.error(f"picture {i}: reserved bits or unknown slice type (byte {byte:#04x})")
        poc = poc_first + i
        qp = header_qp + r.sv(64)
        nref = r.uv(MAX_REFS)
        if byte & PIC_L0_PREVIOUS:
            refs = tuple(range(poc - 1, poc - 1 - nref, -1))
        else:
            refs = tuple(poc + r.sv(MAX_FRAMES) for _ in range(nref))
        refs1 = ()
        if byte & PIC_HAS_L1:
            refs1 = tuple(poc + r.sv(MAX_FRAMES) for _ in range(r.uv(MAX_REFS)))
        tid = (byte >> PIC_TID_SHIFT) & PIC_TID_MASK
        pictures.append(PictureInfo(poc, SLICE_CODES[byte & PIC_TYPE_MASK], qp, tid, refs, refs1=refs1))
    if hash_kind:
        n = HASH_BYTES[hash_kind]
        for p in pictures:
            p.md5 = tuple(r.take(n) for _ in range(num_planes))
    symbol_hash = r.take(SYMBOL_HASH_BYTES) if flags & FLAG_SYMBOL_HASH else None
    return PicturesUnit(pictures, r.rest(), symbol_hash, hash_kind=hash_kind)


def _read_uv(file, limit: int) -> tuple[int, bytes] | None:
    """An unsigned varint from a file: (value, its bytes), or None when the file ends inside it."""
    raw = bytearray()
    n = shift = 0
    while len(raw) < 5:
        b = file.read(1)
        if not b:
            return None
        raw += b
        n |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            return n, bytes(raw)
    return limit + 1, bytes(raw)


class StreamReader:
    """Iterates over the units of a .gvc file.

    Attributes:
        header: the SequenceHeader (read on construction).
        size: file size in bytes.
    """

    def __init__(self, path: str):
        self.path = path
        try:
            self.file = open(path, "rb")
            self.size = os.fstat(self.file.fileno()).st_size
        except OSError as exc:
            raise BitstreamError(f"cannot open bitstream `{path}': {exc.strerror}") from None
        head = self.file.read(FILE_HEADER.size)
        if len(head) < FILE_HEADER.size:
            raise BitstreamError(f"bitstream `{path}' is truncated: {len(head)} bytes, no file header")
        magic, major, minor = FILE_HEADER.unpack(head)
        if magic != MAGIC:
            raise BitstreamError(f"`{path}' is not a gvcodec bitstream (bad magic at byte 0)")
        if major != VERSION[0]:
            raise BitstreamError(f"bitstream `{path}' has format version {major}.{minor}; "
                                 f"this gvcodec reads {VERSION[0]}.x")
        self.offset = FILE_HEADER.size
        self.index = 0
        self.ended = False
        unit_type, payload, offset = self._next_raw()
        if unit_type != UnitType.SEQUENCE_HEADER:
            raise BitstreamError(f"bitstream `{path}': unit 0 at byte {offset} is {_type_name(unit_type)}, "
                                 "expected SEQUENCE_HEADER")
        where = f"bitstream `{path}': unit 0 (SEQUENCE_HEADER) at byte {offset}"
        self.header = SequenceHeader.from_fields(parse_sequence_header(FieldReader(payload, where)), where)

    def _next_raw(self) -> tuple[int, bytes, int]:
        offset = self.offset
        t = self.file.read(1)
        if not t:
            after = f"after unit {self.index - 1}" if self.index else "with no SEQUENCE_HEADER"
            raise BitstreamError(f"bitstream `{self.path}' is truncated: it ends at byte {offset} {after} "
                                 "without END_OF_STREAM")
        unit_type = t[0]
        name = _type_name(unit_type)
        got = _read_uv(self.file, MAX_UNIT_PAYLOAD)
        if got is None:
            raise BitstreamError(f"bitstream `{self.path}' is truncated: unit {self.index} at byte {offset} "
                                 "has an incomplete header")
        length, raw_length = got
        head = t + raw_length
        left = self.size - offset - len(head) - UNIT_CRC.size
        if length > MAX_UNIT_PAYLOAD:
            raise BitstreamError(f"bitstream `{self.path}' is corrupted: unit {self.index} ({name}) at byte "
                                 f"{offset} claims {length} bytes (limit {MAX_UNIT_PAYLOAD})")
        if length > left:
            raise BitstreamError(f"bitstream `{self.path}' is truncated: unit {self.index} ({name}) at byte "
                                 f"{offset} needs {length} payload bytes, only {max(left, 0)} left")
        payload = self.file.read(length)
        (crc,) = UNIT_CRC.unpack(self.file.read(UNIT_CRC.size))
        if zlib.crc32(payload, zlib.crc32(head)) & 0xFFFFFFFF != crc:
            raise BitstreamError(f"bitstream `{self.path}' is corrupted: CRC mismatch in unit {self.index} "
                                 f"({name}) at byte {offset}")
        self.offset += len(head) + length + UNIT_CRC.size
        self.index += 1
        return unit_type, payload, offset

    def units(self) -> Iterator[PicturesUnit]:
        """Yield the PICTURES units in stream order, then check END_OF_STREAM."""
        frames = 0
        planes = self.header.fmt.num_planes
        while True:
            index = self.index
            unit_type, payload, offset = self._next_raw()
            where = f"bitstream `{self.path}': unit {index} ({_type_name(unit_type)}) at byte {offset}"
            if unit_type == UnitType.PICTURES:
                unit = parse_pictures(payload, planes, where, self.header.qp, self.header.picture_hash)
                unit.index, unit.offset, unit.size = index, offset, self.offset - offset
                frames += len(unit.pictures)
                if frames > MAX_FRAMES:
                    raise BitstreamError(f"{where}: more than {MAX_FRAMES} frames")
                yield unit
            elif unit_type == UnitType.END_OF_STREAM:
                r = FieldReader(payload, where)
                n_frames, n_units = r.uv(), r.uv()
                r.at_end()
                if n_frames != frames or n_units != index:
                    raise BitstreamError(f"{where}: stream announces {n_frames} frames in {n_units} units, "
                                         f"found {frames} in {index}: units are missing")
                if self.offset != self.size:
                    raise BitstreamError(f"bitstream `{self.path}': {self.size - self.offset} stray bytes after "
                                         f"END_OF_STREAM at byte {self.offset}")
                self.ended = True
                self.file.close()
                return
            else:
                raise BitstreamError(f"{where}: unknown unit type")
