"""x264, x265 and SVT-AV1 through PyAV, in low-delay P with a constant QP.

The QP option maps directly to the encoder's constant QP (x264/x265 with ipratio = pbratio = 1,
so every picture really has that QP; IntraQPOffset becomes ipratio = 2^(-offset/6)); B-frames,
scene-cut detection and adaptive I-frames are off, so the coding structure is IPPP... with an
intra picture every IntraPeriod frames. Each packet (one picture) becomes one container unit.
The encoder's reconstruction comes from decoding its own packets with the same decoder the
`decode` command uses, so the recon file equals the decoder output by construction.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from typing import Iterable

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.engines.base import DecodeRuntime, EncodedUnit, EngineSetup
from gvcodec.engines.classical.params import ClassicalParams
from gvcodec.errors import BitstreamError, ModelError, OptionError
from gvcodec.io.frames import Frame, VideoFormat


@dataclass(frozen=True)
class CodecSpec:
    encoder: str          # FFmpeg encoder
    decoder: str          # FFmpeg decoder used by `gvcodec decode` and for the recon
    qp_range: tuple[int, int]
    pix_fmts: tuple[str, ...]
    refs: int             # reference pictures at the default presets, for the [L0 ...] log


SPECS = {
    "x264": CodecSpec("libx264", "h264", (0, 51), ("yuv420p", "yuv422p", "yuv444p", "gray",
                                                  "yuv420p10le", "yuv422p10le", "yuv444p10le", "gray10le"), 3),
    "x265": CodecSpec("libx265", "hevc", (0, 51), ("yuv420p", "yuv422p", "yuv444p", "gray", "yuv420p10le",
                                                  "yuv422p10le", "yuv444p10le", "gray10le", "yuv420p12le",
                                                  "yuv422p12le", "yuv444p12le", "gray12le"), 3),
    "svtav1": CodecSpec("libsvtav1", "libdav1d", (1, 63), ("yuv420p", "yuv420p10le"), 1),
}
SVT_PRESETS = {"ultrafast": 12, "superfast": 11, "veryfast": 10, "faster": 9, "fast": 8, "medium": 7,
               "slow": 5, "slower": 4, "veryslow": 2, "placebo": 0}


class ClassicalEngine:
    """One of the PyAV encoders, selected by `codec` (x264, x265, svtav1)."""

    def __init__(self, codec: str):
        self.codec = codec
        self.spec = SPECS[codec]

    def params(self, opts) -> ClassicalParams:
        return ClassicalParams.from_options(opts)

    def setup(self, fmt: VideoFormat, params: ClassicalParams) -> EngineSetup:
        from gvcodec.io.container import pixel_format

        pix = pixel_format(fmt)
        if pix not in self.spec.pix_fmts:
            raise OptionError(f"{self.codec} cannot code {fmt.chroma_format} {fmt.bit_depth}-bit video "
                              f"(supported: {', '.join(self.spec.pix_fmts)})")
        lo, hi = self.spec.qp_range
        if not lo <= params.qp <= hi:
            raise OptionError(f"QP {params.qp} is outside {self.codec}'s range {lo}..{hi}")
        stream_params = {"codec": self.codec, "decoder": self.spec.decoder, "pix_fmt": pix,
                         "preset": params.preset, "refs": self.spec.refs}
        return EngineSetup(engine=self.codec, alignment=1, params=stream_params, gop_frames=1)

    def encoder(self, header: SequenceHeader, params: ClassicalParams) -> "ClassicalEncoder":
        return ClassicalEncoder(self.spec, header, params)

    def decoder(self, header: SequenceHeader, runtime: DecodeRuntime) -> "ClassicalDecoder":
        return ClassicalDecoder(header, self.spec, threads=runtime.threads)


def _encoder_options(codec: str, header: SequenceHeader, cp: ClassicalParams) -> dict:
    keyint = header.intra_period if header.intra_period > 0 else -1
    ipratio = 2.0 ** (-cp.intra_qp_offset / 6.0)
    if codec == "x265":
        codec_params = (f"qp={header.qp}:bframes=0:keyint={keyint}:min-keyint={max(keyint, 1)}:scenecut=0:"
                        f"info=0:ipratio={ipratio:.4f}:pbratio=1:log-level=error")
        if cp.threads:
            codec_params += f":pools={cp.threads}:frame-threads={min(cp.threads, 4)}"
        return {"preset": cp.preset, "x265-params": codec_params}
    if codec == "x264":
        k = keyint if keyint > 0 else "infinite"
        codec_params = f"qp={header.qp}:bframes=0:keyint={k}:min-keyint={keyint if keyint > 0 else 1}:" \
                       f"scenecut=0:ipratio={ipratio:.4f}:pbratio=1"
        if cp.threads:
            codec_params += f":threads={cp.threads}"
        return {"preset": cp.preset, "x264-params": codec_params}
    preset = str(SVT_PRESETS.get(cp.preset, cp.preset))
    codec_params = f"pred-struct=1:rc=0:enable-tpl-la=0:keyint={keyint}"
    if cp.threads:
        codec_params += f":lp={cp.threads}"
    return {"preset": preset, "qp": str(header.qp), "svtav1-params": codec_params}


def _open_decoder(name: str, threads: int = 1):
    import av

    dec = av.CodecContext.create(name, "r")
    # one thread in the decoder: frame threading would delay every output picture
    dec.thread_count = 1
    return dec


class ClassicalEncoder:
    """Encoder session: frames in, one unit per packet out, each with its decoded recon."""

    def __init__(self, spec: CodecSpec, header: SequenceHeader, params: ClassicalParams):
        import av

        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr unless told not to
        self.header = header
        self.fmt = header.coded_fmt
        self.pix_fmt = header.engine_params["pix_fmt"]
        self.refs = header.engine_params["refs"]
        try:
            cc = av.CodecContext.create(spec.encoder, "w")
        except (av.error.FFmpegError, ValueError) as exc:
            raise ModelError(f"encoder {spec.encoder} is not available in this PyAV build: {exc}") from None
        cc.width, cc.height = self.fmt.width, self.fmt.height
        cc.pix_fmt = self.pix_fmt
        cc.time_base = 1 / header.frame_rate
        cc.framerate = header.frame_rate
        cc.options = _encoder_options(header.engine_params["codec"], header, params)
        try:
            cc.open()
        except av.error.FFmpegError as exc:
            raise ModelError(f"{spec.encoder} refused the settings: {exc}") from None
        self.enc = cc
        self.dec = _open_decoder(spec.decoder)
        self.packets: deque = deque()
        self.recons: deque = deque()

    def push(self, frame: Frame) -> Iterable[EncodedUnit]:
        from gvcodec.io.container import frame_to_av

        return self._collect(self.enc.encode(frame_to_av(frame, self.pix_fmt)))

    def flush(self) -> Iterable[EncodedUnit]:
        units = self._collect(self.enc.encode(None))
        self.recons.extend(self.dec.decode(None))
        return units + self._match()

    def _collect(self, packets) -> list[EncodedUnit]:
        for pkt in packets:
            self.packets.append((pkt.pts, bytes(pkt), pkt.is_keyframe))
            self.recons.extend(self.dec.decode(pkt))
        return self._match()

    def _match(self) -> list[EncodedUnit]:
        from gvcodec.io.container import av_to_planes

        units = []
        while self.packets and self.recons:
            poc, payload, key = self.packets.popleft()
            vf = self.recons.popleft()
            recon = Frame(av_to_planes(vf, self.fmt), self.fmt, poc)
            slice_type = "I" if key else "P"
            refs = () if key else tuple(range(poc - 1, max(poc - 1 - self.refs, -1), -1))
            info = PictureInfo(poc, slice_type, self.header.qp, 0, refs)
            units.append(EncodedUnit([info], payload, [recon]))
        return units


def _check_stream_params(header: SequenceHeader, spec: CodecSpec, pix: str) -> str:
    """The stream's engine parameters against its header and the codec (a forged stream: one BitstreamError);
    returns the pixel format the decoded pictures must have."""
    p = header.engine_params
    if not isinstance(p, dict):
        raise BitstreamError(f"{header.engine} engine parameters are not a mapping ({type(p).__name__})")
    if p.get("decoder") != spec.decoder:
        raise BitstreamError(f"{header.engine} stream names decoder {p.get('decoder')!r}, expected {spec.decoder!r}")
    if pix not in spec.pix_fmts:
        raise BitstreamError(f"{header.engine} cannot code {header.chroma_format} {header.internal_bit_depth}-bit "
                             "video, which the header announces")
    if p.get("pix_fmt") != pix:
        raise BitstreamError(f"{header.engine} stream's pixel format {p.get('pix_fmt')!r} does not match the header's "
                             f"{header.chroma_format} {header.internal_bit_depth}-bit ({pix})")
    refs = p.get("refs", spec.refs)
    if isinstance(refs, bool) or not isinstance(refs, int) or not 0 <= refs <= 16:
        raise BitstreamError(f"{header.engine} stream's reference count {refs!r} is outside 0..16")
    return pix


class ClassicalDecoder:
    """Decoder session: one packet per unit in, pictures out in coding (= display) order."""

    def __init__(self, header: SequenceHeader, spec: CodecSpec, threads: int = 0):
        import av

        from gvcodec.io.container import pixel_format

        self.fmt = header.coded_fmt
        self.pix_fmt = _check_stream_params(header, spec, pixel_format(self.fmt))
        try:
            self.dec = _open_decoder(spec.decoder, threads)
        except (av.error.FFmpegError, ValueError) as exc:
            raise BitstreamError(f"decoder {spec.decoder} is not available in this PyAV build: {exc}") from None
        self.pocs: deque = deque()

    def _frames(self, decoded) -> list[Frame]:
        from gvcodec.io.container import av_to_planes

        out = []
        for vf in decoded:
            if (vf.width, vf.height) != (self.fmt.width, self.fmt.height) or vf.format.name != self.pix_fmt:
                raise BitstreamError(f"decoded picture is {vf.width}x{vf.height} {vf.format.name}, header says "
                                     f"{self.fmt.width}x{self.fmt.height} {self.pix_fmt}")
            if not self.pocs:
                raise BitstreamError("the decoder produced more pictures than the units announce")
            out.append(Frame(av_to_planes(vf, self.fmt), self.fmt, self.pocs.popleft()))
        return out

    def decode(self, unit: PicturesUnit) -> list[Frame]:
        import av

        self.pocs.extend(p.poc for p in unit.pictures)
        try:
            return self._frames(self.dec.decode(av.Packet(unit.payload)))
        except av.error.FFmpegError as exc:
            raise BitstreamError(f"unit {unit.index} at byte {unit.offset}: payload does not decode: {exc}") from None

    def flush(self) -> list[Frame]:
        return self._frames(self.dec.decode(None))
