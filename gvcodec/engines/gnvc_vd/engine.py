"""The GNVC-VD engine: one container unit per GOP.

Encoder, per GOP of 1 + 4k frames (the last one padded in time):
    frames -> R'G'B' [-1, 1] -> VAE encode -> latents -> latent codec (payload, symbols)
    decoded latents + context -> DiT flow-matching refinement -> VAE decode -> recon pictures
Decoder: payload -> latent codec -> the same refinement and VAE decode.

The payload is exactly the latent codec's GOP payload. Its symbols are hashed into the unit
(symbol hash), so a decoder on any machine checks that entropy decoding was exact; pictures are
float synthesis and their MD5s match on the machine (and device/precision) that encoded.
Refinement parameters (steps, start mix, noise seed, context seed) and the codec QP index
travel in the header's engine parameters, so decoding needs nothing but the stream and weights.
"""

from __future__ import annotations

import contextlib
from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.engines.base import DecodeRuntime, EncodedUnit, EngineSetup
from gvcodec.engines.gnvc_vd import gop as goplib
from gvcodec.engines.gnvc_vd.params import GnvcVdParams
from gvcodec.engines.conformance import FINGERPRINT_ID
from gvcodec.engines.neural import Field, GopDecoder, GopEncoder, check_gop_frames, read_stream_params, set_threads
from gvcodec.errors import BitstreamError, ModelError, OptionError
from gvcodec.io.colour import MATRICES
from gvcodec.io.frames import Frame, VideoFormat
from gvcodec.models.gnvc_vd.cards import card
from gvcodec.models.gnvc_vd.loading import check_stream_model, load_model

ENGINE_ID = "gnvc-vd"
ALIGNMENT = 64          # coded size: multiple of 64 (VAE /8, codec hyper-latents /8 of that)
QP_FINEST, QP_COARSEST = 12, 47  # HM QPs mapped onto the codec's QP indexes (see qp_index)


def qp_index(qp: int, levels: int) -> int:
    """HM-style QP -> latent-codec QP index (0 = coarsest).

    QP 47..12 spread linearly over indexes 0..levels-1 (with 8 levels: one index per 5 QP, so
    the CTC QPs 22/27/32/37 are distinct rate points); QPs outside clamp to the ends.
    """
    pos = (QP_COARSEST - qp) * (levels - 1) / (QP_COARSEST - QP_FINEST)
    return int(min(max(round(pos), 0), levels - 1))


def _device_and_dtype(device: str, precision: str):
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"--Device={device}: CUDA is not available on this machine")
    if precision == "auto":
        precision = "bf16" if dev.type == "cuda" else "fp32"
    if precision == "bf16" and dev.type != "cuda":
        raise OptionError("--Precision=bf16 needs --Device=cuda (CPU synthesis runs in fp32)")
    return str(dev), precision


def _autocast(device: str, precision: str):
    import torch

    if precision == "bf16":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class GnvcVdEngine:
    """GNVC-VD: causal 3D VAE, contextual latent codec and VideoDiT refinement."""

    def params(self, opts) -> GnvcVdParams:
        return GnvcVdParams.from_options(opts)

    def setup(self, fmt: VideoFormat, params: GnvcVdParams, frame_count: int = 0) -> EngineSetup:
        from gvcodec.models.gnvc_vd.config import load_config

        model_card = card(params.model)
        steps = model_card.flow_steps if params.flow_steps < 0 else params.flow_steps
        device, precision = _device_and_dtype(params.device, params.precision)
        model, digest, _ = load_model(params.model, params.model_weights, device)
        stream_params = {
            "qp_index": qp_index(params.qp, model.codec.cfg.qp_levels),
            "flow_steps": steps, "flow_start_mix": params.flow_start_mix,
            "flow_seed": params.flow_seed, "context_seed": model_card.context_seed,
            "precision": precision, "matrix": params.colour_matrix,
            **({"fingerprint": FINGERPRINT_ID} if params.fingerprints else {}),
        }
        return EngineSetup(engine=ENGINE_ID, model=params.model, alignment=ALIGNMENT, params=stream_params,
                           config_hash=load_config(model_card.config).digest, weights_sha256=digest,
                           gop_frames=params.gop_frames)

    def encoder(self, header: SequenceHeader, params: GnvcVdParams) -> "GnvcVdEncoder":
        runtime = DecodeRuntime(params.device, params.threads, params.model_weights)
        return GnvcVdEncoder(_Coder(header, runtime), header.gop_frames, params.check_decode)

    def decoder(self, header: SequenceHeader, runtime: DecodeRuntime) -> "GnvcVdDecoder":
        return GnvcVdDecoder(_Coder(header, runtime))


# The stream's engine parameters and their types
# (bounded as the options are: FlowSteps 0..100, FlowStartMix 0..1, FlowSeed 0..2^31-1; the QP index is
# checked against the model's levels once it is loaded)
STREAM_PARAMS = {"qp_index": Field(int, 0, 255), "flow_steps": Field(int, 0, 100),
                 "flow_start_mix": Field(float, 0.0, 1.0), "flow_seed": Field(int, 0, 2**31 - 1),
                 "context_seed": Field(int, 0, 2**63 - 1), "precision": Field(str, choices=("fp32", "bf16")),
                 "matrix": Field(str, choices=tuple(MATRICES)),
                 "fingerprint": Field(str, choices=("", FINGERPRINT_ID))}  # "": no fingerprints (picture hash off)


class _Coder:
    """What encoder and decoder share: the model, the stream's parameters and the synthesis."""

    def __init__(self, header: SequenceHeader, runtime: DecodeRuntime):
        from gvcodec.models.gnvc_vd.config import load_config

        set_threads(runtime.threads)
        p = read_stream_params(header.engine_params, STREAM_PARAMS, "GNVC-VD", defaults={"fingerprint": ""})
        check_gop_frames(header.gop_frames, "GNVC-VD")
        if (header.gop_frames - 1) % 4:
            raise BitstreamError(f"GNVC-VD GOP of {header.gop_frames} frames is not 1 + 4k")
        self.fingerprints = p["fingerprint"] == FINGERPRINT_ID
        self.qp = p["qp_index"]
        self.steps, self.mix, self.seed = p["flow_steps"], p["flow_start_mix"], p["flow_seed"]
        precision, self.matrix = p["precision"], p["matrix"]
        try:
            name_cfg = card(header.model).config
        except ModelError as exc:
            raise BitstreamError(f"stream needs {exc}") from None
        if precision == "bf16" and not runtime.device.startswith("cuda"):
            raise OptionError("this stream was synthesised in bf16 on CUDA: decode it with --Device=cuda")
        device, self.precision = _device_and_dtype(runtime.device, precision)
        self.model, digest, weights = load_model(header.model, runtime.model_weights, device)
        check_stream_model(header, digest, load_config(name_cfg).digest, weights)
        if not 0 <= self.qp < self.model.codec.cfg.qp_levels:
            raise BitstreamError(f"QP index {self.qp} is outside the model's 0..{self.model.codec.cfg.qp_levels - 1}")
        self.device = device
        self.header = header
        self.fmt = header.coded_fmt
        self.full_range = bool(header.full_range)
        self.context = self.model.context(p["context_seed"])

    def latent_shape(self, coded_frames: int) -> tuple[int, ...]:
        vae = self.model.vae.cfg
        s = vae.spatial_stride
        return (1, vae.z_dim, vae.latent_frames(coded_frames), self.fmt.height // s, self.fmt.width // s)

    def synthesise(self, latents, context, first_poc: int, count: int) -> list[Frame]:
        """Decoded latents (+ codec context) -> refined latents -> pictures (identical in enc/dec)."""
        import torch

        from gvcodec.engines.gnvc_vd.video import video_to_frames
        from gvcodec.models.gnvc_vd.flow import refine

        with torch.no_grad(), _autocast(self.device, self.precision):
            x = latents.to(self.device)
            if self.steps > 0:
                cond = torch.cat([x, context.to(self.device)], dim=1)
                x = refine(self.model.dit, x, self.context, cond, self.steps, self.mix, self.seed + first_poc)
            frames = []
            for chunk in self.model.vae.decode_iter(x):  # one latent at a time: memory stays flat
                frames.extend(video_to_frames(chunk, self.fmt, self.matrix, self.full_range,
                                              first_poc + len(frames), min(chunk.shape[2], count - len(frames))))
                if len(frames) >= count:
                    break
        return frames

    def pictures(self, first_poc: int, count: int) -> list[PictureInfo]:
        return [PictureInfo(first_poc + i, "I" if i == 0 else "P", self.header.qp, 0,
                            () if i == 0 else (first_poc + i - 1,)) for i in range(count)]


class GnvcVdEncoder(GopEncoder):
    """Collects GOPFrames frames, then codes them as one unit."""

    def __init__(self, coder: _Coder, gop_frames: int, check_decode: bool):
        super().__init__(coder, gop_frames)
        self.check_decode = check_decode

    def coded_frames(self, count: int) -> int:
        return goplib.coded_length(count)

    def code_gop(self, frames: list[Frame], padded: list[Frame]) -> EncodedUnit:
        import torch

        from gvcodec.engines.gnvc_vd.video import frames_to_video
        from gvcodec.entropy import symbol_hash

        c = self.coder
        count, first = len(frames), frames[0].poc
        video = frames_to_video(padded, c.matrix, c.full_range).to(c.device)
        with torch.no_grad(), _autocast(c.device, c.precision):
            latents = c.model.vae.encode(video).float()
        gop = c.model.codec.compress(latents, c.qp, check_decode=self.check_decode)
        recon = c.synthesise(gop.latents, gop.context, first, count)
        header_bytes = len(gop.payload) - sum(gop.latent_bytes)
        bits = goplib.picture_bits(header_bytes, gop.latent_bytes, count)
        symbols = [s for latent in gop.symbols for s in latent]
        return EncodedUnit(c.pictures(first, count), gop.payload, recon, bits, symbol_hash(*symbols))


class GnvcVdDecoder(GopDecoder):
    """One unit (GOP) in, its pictures out."""

    def decode_gop(self, unit: PicturesUnit, where: str) -> list[Frame]:
        c = self.coder
        count, first = len(unit.pictures), unit.pictures[0].poc
        shape = c.latent_shape(goplib.coded_length(count))
        latents, context, symbols = c.model.codec.decompress_with_symbols(unit.payload, shape, c.qp)
        self.check_symbols(unit, where, [s for latent in symbols for s in latent])
        return c.synthesise(latents, context, first, count)
