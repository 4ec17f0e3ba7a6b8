"""Self-contained symbol payloads: skip mask, escape coding and a checked header.

``SymbolCoder.encode(symbols, indexes, tables, skip_index)`` returns bytes that
``SymbolCoder.decode(data, indexes, tables)`` turns back into exactly the same int32
symbols, given the same integer table indexes (which the decoder derives itself).

Payload layout (all integers little-endian or LEB128 varints, whatever the platform):

    u8   version (= 1)
    u8   flags (bit 0: escape segments present)
    4 B  first 4 bytes of the table set's hash (refuses the wrong tables)
    var  skip_index: elements whose table index is below it are not coded (decode as 0)
    var  number of coded elements        (checked against the indexes)
    var  number of escaped elements      (checked against the decoded escape slots)
    var  length of the main segment in bytes
    ...  main segment: one slot per coded element
    if escapes:  var lengths of the bit-length and chunk segments, then the two segments
    (the payload must end exactly there)

A symbol outside its table's support is coded as the table's escape slot, then its
distance beyond the support (zigzag by side) as a bit length (uniform over 0..63) and
that many bits in 16-bit chunks (uniform). Nothing is ever clipped.
"""

from __future__ import annotations

import numpy as np

from gvcodec.errors import BitstreamError, MismatchError
from gvcodec.entropy.coder import ConstrictionAnsBackend, EntropyBackend
from gvcodec.entropy.tables import IntTables

PAYLOAD_VERSION = 1
_CHUNK_BITS = 16
_MAX_ESCAPE_BITS = 34  # |v| < 2**31 and a support within int32 keep u below 2**34


def _raw_tables() -> IntTables:
    """Uniform tables for escape data: 0 = bit length (64 slots), 1 = a 16-bit chunk."""
    freqs = np.zeros((2, 1 << _CHUNK_BITS), dtype=np.int32)
    freqs[0, :64] = (1 << 16) // 64
    freqs[1, :] = 1
    return IntTables(freqs, np.zeros(2, np.int32), np.array([63, (1 << 16) - 1], np.int32), 16)


def _put_varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


def _get_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 56:
            raise BitstreamError("entropy payload: truncated or overlong varint in header")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _bit_length(u: np.ndarray) -> np.ndarray:
    """Exact bit lengths of non-negative int64 values (no float log)."""
    n = np.zeros(u.shape, dtype=np.int32)
    for b in range(_MAX_ESCAPE_BITS + 1):
        n += (u >> b) > 0
    return n


class SymbolCoder:
    """Codes int32 symbol arrays with integer tables, escapes and skip (see module doc).

    Args:
        backend: the coder backend; constriction ANS by default.
    """

    def __init__(self, backend: EntropyBackend | None = None) -> None:
        self.backend = backend if backend is not None else ConstrictionAnsBackend()
        self._raw = _raw_tables()

    def encode(self, symbols, indexes, tables: IntTables, skip_index: int = 0) -> bytes:
        """Compress symbols, each with its table index.

        Args:
            symbols: integer array-like (any shape, values within int32).
            indexes: integer array-like of the same shape, values in 0..K-1.
            tables: the integer tables.
            skip_index: elements with ``indexes < skip_index`` are not coded; their
                symbols must be 0 (zero them first, e.g. with ``zero_skipped``).

        Returns:
            The payload bytes.
        """
        sym = np.asarray(symbols).reshape(-1)
        idx = np.asarray(indexes).reshape(-1).astype(np.int32, copy=False)
        if sym.shape != idx.shape:
            raise ValueError(f"symbols {sym.shape} and indexes {idx.shape} differ in size")
        if sym.size and (sym.dtype.kind not in "iu" or sym.min() < -(2**31) or sym.max() >= 2**31):
            raise ValueError("symbols must be integers within int32")
        if idx.size and (idx.min() < 0 or idx.max() >= tables.num_tables):
            raise ValueError(f"table indexes must be in 0..{tables.num_tables - 1}")
        if not 0 <= skip_index <= tables.num_tables:
            raise ValueError("skip_index out of range")
        sym = sym.astype(np.int64)
        if skip_index:
            coded = idx >= skip_index
            if np.any(sym[~coded] != 0):
                raise ValueError("skipped elements (index < skip_index) must have symbol 0")
            sym, idx = sym[coded], idx[coded]
        lo = tables.offsets[idx].astype(np.int64)
        length = tables.lengths[idx].astype(np.int64)
        rel = sym - lo
        esc = (rel < 0) | (rel >= length)
        slots = np.where(esc, length, rel).astype(np.int32)
        main = self.backend.encode(slots, idx, tables)
        head = bytearray([PAYLOAD_VERSION, 1 if esc.any() else 0])
        head += _digest(tables)[:4]
        n_esc = int(esc.sum())
        for v in (skip_index, sym.shape[0], n_esc, len(main)):
            _put_varint(head, v)
        body = bytes(head) + main
        if n_esc:
            body += self._encode_escapes(sym[esc], lo[esc], length[esc])
        return body

    def _encode_escapes(self, v: np.ndarray, lo: np.ndarray, length: np.ndarray) -> bytes:
        above = v >= lo + length
        u = np.where(above, 2 * (v - lo - length), 2 * (lo - v - 1) + 1)
        nbits = _bit_length(u)
        nchunks = (nbits + _CHUNK_BITS - 1) // _CHUNK_BITS
        owner = np.repeat(np.arange(u.shape[0]), nchunks)
        pos = np.arange(owner.shape[0]) - np.repeat(np.cumsum(nchunks) - nchunks, nchunks)
        chunks = ((u[owner] >> (_CHUNK_BITS * pos)) & ((1 << _CHUNK_BITS) - 1)).astype(np.int32)
        seg_bits = self.backend.encode(nbits, np.zeros(nbits.shape[0], np.int32), self._raw)
        seg_chunks = self.backend.encode(chunks, np.ones(chunks.shape[0], np.int32), self._raw)
        head = bytearray()
        _put_varint(head, len(seg_bits))
        _put_varint(head, len(seg_chunks))
        return bytes(head) + seg_bits + seg_chunks

    def decode(self, data: bytes, indexes, tables: IntTables) -> np.ndarray:
        """Decompress symbols for the given table indexes.

        Args:
            data: payload bytes from ``encode``.
            indexes: the same table indexes the encoder used (shape gives the output shape).
            tables: the same integer tables.

        Returns:
            int32 symbols shaped like ``indexes`` (skipped elements are 0).

        Raises:
            BitstreamError: truncated, garbled or inconsistent payload.
            MismatchError: the payload was made with other tables.
        """
        idx_full = np.asarray(indexes)
        idx = idx_full.reshape(-1).astype(np.int32, copy=False)
        data = bytes(data)
        if len(data) < 6:
            raise BitstreamError(f"entropy payload: {len(data)} bytes is too short for a header")
        if data[0] != PAYLOAD_VERSION or data[1] & ~1:
            raise BitstreamError(f"entropy payload: unknown version {data[0]} / flags {data[1]}")
        if data[2:6] != _digest(tables)[:4]:
            raise MismatchError("entropy payload was coded with different integer tables (table hash differs)")
        pos = 6
        skip_index, pos = _get_varint(data, pos)
        n_coded, pos = _get_varint(data, pos)
        n_esc, pos = _get_varint(data, pos)
        main_len, pos = _get_varint(data, pos)
        if skip_index > tables.num_tables:
            raise BitstreamError(f"entropy payload: skip index {skip_index} beyond {tables.num_tables} tables")
        if idx.size and (idx.min() < 0 or idx.max() >= tables.num_tables):
            raise ValueError(f"table indexes must be in 0..{tables.num_tables - 1}")
        coded = idx >= skip_index
        cidx = idx[coded]
        if n_coded != cidx.shape[0]:
            raise BitstreamError(f"entropy payload: {n_coded} coded symbols signalled, {cidx.shape[0]} expected")
        if bool(data[1] & 1) != (n_esc > 0) or pos + main_len > len(data):
            raise BitstreamError("entropy payload: inconsistent header or truncated main segment")
        slots = self.backend.decode(data[pos : pos + main_len], cidx, tables)
        pos += main_len
        lo = tables.offsets[cidx].astype(np.int64)
        length = tables.lengths[cidx].astype(np.int64)
        sym = lo + slots
        esc = slots == length
        if int(esc.sum()) != n_esc:
            raise BitstreamError("entropy payload: escape count differs from the header (corrupted)")
        if n_esc:
            sym[esc] = self._decode_escapes(data[pos:], lo[esc], length[esc])
        elif pos != len(data):
            raise BitstreamError("entropy payload: trailing bytes after the last segment")
        out = np.zeros(idx.shape[0], dtype=np.int32)
        out[coded] = sym
        return out.reshape(idx_full.shape)

    def _decode_escapes(self, data: bytes, lo: np.ndarray, length: np.ndarray) -> np.ndarray:
        seg_len, pos = _get_varint(data, 0)
        chunk_len, pos = _get_varint(data, pos)
        if pos + seg_len + chunk_len != len(data):
            raise BitstreamError("entropy payload: escape segments truncated or followed by garbage")
        nbits = self.backend.decode(data[pos : pos + seg_len], np.zeros(lo.shape[0], np.int32), self._raw)
        if np.any(nbits > _MAX_ESCAPE_BITS):
            raise BitstreamError("entropy payload: escape value too long (corrupted)")
        nchunks = (nbits + _CHUNK_BITS - 1) // _CHUNK_BITS
        total = int(nchunks.sum())
        chunks = self.backend.decode(data[pos + seg_len :], np.ones(total, np.int32), self._raw).astype(np.int64)
        owner = np.repeat(np.arange(lo.shape[0]), nchunks)
        pos_in = np.arange(total) - np.repeat(np.cumsum(nchunks) - nchunks, nchunks)
        u = np.zeros(lo.shape[0], dtype=np.int64)
        np.add.at(u, owner, chunks << (_CHUNK_BITS * pos_in))
        if np.any(_bit_length(u) != nbits):
            raise BitstreamError("entropy payload: escape value inconsistent with its length (corrupted)")
        v = np.where(u & 1, lo - 1 - (u >> 1), lo + length + (u >> 1))
        if np.any(v < -(2**31)) or np.any(v >= 2**31):
            raise BitstreamError("entropy payload: escape value outside int32 (corrupted)")
        return v

    def check_decode(self, data: bytes, symbols, indexes, tables: IntTables, what: str = "symbols") -> None:
        """Decode ``data`` again and compare with what the encoder meant (``--CheckDecode=1``).

        Args:
            data: the payload just produced.
            symbols: the encoder's symbols (skipped elements already zeroed).
            indexes: the encoder's table indexes, derived the way the decoder derives them.
            tables: the tables used.
            what: name used in the error message (e.g. "frame 3 y").

        Raises:
            MismatchError: the payload does not decode to ``symbols``.
        """
        got = self.decode(data, indexes, tables)
        want = np.asarray(symbols).reshape(got.shape)
        if not np.array_equal(got, want):
            bad = int(np.count_nonzero(got != want))
            raise MismatchError(f"check-decode failed for {what}: {bad} of {want.size} symbols differ")


def zero_skipped(symbols, indexes, skip_index: int):
    """Symbols with the elements that will not be coded set to 0 (what the decoder sees).

    Args:
        symbols: integer numpy array or torch tensor.
        indexes: table indexes, same shape (numpy or torch).
        skip_index: elements with ``indexes < skip_index`` are skipped.

    Returns:
        A new int32 array of the same kind as ``symbols`` (torch in, torch out).
    """
    is_torch = hasattr(symbols, "detach")
    sym = symbols.detach().cpu().numpy() if is_torch else np.asarray(symbols)
    idx = indexes.detach().cpu().numpy() if hasattr(indexes, "detach") else np.asarray(indexes)
    out = sym.astype(np.int32, copy=True)
    out[idx < skip_index] = 0
    if is_torch:
        import torch

        return torch.from_numpy(out)
    return out


def _digest(tables: IntTables) -> bytes:
    d = tables.cache.get("digest")
    if d is None:
        d = tables.cache["digest"] = tables.digest()
    return d
