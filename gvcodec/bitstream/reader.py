"""Reading a .gvc stream unit by unit, validating framing, CRCs and limits as it goes.

Every failure is a BitstreamError naming the unit (index and type) and its byte offset.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Iterator

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import (
    END_OF_STREAM, FILE_HEADER, FLAG_PICTURE_MD5, FLAG_SYMBOL_HASH, MAGIC, MAX_FRAMES, MAX_UNIT_PAYLOAD,
    MD5_BYTES, PICTURE_INFO, PICTURES_FIXED, SEQUENCE_HEADER_FIELDS, SYMBOL_HASH_BYTES, UNIT_CRC, UNIT_HEAD,
    VERSION, FieldReader, PictureInfo, PicturesUnit, UnitType,
)
from gvcodec.errors import BitstreamError


def _type_name(t: int) -> str:
    try:
        return UnitType(t).name
    except ValueError:
        return f"type {t}"


def parse_pictures(payload: bytes, num_planes: int, where: str) -> PicturesUnit:
    """Parse a PICTURES payload (the mirror of writer.pack_pictures)."""
    r = FieldReader(payload, where)
    poc_first, count, flags = r.unpack(PICTURES_FIXED)
    if count == 0:
        raise BitstreamError(f"{where}: unit holds no picture")
    pictures = []
    for i in range(count):
        st, qp, tid, nref = r.unpack(PICTURE_INFO)
        refs = struct.unpack(f"<{nref}I", r.take(4 * nref))
        pictures.append(PictureInfo(poc_first + i, st.decode("latin-1"), qp, tid, refs))
    if flags & FLAG_PICTURE_MD5:
        for p in pictures:
            p.md5 = tuple(r.take(MD5_BYTES) for _ in range(num_planes))
    symbol_hash = r.take(SYMBOL_HASH_BYTES) if flags & FLAG_SYMBOL_HASH else None
    return PicturesUnit(pictures, r.rest(), symbol_hash)


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
        magic, major, minor, reserved = FILE_HEADER.unpack(head)
        if magic != MAGIC:
            raise BitstreamError(f"`{path}' is not a gvcodec bitstream (bad magic at byte 0)")
        if major != VERSION[0]:
            raise BitstreamError(f"bitstream `{path}' has format version {major}.{minor}; "
                                 f"this gvcodec reads {VERSION[0]}.x")
        if reserved:
            raise BitstreamError(f"bitstream `{path}' is corrupted: reserved file-header bits set at byte 6")
        self.offset = FILE_HEADER.size
        self.index = 0
        self.ended = False
        unit_type, payload, offset = self._next_raw()
        if unit_type != UnitType.SEQUENCE_HEADER:
            raise BitstreamError(f"bitstream `{path}': unit 0 at byte {offset} is {_type_name(unit_type)}, "
                                 "expected SEQUENCE_HEADER")
        where = f"bitstream `{path}': unit 0 (SEQUENCE_HEADER) at byte {offset}"
        self.header = SequenceHeader.from_fields(FieldReader(payload, where).fields(SEQUENCE_HEADER_FIELDS), where)

    def _next_raw(self) -> tuple[int, bytes, int]:
        offset = self.offset
        head = self.file.read(UNIT_HEAD.size)
        if not head:
            after = f"after unit {self.index - 1}" if self.index else "with no SEQUENCE_HEADER"
            raise BitstreamError(f"bitstream `{self.path}' is truncated: it ends at byte {offset} {after} "
                                 "without END_OF_STREAM")
        if len(head) < UNIT_HEAD.size:
            raise BitstreamError(f"bitstream `{self.path}' is truncated: unit {self.index} at byte {offset} "
                                 "has an incomplete header")
        unit_type, length = UNIT_HEAD.unpack(head)
        left = self.size - offset - UNIT_HEAD.size - UNIT_CRC.size
        name = _type_name(unit_type)
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
        self.offset += UNIT_HEAD.size + length + UNIT_CRC.size
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
                unit = parse_pictures(payload, planes, where)
                unit.index, unit.offset, unit.size = index, offset, UNIT_HEAD.size + len(payload) + UNIT_CRC.size
                frames += len(unit.pictures)
                if frames > MAX_FRAMES:
                    raise BitstreamError(f"{where}: more than {MAX_FRAMES} frames")
                yield unit
            elif unit_type == UnitType.END_OF_STREAM:
                r = FieldReader(payload, where)
                n_frames, n_units = r.unpack(END_OF_STREAM)
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
