"""x264, x265 and SVT-AV1 through PyAV, with a constant QP, in low delay P or random access.

The QP option maps to the encoder's constant QP of the P pictures; I (and B) pictures get the
encoder's own offsets (x264/x265 ipratio 1.4, pbratio 1.3) unless IntraQPOffset is given
(ipratio = 2^(-offset/6)); the structure comes from GOPSize / IntraPeriod / the HM GOP table
(engines/classical/params.py). With a complete GOP table, x264 and x265 code every non-intra picture
at HM's QP for it through `zones` (`_zones`), placed with the picture types and coding order of a
blank probe encode of the same structure (placement is fixed, so the probe is exact). Scene-cut detection and adaptive B placement are off. Each packet
(one picture, in coding order) becomes one container unit whose POC is the packet's timestamp.
The encoder's reconstruction comes from decoding its own packets with the same decoder the
`decode` command uses, so the recon file equals the decoder output by construction.
"""

from __future__ import annotations

import functools
import math
import os
from collections import deque
from dataclasses import replace
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PictureInfo, PicturesUnit
from gvcodec.engines.base import DecodeRuntime, EncodedUnit, EngineSetup
from gvcodec.engines.classical.nal import picture_type
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
# x265's rc-lookahead per preset: it must exceed the B-frame run, so a longer run raises it
X265_LOOKAHEAD = {"ultrafast": 5, "superfast": 10, "veryfast": 15, "faster": 15, "fast": 15, "medium": 20,
                  "slow": 25, "slower": 40, "veryslow": 40, "placebo": 60}
SVT_PRESETS = {"ultrafast": 12, "superfast": 11, "veryfast": 10, "faster": 9, "fast": 8, "medium": 7,
               "slow": 5, "slower": 4, "veryslow": 2, "placebo": 0}


class ClassicalEngine:
    """One of the PyAV encoders, selected by `codec` (x264, x265, svtav1)."""

    def __init__(self, codec: str):
        self.codec = codec
        self.spec = SPECS[codec]
        self.frame_count = 0  # setup's, so the encoder runs with the options the results row records

    def params(self, opts) -> ClassicalParams:
        return ClassicalParams.from_options(opts)

    def setup(self, fmt: VideoFormat, params: ClassicalParams, frame_count: int = 0) -> EngineSetup:
        from gvcodec.io.container import pixel_format

        pix = pixel_format(fmt)
        if pix not in self.spec.pix_fmts:
            raise OptionError(f"{self.codec} cannot code {fmt.chroma_format} {fmt.bit_depth}-bit video "
                              f"(supported: {', '.join(self.spec.pix_fmts)})")
        lo, hi = self.spec.qp_range
        if not lo <= params.qp <= hi:
            raise OptionError(f"QP {params.qp} is outside {self.codec}'s range {lo}..{hi}")
        self.frame_count = frame_count
        options = encoder_options(self.codec, params, frame_count)
        settings = " ".join(f"{k}={v}" for k, v in options.items())
        return EngineSetup(engine=self.codec, alignment=1, params={}, gop_frames=1, settings=settings)

    def encoder(self, header: SequenceHeader, params: ClassicalParams) -> "ClassicalEncoder":
        return ClassicalEncoder(self.codec, header, params, self.frame_count or header.frame_count)

    def decoder(self, header: SequenceHeader, runtime: DecodeRuntime) -> "ClassicalDecoder":
        return ClassicalDecoder(header, self.spec, threads=runtime.threads)


def nominal_qps(codec: str, cp: ClassicalParams, table: bool = False) -> dict[str, int]:
    """The QP each picture type gets in constant-QP mode (I, P, B kept as reference, b not kept):
    x264/x265 round QP - 6 log2(ipratio) and QP + 6 log2(pbratio); a reference B sits half way.
    `table`: the GOP table's zones are in use (pbratio 1)."""
    if codec == "svtav1":
        return {"I": cp.qp, "P": cp.qp, "B": cp.qp, "b": cp.qp}
    ip = 6 * math.log2(1.4) if cp.intra_qp_offset is None else -cp.intra_qp_offset
    pb = 0.0 if table else 6 * math.log2(1.3)
    return {"I": int(cp.qp - ip + 0.5), "P": cp.qp, "B": int(cp.qp + pb / 2 + 0.5), "b": int(cp.qp + pb + 0.5)}


def table_qps(codec: str, cp: ClassicalParams, frame_count: int) -> dict[int, int]:
    """POC -> slice QP from the cfg's GOP table for the pictures x264/x265 code at it ({} when the
    codec is SVT-AV1, there is no complete table, or the frame count is unknown)."""
    if codec not in ("x264", "x265") or not cp.gop or frame_count <= 0:
        return {}
    qps = {poc: cp.table_qp(poc, SPECS[codec].qp_range) for poc in range(frame_count)}
    return {poc: qp for poc, qp in qps.items() if qp is not None}


@functools.lru_cache(maxsize=8)
def coded_structure(codec: str, cp: ClassicalParams, frame_count: int) -> tuple[tuple[int, str, bool], ...]:
    """(POC, slice type, kept as reference) of each picture in coding order for this structure: a
    blank 64x64 encode with the same B-frame, pyramid, keyint and lookahead settings (placement is
    fixed, so content plays no part; about 0.1 s for 100 pictures)."""
    import av

    spec = SPECS[codec]
    try:
        cc = av.CodecContext.create(spec.encoder, "w")
        cc.width = cc.height = 64
        cc.pix_fmt = "yuv420p"
        cc.time_base = Fraction(1, 25)
        cc.options = encoder_options(codec, replace(cp, threads=1, gop=()))
        cc.open()
    except (av.error.FFmpegError, ValueError) as exc:
        raise ModelError(f"{spec.encoder} refused the settings: {exc}") from None
    blank = av.VideoFrame(64, 64, "yuv420p")
    for plane in blank.planes:
        plane.update(bytes(plane.buffer_size))
    packets = []
    for poc in range(frame_count):
        blank.pts = poc
        packets += cc.encode(blank)
    packets += cc.encode(None)
    out = []
    for pkt in packets:
        kind, _, is_ref = picture_type(codec, bytes(pkt)) or ("P", 0, True)
        out.append((int(pkt.pts), kind, is_ref))
    return tuple(out)


def _zones(codec: str, cp: ClassicalParams, frame_count: int) -> tuple[str, float]:
    """The `zones` value giving each table picture its QP, and the pbratio to run with.

    A zone's QP moves a picture from the P QP: final = type QP + zone - P QP (x264 and x265 alike;
    a reference B takes the mean of the B and P QPs, rounded down). x265 numbers zones in coding
    order from 1 (its rate control matches zone s,e to the pictures it has coded s-1..e-1 before
    this one) and keeps pbratio 1, so zone = final. x264 numbers them in display order from 0 and
    clamps a constant-QP picture's QP to [min, max] of its I/P/B QPs, so pbratio is raised to put
    the B QP at the highest table QP, and each B picture's zone takes that offset back out; a table
    QP below the intra QP, or more than 20 above P (x264's pbratio stops at 10), is an OptionError.
    """
    qps = table_qps(codec, cp, frame_count)
    if not qps:
        return "", 1.0
    structure = coded_structure(codec, cp, frame_count)
    kinds = {poc: (kind, ref) for poc, kind, ref in structure}
    qps = {poc: qp for poc, qp in qps.items() if kinds.get(poc, ("P", True))[0] != "I"}  # the probe's I too
    if codec == "x265":
        slots = [(i + 1, qps.get(poc)) for i, (poc, _, _) in enumerate(structure)]
        return _runs(slots), 1.0
    floor = min(nominal_qps(codec, cp).values())  # pbratio 1: min of the I and P QPs
    if qps and min(qps.values()) < floor:
        low = min(qps.values())
        raise OptionError(f"x264 cannot code the GOP table's QP {low} below its intra QP {floor} in constant-QP "
                          f"mode (it clamps every picture to the span of its I/P/B QPs); give IntraQPOffset "
                          f"{low - cp.qp} or lower, or use x265")
    lift = max([0, *(qp - cp.qp for qp in qps.values())])
    if lift > 20:
        raise OptionError(f"x264 codes B pictures at most 20 QP above P (pbratio 10) and so cannot reach the GOP "
                          f"table's QP {cp.qp + lift} from QP {cp.qp}; use x265")
    slots = []
    for poc in range(frame_count):
        qp = qps.get(poc)
        kind, ref = kinds.get(poc, ("P", True))
        if qp is not None and kind == "B":
            qp -= lift // 2 if ref else lift
        slots.append((poc, qp))
    return _runs(slots), 2.0 ** (lift / 6.0)


def _runs(slots: list[tuple[int, int | None]]) -> str:
    """`zones` text for (slot, QP) pairs: consecutive slots of one QP merged, None skipped."""
    runs: list[list[int]] = []
    for slot, qp in slots:
        if qp is None:
            continue
        if runs and runs[-1][1] == slot - 1 and runs[-1][2] == qp:
            runs[-1][1] = slot
        else:
            runs.append([slot, slot, qp])
    return "/".join(f"{a},{b},q={q}" for a, b, q in runs)


def encoder_options(codec: str, cp: ClassicalParams, frame_count: int = 0) -> dict:
    """The FFmpeg options of the encoder (x265-params / x264-params / svtav1-params strings);
    `frame_count` pictures, or an upper bound when the input does not say (the GOP table's zones need
    it; 0 = unknown: no zones). With an upper bound, x265's coding order of the last B run can differ
    from the probe's if the input ends earlier, and so can those pictures' QPs.

    The results row's `encoder_settings` records them exactly (bench/anchors.py runs x265 with them).
    """
    keyint = cp.intra_period if cp.intra_period > 0 else -1
    ratio = "" if cp.intra_qp_offset is None else f":ipratio={2.0 ** (-cp.intra_qp_offset / 6.0):.4f}"
    zones, pbratio = _zones(codec, cp, frame_count)
    if zones:
        ratio += f":pbratio={pbratio:.4f}:zones={zones}"
    if codec == "x265":
        gop = f"bframes={cp.bframes}" + (":b-adapt=0:b-pyramid=1" if cp.bframes else "")
        if cp.bframes and cp.bframes >= X265_LOOKAHEAD.get(cp.preset, 20):
            gop += f":rc-lookahead={cp.bframes + 1}"
        codec_params = (f"qp={cp.qp}:{gop}:keyint={keyint}:min-keyint={max(keyint, 1)}:scenecut=0:"
                        f"info=0{ratio}:log-level=error")
        if cp.threads:
            codec_params += f":pools={cp.threads}:frame-threads={min(cp.threads, 4)}"
        return {"preset": cp.preset, "x265-params": codec_params}
    if codec == "x264":
        k = keyint if keyint > 0 else "infinite"
        gop = f"bframes={cp.bframes}" + (":b-adapt=0:b-pyramid=normal" if cp.bframes else "")
        codec_params = f"qp={cp.qp}:{gop}:keyint={k}:min-keyint={keyint if keyint > 0 else 1}:scenecut=0{ratio}"
        if cp.threads:
            codec_params += f":threads={cp.threads}"
        return {"preset": cp.preset, "x264-params": codec_params}
    preset = str(SVT_PRESETS.get(cp.preset, cp.preset))
    if cp.bframes:
        levels = min(max(round(math.log2(cp.bframes + 1)), 2), 5)  # SVT-AV1 supports 2..5
        structure = f"pred-struct=2:hierarchical-levels={levels}"
    else:
        structure = "pred-struct=1"
    codec_params = f"{structure}:rc=0:enable-tpl-la=0:keyint={keyint}"
    if cp.threads:
        codec_params += f":lp={cp.threads}"
    return {"preset": preset, "qp": str(cp.qp), "svtav1-params": codec_params}


def _open_decoder(name: str, threads: int = 1):
    import av

    dec = av.CodecContext.create(name, "r")
    # one thread in the decoder: frame threading would delay every output picture
    dec.thread_count = 1
    return dec


class ClassicalEncoder:
    """Encoder session: frames in, one unit per packet out (coding order), each with its decoded recon."""

    def __init__(self, codec: str, header: SequenceHeader, params: ClassicalParams, frame_count: int = 0):
        import av

        from gvcodec.io.container import pixel_format

        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr unless told not to
        spec = SPECS[codec]
        self.codec = codec
        self.header = header
        self.fmt = header.coded_fmt
        self.pix_fmt = pixel_format(self.fmt)
        self.refs = spec.refs
        self.table_qps = table_qps(codec, params, frame_count)
        self.qps = nominal_qps(codec, params, table=bool(self.table_qps))
        try:
            cc = av.CodecContext.create(spec.encoder, "w")
        except (av.error.FFmpegError, ValueError) as exc:
            raise ModelError(f"encoder {spec.encoder} is not available in this PyAV build: {exc}") from None
        cc.width, cc.height = self.fmt.width, self.fmt.height
        cc.pix_fmt = self.pix_fmt
        cc.time_base = 1 / header.frame_rate
        cc.framerate = header.frame_rate
        cc.options = encoder_options(codec, params, frame_count)
        try:
            cc.open()
        except av.error.FFmpegError as exc:
            raise ModelError(f"{spec.encoder} refused the settings: {exc}") from None
        self.enc = cc
        self.dec = _open_decoder(spec.decoder)
        self.packets: deque = deque()
        self.recons: dict = {}
        self.coded: list[int] = []  # POCs coded so far, in coding order

    def push(self, frame: Frame) -> Iterable[EncodedUnit]:
        from gvcodec.io.container import frame_to_av

        return self._collect(self.enc.encode(frame_to_av(frame, self.pix_fmt)))

    def flush(self) -> Iterable[EncodedUnit]:
        units = self._collect(self.enc.encode(None))
        for vf in self.dec.decode(None):
            self.recons[vf.pts] = vf
        return units + self._match()

    def _collect(self, packets) -> list[EncodedUnit]:
        for pkt in packets:
            self.packets.append((pkt.pts, bytes(pkt), pkt.is_keyframe))
            for vf in self.dec.decode(pkt):
                self.recons[vf.pts] = vf
        return self._match()

    def _picture(self, poc: int, payload: bytes, key: bool) -> PictureInfo:
        found = picture_type(self.codec, payload)
        slice_type, tid, is_ref = found if found else ("I" if key else "P", 0, True)
        past = sorted((p for p in self.coded if p < poc), reverse=True)
        future = sorted(p for p in self.coded if p > poc)
        refs = refs1 = ()
        if slice_type == "P":
            refs = tuple(past[:self.refs])
        elif slice_type == "B":  # nearest coded pictures on each side (the lists are not parsed)
            refs, refs1 = tuple(past[:1] or future[:1]), tuple(future[:1] or past[:1])
        qp = self.table_qps.get(poc) if slice_type != "I" else None
        if qp is None:
            qp = self.qps["b" if slice_type == "B" and not is_ref else slice_type]
        return PictureInfo(poc, slice_type, qp, tid, refs, refs1=refs1)

    def _match(self) -> list[EncodedUnit]:
        from gvcodec.io.container import av_to_planes

        units = []
        while self.packets and self.packets[0][0] in self.recons:
            poc, payload, key = self.packets.popleft()
            vf = self.recons.pop(poc)
            recon = Frame(av_to_planes(vf, self.fmt), self.fmt, poc)
            info = self._picture(poc, payload, key)
            self.coded.append(poc)
            units.append(EncodedUnit([info], payload, [recon]))
        return units


def _check_stream_params(header: SequenceHeader, spec: CodecSpec, pix: str) -> str:
    """The stream's header against the codec (a forged stream: one BitstreamError); returns the pixel
    format the decoded pictures must have. Classical streams carry no engine parameters."""
    p = header.engine_params
    if not isinstance(p, dict):
        raise BitstreamError(f"{header.engine} engine parameters are not a mapping ({type(p).__name__})")
    if p:
        raise BitstreamError(f"{header.engine} streams carry no engine parameters, this one has {', '.join(map(str, p))}")
    if pix not in spec.pix_fmts:
        raise BitstreamError(f"{header.engine} cannot code {header.chroma_format} {header.internal_bit_depth}-bit "
                             "video, which the header announces")
    return pix


class ClassicalDecoder:
    """Decoder session: one packet per unit in (coding order), pictures out in display order."""

    def __init__(self, header: SequenceHeader, spec: CodecSpec, threads: int = 0):
        import av

        from gvcodec.io.container import pixel_format

        self.fmt = header.coded_fmt
        self.pix_fmt = _check_stream_params(header, spec, pixel_format(self.fmt))
        try:
            self.dec = _open_decoder(spec.decoder, threads)
        except (av.error.FFmpegError, ValueError) as exc:
            raise BitstreamError(f"decoder {spec.decoder} is not available in this PyAV build: {exc}") from None

    def _frames(self, decoded) -> list[Frame]:
        from gvcodec.io.container import av_to_planes

        out = []
        for vf in decoded:
            if (vf.width, vf.height) != (self.fmt.width, self.fmt.height):
                raise BitstreamError(f"decoded picture is {vf.width}x{vf.height}, header says "
                                     f"{self.fmt.width}x{self.fmt.height}")
            if vf.format.name != self.pix_fmt:
                raise BitstreamError(f"decoded picture is {vf.format.name}, header says {self.pix_fmt}")
            out.append(Frame(av_to_planes(vf, self.fmt), self.fmt, vf.pts))
        return out

    def decode(self, unit: PicturesUnit) -> list[Frame]:
        import av

        pkt = av.Packet(unit.payload)
        pkt.pts = unit.poc_first
        try:
            return self._frames(self.dec.decode(pkt))
        except av.error.FFmpegError as exc:
            raise BitstreamError(f"unit {unit.index} at byte {unit.offset}: payload does not decode: {exc}") from None

    def flush(self) -> list[Frame]:
        return self._frames(self.dec.decode(None))
