"""The engine interface every codec plugs into.

An engine is configured once per sequence (`setup`), then opens an encoder session that takes
frames one at a time and returns coded units whenever it has them (a classical encoder after
its lookahead, a GOP engine once a GOP is full), and a decoder session that turns units back
into frames. Engines see padded frames at the internal bit depth and never touch files,
options parsing or logs.

    options --params--> typed parameters --setup--> EngineSetup (into the sequence header)
    frames --push--> EncoderSession --EncodedUnit(payload, pictures, recon)--> pipeline
    PicturesUnit --decode--> DecoderSession (DecodeRuntime: device, threads) --frames--> pipeline
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.io.frames import Frame, VideoFormat


@dataclass
class EngineSetup:
    """What an engine decides before coding, written into the sequence header.

    Attributes:
        engine: engine id stored in the stream.
        model: model id ("" for classical codecs).
        alignment: the coded size must be a multiple of this.
        params: engine parameters the decoder needs (JSON-serialisable).
        config_hash / weights_sha256: 32-byte digests (zeros when not applicable).
        gop_frames: frames per coded unit (1 for frame-by-frame engines).
        settings: the exact encoder settings, for the results row (classical: FFmpeg options with the
            x265-params / x264-params / svtav1-params string); "" = none to record.
    """

    engine: str
    model: str = ""
    alignment: int = 1
    params: dict = field(default_factory=dict)
    config_hash: bytes = bytes(32)
    weights_sha256: bytes = bytes(32)
    gop_frames: int = 1
    settings: str = ""


@dataclass
class EncodedUnit:
    """One coded unit as the encoder produced it.

    Attributes:
        pictures: per-picture info (POC, slice type, QP, refs), consecutive POCs.
        payload: engine bytes for the container.
        recon: the reconstruction of each picture, as the decoder will produce it.
        picture_bits: how the payload's bits are attributed to the pictures (sums to len(payload)*8);
            None attributes the whole payload to the first picture.
        symbol_hash: 16-byte hash of the decoded symbols, if the engine entropy-codes symbols.
    """

    pictures: list[PictureInfo]
    payload: bytes
    recon: list[Frame]
    picture_bits: list[int] | None = None
    symbol_hash: bytes | None = None


class EncoderSession(Protocol):
    def push(self, frame: Frame) -> Iterable[EncodedUnit]: ...
    def flush(self) -> Iterable[EncodedUnit]: ...


class DecoderSession(Protocol):
    def decode(self, unit: PicturesUnit) -> Iterable[Frame]: ...
    def flush(self) -> Iterable[Frame]: ...


@dataclass(frozen=True)
class DecodeRuntime:
    """How a decoder runs, as opposed to what it decodes (that is all in the stream).

    Attributes:
        device: torch device of the neural engines (cpu, cuda, cuda:N).
        threads: worker threads (0 = the library's default).
        model_weights: weights file overriding the registered ones ("" = the registered ones).
    """

    device: str = "cpu"
    threads: int = 0
    model_weights: str = ""

    @classmethod
    def from_options(cls, opts) -> DecodeRuntime:
        return cls(device=opts.device, threads=opts.threads, model_weights=opts.model_weights)


class Engine(Protocol):
    """A codec: configured per sequence, then opened for encoding or decoding.

    `params(opts)` is the one place an engine reads the options: it returns the engine's typed,
    frozen encode parameters, which `setup` and `encoder` take. Decoders take a DecodeRuntime.
    `setup`'s frame_count is the number of pictures to code, or an upper bound (-f) when the input
    does not say (0 = unknown).
    """

    def params(self, opts) -> Any: ...
    def setup(self, fmt: VideoFormat, params, frame_count: int = 0) -> EngineSetup: ...
    def encoder(self, header: SequenceHeader, params) -> EncoderSession: ...
    def decoder(self, header: SequenceHeader, runtime: DecodeRuntime) -> DecoderSession: ...
