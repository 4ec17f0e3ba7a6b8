"""What the GOP-based neural engines (GNVC-VD, GIViC) share: thread set-up, typed reading of the
stream's engine parameters, GOP collection with padding by the last frame, and the per-unit decode
frame with its `where` string and symbol-hash check.

An engine subclasses `GopEncoder` (implementing `coded_frames` and `code_gop`) and `GopDecoder`
(implementing `decode_gop`); both hold the engine's coder as `self.coder`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from gvcodec.bitstream.syntax import PicturesUnit
from gvcodec.engines.base import EncodedUnit
from gvcodec.errors import BitstreamError
from gvcodec.io.frames import Frame


def set_threads(threads: int) -> None:
    """torch's intra-op threads (0 = leave the library default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


@dataclass(frozen=True)
class Field:
    """One stream parameter: its type and the values a decoder accepts.

    kind: int, float, str or list (of str); lo/hi: inclusive bounds of numbers (and of a list's length);
    choices: allowed values of a str, or allowed items of a list.
    """

    kind: type
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None


def _check_field(name: str, value: Any, f: Field) -> Any:
    kind = f.kind
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} is {value!r}, not an integer")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} is {value!r}, not a finite number")
        value = float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} is {value!r}, not a string")
    elif kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} is {value!r}, not a list of strings")
    size = len(value) if kind is list else value
    if kind in (int, float, list) and ((f.lo is not None and size < f.lo) or (f.hi is not None and size > f.hi)):
        what = "length" if kind is list else "value"
        raise ValueError(f"{name} {what} {size} is outside {f.lo:g}..{f.hi:g}")
    if f.choices is not None:
        bad = [v for v in (value if kind is list else [value]) if v not in f.choices]
        if bad:
            raise ValueError(f"{name} holds {bad[0]!r}, not one of {', '.join(map(str, f.choices))}")
    return value


def read_stream_params(params: Any, spec: dict[str, Field | type], engine: str,
                       defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stream's engine parameters, type-checked and bounded by `spec`, or one BitstreamError.

    A forged stream may hold any JSON value: nothing here converts (a string is not a number, a
    float is not an integer), and every number is bounded before an engine loops or allocates by it.

    Args:
        params: the header's engine_params.
        spec: field name -> Field (or a bare type: unbounded).
        engine: engine name for the message.
        defaults: values for fields that older streams do not carry.
    """
    if not isinstance(params, dict):
        raise BitstreamError(f"{engine} engine parameters are not a mapping ({type(params).__name__})")
    out = {}
    for name, f in spec.items():
        f = f if isinstance(f, Field) else Field(f)
        if name in params:
            value = params[name]
        elif defaults and name in defaults:
            value = defaults[name]
        else:
            raise BitstreamError(f"{engine} engine parameters are incomplete: no {name}")
        try:
            out[name] = _check_field(name, value, f)
        except ValueError as exc:
            raise BitstreamError(f"{engine} engine parameter {exc}") from None
    return out


MAX_GOP_FRAMES = 1024  # GOPFrames' option range: a forged GOP length beyond it is refused before any model is built


def check_gop_frames(gop: int, engine: str) -> None:
    """The header's GOP length within what an encoder can write."""
    if not 1 <= gop <= MAX_GOP_FRAMES:
        raise BitstreamError(f"{engine} GOP of {gop} frames is outside 1..{MAX_GOP_FRAMES}")


def unit_where(unit: PicturesUnit) -> str:
    """How messages name a unit: its index, byte offset and POC range."""
    first, count = unit.pictures[0].poc, len(unit.pictures)
    return f"unit {unit.index} at byte {unit.offset} (POC {first}..{first + count - 1})"


def append_fingerprints(unit: EncodedUnit, header) -> None:
    """Append each picture's fingerprint of the encoder's reconstruction to the unit's payload
    (gvcodec.engines.conformance); each picture's bits include its fingerprint."""
    from gvcodec.engines.conformance import fingerprint, pack
    from gvcodec.io.padding import crop_frame

    block = [pack(fingerprint(crop_frame(r, header.width, header.height).planes, header.internal_bit_depth))
             for r in unit.recon]
    unit.payload = unit.payload + b"".join(block)
    if unit.picture_bits is not None:
        unit.picture_bits = [bits + len(b) * 8 for bits, b in zip(unit.picture_bits, block)]


def bound_symbol_hash(header, digest: bytes) -> bytes:
    """A unit's symbol hash bound to its sequence header: the hash of the decoded symbols and of the
    header's fields (engine parameters included) taken together. Whatever steers the synthesis is then
    as normative as the symbols: a stream whose header was edited (CRC recomputed) fails the check
    instead of decoding to other pictures that the fingerprint tolerance might accept."""
    import numpy as np

    from gvcodec.bitstream.syntax import pack_sequence_header
    from gvcodec.entropy import symbol_hash

    return symbol_hash(np.frombuffer(pack_sequence_header(header), np.uint8), np.frombuffer(digest, np.uint8))


class GopEncoder:
    """Collects `gop_frames` frames, then codes them as one unit; the last GOP may be shorter.

    Subclasses implement `coded_frames(count)` (how many frames a GOP of `count` pictures is
    coded as: the padding repeats the last frame) and `code_gop(frames, padded)`.
    """

    def __init__(self, coder, gop_frames: int):
        self.coder, self.gop_frames = coder, gop_frames
        self.frames: list[Frame] = []

    def push(self, frame: Frame) -> Iterable[EncodedUnit]:
        self.frames.append(frame)
        return [self._code()] if len(self.frames) == self.gop_frames else []

    def flush(self) -> Iterable[EncodedUnit]:
        return [self._code()] if self.frames else []

    def _code(self) -> EncodedUnit:
        frames, self.frames = self.frames, []
        padded = frames + [frames[-1]] * (self.coded_frames(len(frames)) - len(frames))
        unit = self.code_gop(frames, padded)
        if unit.symbol_hash is not None:
            unit.symbol_hash = bound_symbol_hash(self.coder.header, unit.symbol_hash)
        if getattr(self.coder, "fingerprints", False):
            append_fingerprints(unit, self.coder.header)
        return unit

    def coded_frames(self, count: int) -> int:
        raise NotImplementedError

    def code_gop(self, frames: list[Frame], padded: list[Frame]) -> EncodedUnit:
        raise NotImplementedError


class GopDecoder:
    """One unit (GOP) in, its pictures out; errors name the unit."""

    def __init__(self, coder):
        self.coder = coder

    def decode(self, unit: PicturesUnit) -> list[Frame]:
        where = unit_where(unit)
        header = self.coder.header
        if len(unit.pictures) > header.gop_frames:
            raise BitstreamError(f"{where}: {len(unit.pictures)} pictures in a unit, the stream's GOP is "
                                 f"{header.gop_frames} frames")
        if getattr(self.coder, "fingerprints", False):
            from gvcodec.engines.conformance import split_payload

            try:
                unit.payload, prints = split_payload(unit.payload, len(unit.pictures), header.fmt.num_planes)
            except ValueError as exc:
                raise BitstreamError(f"{where}: {exc}") from None
            unit.extra["fingerprints"] = {p.poc: fp for p, fp in zip(unit.pictures, prints)}
        try:
            return self.decode_gop(unit, where)
        except BitstreamError as exc:
            if str(exc).startswith(where):
                raise
            raise type(exc)(f"{where}: {exc}") from None

    def decode_gop(self, unit: PicturesUnit, where: str) -> list[Frame]:
        raise NotImplementedError

    def check_symbols(self, unit: PicturesUnit, where: str, arrays) -> None:
        """The unit's symbol hash against the decoded symbols and the stream's header (a mismatch is
        exit 2, naming the unit)."""
        if unit.symbol_hash is not None:
            from gvcodec.entropy import symbol_hash

            got = bound_symbol_hash(self.coder.header, symbol_hash(*arrays))
            if got != bytes(unit.symbol_hash):
                raise BitstreamError(f"{where}: the decoded symbols and the sequence header do not match the unit's "
                                     f"symbol hash (got {got.hex()}, stream has {bytes(unit.symbol_hash).hex()}): "
                                     "entropy decoding diverged or the stream was altered")

    def flush(self) -> list[Frame]:
        return []
