"""The GIViC encoder's parameters, typed and frozen, read from the options once (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GivicParams:
    """Everything the GIViC engine needs to set up and encode (the option table checked the ranges).

    Attributes:
        model: registered model id (empty option: givic-tiny).
        model_weights: weights file overriding the card's ("" = the card's or the seeded init).
        gop_frames: frames per GOP when GOPFrames was given on the command line (it wins); None = the
            GOP the weights were trained for, else `cfg_gop_frames`, else the model config's.
        cfg_gop_frames: GOPFrames from a cfg file (-c): a coding-structure file shared by every codec,
            so it yields to the weights' own GOP length; None = not set by a cfg file.
        diffusion_steps: sampling steps (0 = the model's).
        qp: HM-style QP (grid step and lambda).
        device, threads: torch device and intra-op threads (0 = library default).
        overfit_steps: per-GOP overfit steps (-1 = the model's, 0 = none).
        init_from_previous_gop: warm-start each GOP's overfitting from the previous GOP.
        overfit_objective: auto (the model's), sample or denoise.
        overfit_lambda: lambda of rate + lambda x MSE (0 = from QP).
        fingerprints: each picture carries its conformance fingerprint (with a picture hash only).
    """

    model: str = "givic-tiny"
    model_weights: str = ""
    gop_frames: int | None = None
    cfg_gop_frames: int | None = None
    diffusion_steps: int = 0
    qp: int = 32
    device: str = "cpu"
    threads: int = 0
    overfit_steps: int = -1
    init_from_previous_gop: bool = False
    overfit_objective: str = "auto"
    overfit_lambda: float = 0.0
    fingerprints: bool = True

    @classmethod
    def from_options(cls, opts) -> GivicParams:
        return cls(model=opts.model or "givic-tiny", model_weights=opts.model_weights,
                   gop_frames=opts.gop_frames if _on_command_line(opts, "GOPFrames") else None,
                   cfg_gop_frames=opts.gop_frames if "GOPFrames" in opts.explicit else None,
                   diffusion_steps=opts.diffusion_steps, qp=opts.qp, device=opts.device, threads=opts.threads,
                   overfit_steps=opts.overfit_steps, init_from_previous_gop=opts.init_from_previous_gop,
                   overfit_objective=opts.overfit_objective, overfit_lambda=opts.overfit_lambda,
                   fingerprints=opts.sei_decoded_picture_hash != 0)


def _on_command_line(opts, key: str) -> bool:
    """Options from options.parse know where a key was set; anything else counts `explicit` as given."""
    check = getattr(opts, "on_command_line", None)
    return check(key) if check is not None else key in opts.explicit
