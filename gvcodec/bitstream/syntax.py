"""The .gvc syntax, declared once: field lists that the writer packs and the reader parses.

Layout (all integers little-endian; docs/bitstream.md describes every field):

    file      = file_header unit* end_of_stream
    file_header = magic "GVC\\x1a" | version_major u8 | version_minor u8 | reserved u16
    unit      = unit_type u8 | payload_length u32 | payload | crc32 u32
                (CRC-32/ISO-HDLC over unit_type, payload_length and payload)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from gvcodec.errors import BitstreamError

MAGIC = b"GVC\x1a"
VERSION = (1, 0)
FILE_HEADER = struct.Struct("<4sBBH")
UNIT_HEAD = struct.Struct("<BI")
UNIT_CRC = struct.Struct("<I")
UNIT_OVERHEAD = UNIT_HEAD.size + UNIT_CRC.size
MAX_UNIT_PAYLOAD = 1 << 30  # a forged length beyond this is rejected before any allocation
MAX_FRAMES = 10_000_000
MAX_STRING = 255
MAX_BLOB = 1 << 20


class UnitType(IntEnum):
    SEQUENCE_HEADER = 1
    PICTURES = 2
    END_OF_STREAM = 127


# (name, type). Types: u8 u16 u32 i8 i16 i32 (integers), str (u8 length + UTF-8),
# h32 (32 raw bytes), blob (u32 length + bytes).
SEQUENCE_HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("width", "u16"), ("height", "u16"),                # true picture size, cropped to on output
    ("coded_width", "u16"), ("coded_height", "u16"),    # size after padding
    ("pad_mode", "u8"),                                 # 0 zero (black), 1 replicate
    ("chroma_format", "u16"),                           # 400, 420, 422, 444
    ("input_bit_depth", "u8"), ("internal_bit_depth", "u8"), ("output_bit_depth", "u8"),
    ("frame_rate_num", "u32"), ("frame_rate_den", "u32"),
    ("frame_count", "u32"),                             # frames the encoder announced (0 = unknown)
    ("colour_matrix", "str"),                           # bt709, bt601, bt2020
    ("full_range", "u8"),
    ("engine", "str"),                                  # engine id, e.g. "x265", "gnvc-vd"
    ("model", "str"),                                   # model id, e.g. "gnvc-vd-tiny" ("" for classical)
    ("config_hash", "h32"),                             # SHA-256 of the engine's serialized config
    ("weights_sha256", "h32"),                          # SHA-256 of the weights file (zeros: none)
    ("qp", "i16"),                                      # rate point
    ("intra_period", "i32"),
    ("gop_frames", "u16"),                              # frames per GOP of GOP-based engines (1 = per frame)
    ("picture_hash", "u8"),                             # 0 none, 1 MD5 per picture
    ("engine_params", "blob"),                          # engine-specific parameters (JSON, UTF-8)
)

PICTURES_FIXED = struct.Struct("<IHB")                  # poc_first u32, frame_count u16, flags u8
FLAG_PICTURE_MD5 = 1
FLAG_SYMBOL_HASH = 2
PICTURE_INFO = struct.Struct("<cbBB")                   # slice type char, qp i8, temporal id u8, ref count u8
SYMBOL_HASH_BYTES = 16
MD5_BYTES = 16
END_OF_STREAM = struct.Struct("<II")                    # frames, units before this one


@dataclass
class PictureInfo:
    """What the log needs about one picture of a unit."""

    poc: int
    slice_type: str = "P"
    qp: int = 0
    temporal_id: int = 0
    refs: tuple[int, ...] = ()
    md5: tuple[bytes, ...] = ()


@dataclass
class PicturesUnit:
    """A coded unit: one frame (classical) or a GOP (neural) with its engine payload."""

    pictures: list[PictureInfo]
    payload: bytes
    symbol_hash: bytes | None = None
    # filled by the reader: where the unit sits in the file
    index: int = 0
    offset: int = 0
    size: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def poc_first(self) -> int:
        return self.pictures[0].poc if self.pictures else 0


_INT = {"u8": "<B", "u16": "<H", "u32": "<I", "i8": "<b", "i16": "<h", "i32": "<i"}


def pack_fields(fields, values: dict) -> bytes:
    """Serialise `values` in the declared field order."""
    out = bytearray()
    for name, kind in fields:
        v = values[name]
        if kind in _INT:
            out += struct.pack(_INT[kind], v)
        elif kind == "str":
            b = v.encode("utf-8")
            if len(b) > MAX_STRING:
                raise ValueError(f"{name} longer than {MAX_STRING} bytes")
            out += struct.pack("<B", len(b)) + b
        elif kind == "h32":
            if len(v) != 32:
                raise ValueError(f"{name} must be 32 bytes")
            out += v
        elif kind == "blob":
            if len(v) > MAX_BLOB:
                raise ValueError(f"{name} longer than {MAX_BLOB} bytes")
            out += struct.pack("<I", len(v)) + v
    return bytes(out)


class FieldReader:
    """Bounds-checked reading of declared fields from one unit's payload."""

    def __init__(self, data: bytes, where: str):
        self.data, self.pos, self.where = data, 0, where

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BitstreamError(f"{self.where}: payload too short (field needs {n} bytes at {self.pos})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, st: struct.Struct) -> tuple:
        return st.unpack(self.take(st.size))

    def fields(self, fields) -> dict:
        out = {}
        for name, kind in fields:
            if kind in _INT:
                st = struct.Struct(_INT[kind])
                out[name] = st.unpack(self.take(st.size))[0]
            elif kind == "str":
                n = self.take(1)[0]
                try:
                    out[name] = self.take(n).decode("utf-8")
                except UnicodeDecodeError:
                    raise BitstreamError(f"{self.where}: field {name} is not UTF-8") from None
            elif kind == "h32":
                out[name] = self.take(32)
            elif kind == "blob":
                n = struct.unpack("<I", self.take(4))[0]
                if n > MAX_BLOB:
                    raise BitstreamError(f"{self.where}: field {name} claims {n} bytes (limit {MAX_BLOB})")
                out[name] = self.take(n)
        return out

    def rest(self) -> bytes:
        b = self.data[self.pos:]
        self.pos = len(self.data)
        return b
