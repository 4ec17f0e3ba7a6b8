"""What the GOP-based neural engines (GNVC-VD, GIViC) share: thread set-up, typed reading of the
stream's engine parameters, GOP collection with padding by the last frame, and the per-unit decode
frame with its `where` string and symbol-hash check.

An engine subclasses `GopEncoder` (implementing `coded_frames` and `code_gop`) and `GopDecoder`
(implementing `decode_gop`); both hold the engine's coder as `self.coder`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from gvcodec.bitstream.syntax import PicturesUnit
from gvcodec.engines.base import EncodedUnit
from gvcodec.errors import BitstreamError
from gvcodec.io.frames import Frame


def set_threads(threads: int) -> None:
    """torch's intra-op threads (0 = leave the library default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def read_stream_params(params: dict, spec: dict[str, Callable[[Any], Any]], engine: str,
                       defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stream's engine parameters converted by `spec` (name -> type), or one BitstreamError.

    Args:
        params: the header's engine_params (any JSON value a forged stream may hold).
        spec: field name -> converter (int, float, str, list).
        engine: engine name for the message.
        defaults: values for fields that older streams do not carry.
    """
    if not isinstance(params, dict):
        raise BitstreamError(f"{engine} engine parameters are not a mapping ({type(params).__name__})")
    out = {}
    try:
        for name, kind in spec.items():
            value = params[name] if name in params or not defaults or name not in defaults else defaults[name]
            out[name] = kind(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise BitstreamError(f"{engine} engine parameters are incomplete: {exc}") from None
    return out


def unit_where(unit: PicturesUnit) -> str:
    """How messages name a unit: its index, byte offset and POC range."""
    first, count = unit.pictures[0].poc, len(unit.pictures)
    return f"unit {unit.index} at byte {unit.offset} (POC {first}..{first + count - 1})"


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
        return self.code_gop(frames, padded)

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
        try:
            return self.decode_gop(unit, where)
        except BitstreamError as exc:
            if str(exc).startswith(where):
                raise
            raise type(exc)(f"{where}: {exc}") from None

    def decode_gop(self, unit: PicturesUnit, where: str) -> list[Frame]:
        raise NotImplementedError

    @staticmethod
    def check_symbols(unit: PicturesUnit, where: str, arrays) -> None:
        """The unit's symbol hash against the decoded symbols (a mismatch is exit 2, naming the unit)."""
        if unit.symbol_hash is not None:
            from gvcodec.entropy import check_symbol_hash

            check_symbol_hash(unit.symbol_hash, *arrays, unit=where)

    def flush(self) -> list[Frame]:
        return []
