"""The GIViC engine: random access, one unit per GOP (32 frames unless GOPFrames says otherwise).

Each GOP is coded independently (intra period = GOP): its latent grids, initial hidden states
and parameter updates are optimized at encode time (OverfitSteps; 0 = the seed's "w/o overfit"),
entropy-coded, and decoded by sampling the HGLA diffusion model (DiffusionSteps). The last GOP
is padded temporally by repeating its last frame; the padded frames are coded but never output.
The encoder's reconstruction is the decoder's output on the very payload it wrote.

Stream parameters (engine_params): model name and the weights record (seeded init or
checkpoint), diffusion steps, the fine-tuned parameter subset; the sequence header carries the
config hash, the weights' SHA-256 and the GOP length, all checked by the decoder.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.engines.base import DecodeRuntime, EncodedUnit, EngineSetup
from gvcodec.engines.givic.params import GivicParams
from gvcodec.engines.conformance import FINGERPRINT_ID
from gvcodec.engines.neural import Field, GopDecoder, GopEncoder, check_gop_frames, read_stream_params, set_threads
from gvcodec.errors import BitstreamError, ModelError, OptionError
from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.models.givic.config import OVERFIT_SUBSETS

ENGINE_ID = "givic"


def _gop_frames(given: int | None, cfg, weights: str, from_cfg: int | None = None) -> int:
    """GOPFrames from the command line, else the GOP length the weights were trained for, else
    GOPFrames from a cfg file, else the model config's."""
    from gvcodec.models.givic.loading import read_metadata

    if given is not None:
        return given
    trained = read_metadata(weights).get("gop_frames") if weights else None
    if trained:
        return int(trained)
    return from_cfg if from_cfg is not None else cfg.gop_frames


def _load(name: str, model_weights: str, device: str, gop_frames: int | None = None, from_stream: bool = False,
          cfg_gop_frames: int | None = None):
    """(config, overfit config, model, weights digest, weights record, GOP length) of a model name.

    gop_frames: the GOP length (the stream's, or GOPFrames from the command line); None = the weights'
    own, else cfg_gop_frames (GOPFrames from a cfg file), else the config's."""
    from gvcodec.models.checkpoint import file_stamp
    from gvcodec.models.givic.cards import card, weights_for
    from gvcodec.models.givic.config import load_givic_config, load_overfit_config

    if not name.startswith("givic-"):
        raise ModelError(f"model `{name}' is not a GIViC model")
    config = card(name).config
    cfg = load_givic_config(config)
    weights = weights_for(name, model_weights)
    gop = gop_frames if from_stream else _gop_frames(gop_frames, cfg, weights, cfg_gop_frames)
    model, digest, record = _loaded(config, weights, file_stamp(weights), gop, device)
    return cfg, load_overfit_config(config), model, digest, dict(record), gop


@lru_cache(maxsize=2)
def _loaded(config: str, weights: str, stamp: tuple, gop: int, device: str):
    """One load per process: encode's setup and its coder need the same model (never modified:
    the overfit loop applies its updates through functional_call)."""
    from gvcodec.models.givic.config import load_givic_config
    from gvcodec.models.givic.loading import load_model

    return load_model(config, load_givic_config(config), weights, gop, device)


class GivicEngine:
    """GIViC models givic-tiny, givic-s, givic-m, givic-original."""

    def params(self, opts) -> GivicParams:
        return GivicParams.from_options(opts)

    def setup(self, fmt: VideoFormat, params: GivicParams, frame_count: int = 0) -> EngineSetup:

        if fmt.chroma_format != 420:
            raise OptionError(f"GIViC codes YUV 4:2:0 only (input is {fmt.chroma_format})")
        name = params.model
        cfg, ocfg, model, digest, record, gop = _load(name, params.model_weights, params.device, params.gop_frames,
                                                      cfg_gop_frames=params.cfg_gop_frames)
        steps = params.diffusion_steps or cfg.sample_steps
        stream_params = {"model": name, "diffusion_steps": steps, "overfit_params": list(ocfg.params),
                         "grid_step": ocfg.grid_step_for_qp(params.qp),
                         **({"fingerprint": FINGERPRINT_ID} if params.fingerprints else {}), **record}
        return EngineSetup(engine=ENGINE_ID, model=name, alignment=cfg.alignment, params=stream_params,
                           config_hash=cfg.digest, weights_sha256=digest, gop_frames=gop)

    def encoder(self, header: SequenceHeader, params: GivicParams) -> "GivicEncoder":
        runtime = DecodeRuntime(params.device, params.threads, params.model_weights)
        return GivicEncoder(_Coder(header, runtime), params)

    def decoder(self, header: SequenceHeader, runtime: DecodeRuntime) -> "GivicDecoder":
        return GivicDecoder(_Coder(header, runtime))


# The stream's engine parameters and their types (grid_step: 1 in streams before per-QP grid steps)
STREAM_PARAMS = {"diffusion_steps": Field(int, 1, 1000), "overfit_params": Field(list, 0, 4, OVERFIT_SUBSETS),
                 "init": Field(str, choices=("seeded", "checkpoint")), "grid_step": Field(float, 1e-3, 1e3),
                 "fingerprint": Field(str, choices=("", FINGERPRINT_ID))}  # "": no fingerprints (picture hash off)


class _Coder:
    """What encoder and decoder share: the model checked against the stream, and the GOP codec."""

    def __init__(self, header: SequenceHeader, runtime: DecodeRuntime):
        from gvcodec.models.givic.codec import GivicCodec

        set_threads(runtime.threads)
        p = read_stream_params(header.engine_params, STREAM_PARAMS, "GIViC", defaults={"grid_step": 1.0, "fingerprint": ""})
        self.fingerprints = p["fingerprint"] == FINGERPRINT_ID
        steps, subsets, init, grid_step = p["diffusion_steps"], p["overfit_params"], p["init"], p["grid_step"]
        from gvcodec.models.givic.cards import card

        check_gop_frames(header.gop_frames, "GIViC")
        if not header.model.startswith("givic-"):
            raise BitstreamError(f"stream names model `{header.model}', which is not a GIViC model")
        try:
            card(header.model)
        except ModelError as exc:
            raise BitstreamError(f"stream needs {exc}") from None
        try:
            cfg, ocfg, model, digest, record, _ = _load(header.model, runtime.model_weights, runtime.device,
                                                        header.gop_frames, from_stream=True)
        except ModelError as exc:
            raise ModelError(f"stream needs {header.model}: {exc}") from None
        if cfg.digest != header.config_hash:
            raise ModelError(f"stream was coded with another {header.model} configuration (config hash "
                             f"{header.config_hash.hex()[:16]}.., this gvcodec has {cfg.digest.hex()[:16]}..)")
        if digest != header.weights_sha256:
            if init == "seeded" and not runtime.model_weights:
                raise ModelError(f"the seeded initialization of {header.model} differs from the encoder's "
                                 f"(weights sha256 {header.weights_sha256.hex()[:16]}.. vs {digest.hex()[:16]}..); "
                                 "another torch version?")
            want = "its seeded initialization (give no ModelWeights)" if init == "seeded" else \
                "a checkpoint (give it with --ModelWeights)"
            raise ModelError(f"stream was coded with {header.model} weights sha256 {header.weights_sha256.hex()[:16]}.., "
                             f"the weights given have {digest.hex()[:16]}..; it needs {want}")
        self.codec = GivicCodec(model, ocfg, steps, subsets, grid_step)
        self.cfg, self.ocfg = cfg, ocfg
        self.header = header
        self.fmt = header.coded_fmt
        self.gop = header.gop_frames
        self.size = (self.gop, self.fmt.height, self.fmt.width)
        self.codec.model.check_size(self.size)

    def pictures(self, first: int, count: int) -> list[PictureInfo]:
        return [PictureInfo(first + i, "I" if i == 0 else "B", self.header.qp, 0 if i == 0 else 1,
                            () if i == 0 else (first,)) for i in range(count)]

    def frames(self, x, first: int, count: int) -> list[Frame]:
        from gvcodec.models.givic.codec import video_to_planes

        y, u, v = self.codec.model.planes(x)
        planes = video_to_planes(y, u, v, self.fmt.bit_depth)
        return [Frame(planes[i], self.fmt, first + i) for i in range(count)]


class GivicEncoder(GopEncoder):
    """Collects a GOP of frames, overfits and codes it as one unit."""

    def __init__(self, coder: _Coder, params: GivicParams):
        super().__init__(coder, coder.gop)
        o = coder.ocfg
        self.steps = params.overfit_steps if params.overfit_steps >= 0 else o.steps
        self.warm = params.init_from_previous_gop
        self.warm_steps = params.overfit_steps if params.overfit_steps >= 0 else o.warm_steps
        self.lam = params.overfit_lambda or o.lambda_for_qp(params.qp)
        if params.overfit_objective != "auto":  # encoder-side only: the decoder never runs the loop
            coder.codec.ocfg = dataclasses.replace(o, objective=params.overfit_objective)
        self.previous = None

    def coded_frames(self, count: int) -> int:
        return self.coder.gop

    def code_gop(self, frames: list[Frame], padded: list[Frame]) -> EncodedUnit:
        from gvcodec.models.givic.codec import planes_to_video

        c = self.coder
        count, first = len(frames), frames[0].poc
        video = planes_to_video([f.planes for f in padded], c.fmt.bit_depth, count, c.codec.device)
        seed = first
        init = self.previous if self.warm else None
        steps = self.warm_steps if init is not None else self.steps
        params = c.codec.fit(video, steps, self.lam, seed, init=init)
        self.previous = params
        payload, digest = c.codec.encode(params, count, seed)
        where = f"GOP at POC {first}"
        dec, x = c.codec.decode(payload, c.size, where)
        if dec.symbol_hash != digest:
            raise ModelError(f"{where}: the payload does not decode to the coded symbols (internal error)")
        bits = len(payload) * 8
        share = [bits // count] * count
        share[0] += bits - sum(share)
        return EncodedUnit(c.pictures(first, count), payload, c.frames(x, first, count), share, digest)


class GivicDecoder(GopDecoder):
    """One unit (GOP) in, its pictures out."""

    def decode_gop(self, unit: PicturesUnit, where: str) -> list[Frame]:
        c = self.coder
        count, first = len(unit.pictures), unit.pictures[0].poc
        if count > c.gop:
            raise BitstreamError(f"{where}: {count} pictures in a unit, the stream's GOP is {c.gop} frames")
        dec, x = c.codec.decode(unit.payload, c.size, where)
        if dec.valid != count:
            raise BitstreamError(f"{where}: payload codes {dec.valid} frames, the unit announces {count}")
        self.check_symbols(unit, where, _hash_arrays(dec))
        return c.frames(x, first, count)


def _hash_arrays(dec):
    import numpy as np

    return [np.asarray(dec.indexes, np.int32)] + [t.detach().cpu().numpy().astype(np.int64).reshape(-1)
                                                  for _, t in dec.params.items()]
