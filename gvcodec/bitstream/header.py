"""The sequence header: every parameter the decoder needs, with sane-limit validation."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fractions import Fraction

from gvcodec.errors import BitstreamError
from gvcodec.bitstream.syntax import MATRIX_CODES
from gvcodec.io.frames import CHROMA_FORMATS, VideoFormat
MAX_SIZE = 16384
MAX_PAD = 256


@dataclass
class SequenceHeader:
    """Decoder-side description of a stream (see syntax.pack_sequence_header).

    picture_hash: 0 none, 1 MD5, 2 CRC, 3 checksum per plane of every picture (HM's SEIDecodedPictureHash).
    """

    width: int
    height: int
    coded_width: int
    coded_height: int
    chroma_format: int = 420
    input_bit_depth: int = 8
    internal_bit_depth: int = 8
    output_bit_depth: int = 8
    frame_rate_num: int = 25
    frame_rate_den: int = 1
    frame_count: int = 0
    pad_mode: int = 0
    colour_matrix: str = "bt709"
    full_range: int = 0
    engine: str = ""
    model: str = ""
    config_hash: bytes = bytes(32)
    weights_sha256: bytes = bytes(32)
    qp: int = 32
    intra_period: int = -1
    gop_frames: int = 1
    picture_hash: int = 1
    engine_params: dict = field(default_factory=dict)

    @property
    def frame_rate(self) -> Fraction:
        return Fraction(self.frame_rate_num, self.frame_rate_den)

    @property
    def fmt(self) -> VideoFormat:
        """Format of the output pictures (true size, internal bit depth)."""
        return VideoFormat(self.width, self.height, self.chroma_format, self.internal_bit_depth)

    @property
    def coded_fmt(self) -> VideoFormat:
        return VideoFormat(self.coded_width, self.coded_height, self.chroma_format, self.internal_bit_depth)

    @classmethod
    def from_fields(cls, d: dict, where: str) -> "SequenceHeader":
        names = {f.name for f in fields(cls)}
        header = cls(**{k: v for k, v in d.items() if k in names})
        if not isinstance(header.engine_params, dict):
            raise BitstreamError(f"{where}: engine parameters are not a mapping")
        header.validate(where)
        return header

    def validate(self, where: str = "sequence header") -> None:
        """Reject values beyond sane limits, so a forged header cannot cause huge allocations."""
        def bad(msg: str) -> BitstreamError:
            return BitstreamError(f"{where}: {msg}")

        if not (1 <= self.width <= MAX_SIZE and 1 <= self.height <= MAX_SIZE):
            raise bad(f"picture size {self.width}x{self.height} is beyond 1..{MAX_SIZE}")
        if not (self.width <= self.coded_width <= self.width + MAX_PAD
                and self.height <= self.coded_height <= self.height + MAX_PAD):
            raise bad(f"coded size {self.coded_width}x{self.coded_height} does not fit the picture size")
        if self.chroma_format not in CHROMA_FORMATS:
            raise bad(f"chroma format {self.chroma_format} unknown")
        for name in ("input_bit_depth", "internal_bit_depth", "output_bit_depth"):
            if not 8 <= getattr(self, name) <= 16:
                raise bad(f"{name} {getattr(self, name)} is beyond 8..16")
        if self.frame_rate_num == 0 or self.frame_rate_den == 0 or self.frame_rate > 1000:
            raise bad(f"frame rate {self.frame_rate_num}/{self.frame_rate_den} is not sane")
        if self.frame_count > 10_000_000:
            raise bad(f"frame count {self.frame_count} is beyond 10^7")
        if self.colour_matrix not in MATRIX_CODES:
            raise bad(f"colour matrix `{self.colour_matrix}' unknown")
        if self.pad_mode not in (0, 1) or self.full_range not in (0, 1):
            raise bad("a flag field holds a value other than 0 or 1")
        if self.picture_hash not in (0, 1, 2, 3):
            raise bad(f"picture hash kind {self.picture_hash} unknown (0 none, 1 MD5, 2 CRC, 3 checksum)")
        if not self.engine:
            raise bad("no engine named")
