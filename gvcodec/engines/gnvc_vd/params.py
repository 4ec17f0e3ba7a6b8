"""The GNVC-VD encoder's parameters, typed and frozen, read from the options once (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass

from gvcodec.errors import OptionError


@dataclass(frozen=True)
class GnvcVdParams:
    """Everything the GNVC-VD engine needs to set up and encode (the option table checked the ranges).

    Attributes:
        model: registered model id (empty option: the default model).
        model_weights: weights file overriding the card's ("" = the card's or the seeded init).
        gop_frames: frames per GOP, 1 + 4k.
        flow_steps: refinement steps (-1 = the card's).
        flow_start_mix, flow_seed: refinement start point and noise seed.
        qp: HM-style QP, mapped onto the codec's QP indexes.
        device, precision: torch device and synthesis precision (auto, fp32, bf16).
        colour_matrix: YCbCr <-> RGB matrix of the engine's R'G'B' domain.
        threads: torch intra-op threads (0 = library default).
        check_decode: the encoder decodes its own payload before writing it.
        fingerprints: each picture carries its conformance fingerprint (with a picture hash only).
    """

    model: str
    model_weights: str = ""
    gop_frames: int = 25
    flow_steps: int = -1
    flow_start_mix: float = 0.7
    flow_seed: int = 0
    qp: int = 32
    device: str = "cpu"
    precision: str = "auto"
    colour_matrix: str = "bt709"
    threads: int = 0
    check_decode: bool = False
    fingerprints: bool = True

    def __post_init__(self) -> None:
        if (self.gop_frames - 1) % 4:
            raise OptionError(f"GOPFrames {self.gop_frames} is not 1 + 4k (e.g. 17, 21, 25, 33)")

    @classmethod
    def from_options(cls, opts) -> GnvcVdParams:
        from gvcodec.engines.registry import DEFAULT_MODEL

        return cls(model=opts.model or DEFAULT_MODEL, model_weights=opts.model_weights, gop_frames=opts.gop_frames,
                   flow_steps=opts.flow_steps, flow_start_mix=opts.flow_start_mix, flow_seed=opts.flow_seed,
                   qp=opts.qp, device=opts.device, precision=opts.precision, colour_matrix=opts.colour_matrix,
                   threads=opts.threads, check_decode=opts.check_decode,
                   fingerprints=opts.sei_decoded_picture_hash != 0)
