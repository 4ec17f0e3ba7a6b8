"""The .gvc syntax (format version 2), declared once: the writer packs it, the reader parses it.

Layout (docs/bitstream.md describes every field; integers are little-endian, `uv` is an unsigned
LEB128 varint, `sv` a zigzag-signed one):

    file        = file_header unit(SEQUENCE_HEADER) unit(PICTURES)* unit(END_OF_STREAM)
    file_header = magic "GVC\\x1a" | version_major u8 | version_minor u8
    unit        = unit_type u8 | payload_length uv | payload | crc32 u32
                  (CRC-32/ISO-HDLC over unit_type, the length bytes and the payload)

Version 2 is compact: a binary sequence header (about 20 bytes for a classical stream) and
5..7 bytes of per-picture information, so the container costs a few bytes a picture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from gvcodec.errors import BitstreamError

MAGIC = b"GVC\x1a"
VERSION = (2, 0)
FILE_HEADER = struct.Struct("<4sBB")
UNIT_CRC = struct.Struct("<I")
MAX_UNIT_PAYLOAD = 1 << 30  # a forged length beyond this is rejected before any allocation
MAX_FRAMES = 10_000_000
MAX_STRING = 255
MAX_BLOB = 1 << 20
MAX_REFS = 16
MAX_DEPTH = 8               # nesting of engine-parameter values


class UnitType(IntEnum):
    SEQUENCE_HEADER = 1
    PICTURES = 2
    END_OF_STREAM = 127


# Picture hashes, numbered as HM's SEIDecodedPictureHash: bytes per plane of each kind.
HASH_NONE, HASH_MD5, HASH_CRC, HASH_CHECKSUM = 0, 1, 2, 3
HASH_BYTES = {HASH_NONE: 0, HASH_MD5: 16, HASH_CRC: 2, HASH_CHECKSUM: 4}
HASH_NAMES = {HASH_NONE: "none", HASH_MD5: "MD5", HASH_CRC: "CRC", HASH_CHECKSUM: "Checksum"}

CHROMA_CODES = (400, 420, 422, 444)
MATRIX_CODES = ("bt709", "bt601", "bt2020")
SLICE_CODES = "IPB"

# PICTURES flags (u8)
FLAG_HASH_MASK = 0x03        # picture hash kind (HASH_*)
FLAG_SYMBOL_HASH = 0x04      # a 16-byte symbol hash follows the picture hashes
FLAG_MULTI = 0x08            # frame_count uv follows poc_first (else the unit holds one picture)
FLAGS_RESERVED = 0xF0
# per-picture byte
PIC_TYPE_MASK = 0x03         # 0 I, 1 P, 2 B
PIC_TID_SHIFT = 2            # temporal id in bits 2..4
PIC_TID_MASK = 0x07
PIC_L0_PREVIOUS = 0x20       # L0 = the nref pictures just before this POC (no list follows)
PIC_HAS_L1 = 0x40            # an L1 list follows
PIC_RESERVED = 0x80
SYMBOL_HASH_BYTES = 16
MD5_BYTES = 16


@dataclass
class PictureInfo:
    """What the log needs about one picture of a unit."""

    poc: int
    slice_type: str = "P"
    qp: int = 0
    temporal_id: int = 0
    refs: tuple[int, ...] = ()      # L0 reference POCs
    md5: tuple[bytes, ...] = ()     # the picture hash per plane (MD5, CRC or checksum: see the header)
    refs1: tuple[int, ...] = ()     # L1 reference POCs (B pictures)


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
    hash_kind: int = HASH_NONE      # kind of the pictures' hashes (reader: from the flags)

    @property
    def poc_first(self) -> int:
        return self.pictures[0].poc if self.pictures else 0


# -- varints --------------------------------------------------------------------------------------

def uv(n: int) -> bytes:
    """Unsigned LEB128."""
    if n < 0:
        raise ValueError(f"negative value {n} for an unsigned varint")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sv(n: int) -> bytes:
    """Zigzag-signed LEB128."""
    return uv((n << 1) if n >= 0 else ((-n << 1) - 1))


# -- engine parameters: a tagged binary form of JSON-like values -----------------------------------

T_NONE, T_FALSE, T_TRUE, T_INT, T_FLOAT, T_STR, T_LIST, T_DICT = range(8)
_F64 = struct.Struct("<d")


def pack_value(v, depth: int = 0) -> bytes:
    """None, bool, int, float, str, list/tuple and str-keyed dict (keys sorted) as tagged bytes."""
    if depth > MAX_DEPTH:
        raise ValueError("engine parameters nest too deep")
    if v is None:
        return bytes([T_NONE])
    if isinstance(v, bool):
        return bytes([T_TRUE if v else T_FALSE])
    if isinstance(v, int):
        return bytes([T_INT]) + sv(v)
    if isinstance(v, float):
        return bytes([T_FLOAT]) + _F64.pack(v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return bytes([T_STR]) + uv(len(b)) + b
    if isinstance(v, (list, tuple)):
        return bytes([T_LIST]) + uv(len(v)) + b"".join(pack_value(x, depth + 1) for x in v)
    if isinstance(v, dict):
        out = bytearray([T_DICT]) + uv(len(v))
        for k in sorted(v):
            if not isinstance(k, str):
                raise ValueError("engine parameter keys must be strings")
            kb = k.encode("utf-8")
            out += uv(len(kb)) + kb + pack_value(v[k], depth + 1)
        return bytes(out)
    raise ValueError(f"engine parameter of type {type(v).__name__} cannot be stored")


class FieldReader:
    """Bounds-checked reading of one unit's payload."""

    def __init__(self, data: bytes, where: str):
        self.data, self.pos, self.where = data, 0, where

    def error(self, msg: str) -> BitstreamError:
        return BitstreamError(f"{self.where}: {msg}")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.error(f"payload too short (field needs {n} bytes at {self.pos})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def unpack(self, st: struct.Struct) -> tuple:
        return st.unpack(self.take(st.size))

    def uv(self, limit: int = 1 << 32) -> int:
        n = shift = 0
        for _ in range(max(1, (limit.bit_length() + 6) // 7)):
            b = self.u8()
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if n > limit:
                    raise self.error(f"value {n} beyond its limit {limit} at byte {self.pos}")
                return n
        raise self.error(f"varint too long at byte {self.pos}")

    def sv(self, limit: int = 1 << 31) -> int:
        z = self.uv(2 * limit + 1)
        return (z >> 1) if not z & 1 else -((z + 1) >> 1)

    def str(self, limit: int = MAX_STRING) -> str:
        n = self.uv(limit)
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("a text field is not UTF-8") from None

    def value(self, depth: int = 0):
        if depth > MAX_DEPTH:
            raise self.error("engine parameters nest too deep")
        tag = self.u8()
        if tag == T_NONE:
            return None
        if tag in (T_FALSE, T_TRUE):
            return tag == T_TRUE
        if tag == T_INT:
            return self.sv(1 << 62)
        if tag == T_FLOAT:
            return self.unpack(_F64)[0]
        if tag == T_STR:
            return self.str(MAX_BLOB)
        if tag == T_LIST:
            n = self.uv(len(self.data) - self.pos)  # every element takes at least one byte
            return [self.value(depth + 1) for _ in range(n)]
        if tag == T_DICT:
            n = self.uv(len(self.data) - self.pos)
            out = {}
            for _ in range(n):
                k = self.str(MAX_BLOB)
                out[k] = self.value(depth + 1)
            return out
        raise self.error(f"unknown engine-parameter tag {tag}")

    def rest(self) -> bytes:
        b = self.data[self.pos:]
        self.pos = len(self.data)
        return b

    def at_end(self) -> None:
        if self.pos != len(self.data):
            raise self.error(f"{len(self.data) - self.pos} unexpected bytes at the end of the payload")


# -- sequence header ------------------------------------------------------------------------------
#
#   width uv | height uv | pad_right uv | pad_bottom uv
#   format u8: chroma (bits 0-1: 400 420 422 444) | pad_mode (bit 2) | full_range (bit 3) | matrix (bits 4-5)
#   depths u8: input-8 (bits 0-3) | internal-8 (bits 4-7) ; output-8 u8 (bits 0-3)
#   frame_rate_num uv | frame_rate_den uv | frame_count uv
#   engine str | model str  (str = uv length + UTF-8)
#   digests u8: config_hash present (bit 0), weights_sha256 present (bit 1); then 32 bytes each present
#   qp sv | intra_period sv | gop_frames uv | picture_hash u8 (0..3) | engine_params value

def pack_sequence_header(h) -> bytes:
    """Serialise a SequenceHeader (validated by the caller)."""
    out = bytearray()
    out += uv(h.width) + uv(h.height) + uv(h.coded_width - h.width) + uv(h.coded_height - h.height)
    out.append(CHROMA_CODES.index(h.chroma_format) | (h.pad_mode << 2) | (h.full_range << 3)
               | (MATRIX_CODES.index(h.colour_matrix) << 4))
    out.append((h.input_bit_depth - 8) | ((h.internal_bit_depth - 8) << 4))
    out.append(h.output_bit_depth - 8)
    out += uv(h.frame_rate_num) + uv(h.frame_rate_den) + uv(h.frame_count)
    for text in (h.engine, h.model):
        b = text.encode("utf-8")
        if len(b) > MAX_STRING:
            raise ValueError(f"`{text[:20]}...' longer than {MAX_STRING} bytes")
        out += uv(len(b)) + b
    for name in ("config_hash", "weights_sha256"):
        if len(getattr(h, name)) != 32:
            raise ValueError(f"{name} must be 32 bytes")
    has_cfg, has_w = any(h.config_hash), any(h.weights_sha256)
    out.append(int(has_cfg) | (int(has_w) << 1))
    out += (h.config_hash if has_cfg else b"") + (h.weights_sha256 if has_w else b"")
    out += sv(h.qp) + sv(h.intra_period) + uv(h.gop_frames)
    out.append(h.picture_hash)
    params = pack_value(h.engine_params)
    if len(params) > MAX_BLOB:
        raise ValueError(f"engine parameters longer than {MAX_BLOB} bytes")
    return bytes(out + params)


def parse_sequence_header(r: FieldReader) -> dict:
    """The header fields as a dict (SequenceHeader.from_fields validates them)."""
    d: dict = {}
    d["width"], d["height"] = r.uv(1 << 16), r.uv(1 << 16)
    d["coded_width"], d["coded_height"] = d["width"] + r.uv(1 << 16), d["height"] + r.uv(1 << 16)
    fmt = r.u8()
    if fmt & 0xC0 or (fmt >> 4) & 3 >= len(MATRIX_CODES):
        raise r.error("reserved format bits set")
    d["chroma_format"] = CHROMA_CODES[fmt & 3]
    d["pad_mode"], d["full_range"], d["colour_matrix"] = (fmt >> 2) & 1, (fmt >> 3) & 1, MATRIX_CODES[(fmt >> 4) & 3]
    depths = r.u8()
    d["input_bit_depth"], d["internal_bit_depth"] = 8 + (depths & 15), 8 + (depths >> 4)
    out_depth = r.u8()
    if out_depth & 0xF0:
        raise r.error("reserved bit-depth bits set")
    d["output_bit_depth"] = 8 + out_depth
    d["frame_rate_num"], d["frame_rate_den"], d["frame_count"] = r.uv(), r.uv(), r.uv()
    d["engine"], d["model"] = r.str(), r.str()
    digests = r.u8()
    if digests & ~3:
        raise r.error("reserved digest bits set")
    d["config_hash"] = r.take(32) if digests & 1 else bytes(32)
    d["weights_sha256"] = r.take(32) if digests & 2 else bytes(32)
    d["qp"], d["intra_period"], d["gop_frames"] = r.sv(1 << 15), r.sv(), r.uv(1 << 16)
    d["picture_hash"] = r.u8()
    d["engine_params"] = r.value()
    r.at_end()
    return d
