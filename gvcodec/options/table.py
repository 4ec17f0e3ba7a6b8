"""THE option table: one row per key, used for parsing, cfg files, --help, docs and validation.

Each row names the HM key (``QP``), its aliases (``-q``), type, default, help, and the
commands it applies to.  HM spellings live only here, in cfg files and in logs; code reads
options through their snake_case attribute (``QP`` -> ``qp``, ``SourceWidth`` -> ``source_width``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

ENC, DEC, MET = "encode", "decode", "metrics"


def parse_bool(text: str) -> bool:
    """HM booleans are 0/1; true/false are accepted as a courtesy."""
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 0 or 1, got `{text}'")


def parse_int(text: str) -> int:
    return int(text.strip(), 0) if text.strip().lower().startswith(("0x", "-0x")) else int(text.strip())


def _pretend_device_active() -> bool:
    """Whether the device-placement tests' pretend accelerator (gvcodec.testing.devicecheck) is on: only
    then does `meta` stand for a device (looked up without importing torch)."""
    check = sys.modules.get("gvcodec.testing.devicecheck")
    return bool(check is not None and check.ACTIVE[0] > 0)


def parse_device(text: str) -> str:
    """A torch device name: cpu, cuda, cuda:N (also mps, xpu); whether it exists is checked where it is used."""
    t = text.strip()
    if t == "meta" and _pretend_device_active():
        return t
    if not re.fullmatch(r"(cpu|cuda|mps|xpu)(:\d{1,3})?", t):
        raise ValueError("not a torch device (cpu, cuda, cuda:N)")
    return t


def parse_frame_rate(text: str) -> Fraction:
    """`50`, `29.97` or `30000:1001` (VTM syntax); 29.97-style decimals snap to N*1000/1001."""
    t = text.strip()
    if ":" in t or "/" in t:
        num, den = re.split("[:/]", t, maxsplit=1)
        rate = Fraction(int(num), int(den))
    else:
        rate = Fraction(t)
        for base in (24, 30, 60, 120):
            ntsc = Fraction(base * 1000, 1001)
            if rate != base and abs(float(rate) - float(ntsc)) < 0.006:
                rate = ntsc
    if rate < Fraction(1, 1000) or rate > 1000:  # the stream stores it with a denominator below 2^20
        raise ValueError(f"frame rate `{text}' is outside 0.001..1000")
    return rate


def snake(name: str) -> str:
    """HM key -> attribute name: `SourceWidth` -> `source_width`, `QP` -> `qp`."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


@dataclass(frozen=True)
class Option:
    """One row of the table.

    Attributes:
        name: the long key (`--Name=value`, `Name : value` in cfg files).
        aliases: short command-line spellings taking the next token as value (`-q 32`).
        kind: parser from text to value (int, float, str, parse_bool, parse_frame_rate, ...).
        default: value when never set.
        help: one line for --help and docs/options.md.
        commands: the commands that accept the key.
        choices: allowed values (after parsing), if restricted.
        range: inclusive (lo, hi) for numbers, if restricted.
        section: heading in --help.
    """

    name: str
    aliases: tuple[str, ...]
    kind: Callable[[str], Any]
    default: Any
    help: str
    commands: tuple[str, ...] = (ENC,)
    choices: tuple = ()
    range: tuple | None = None
    section: str = "General"

    @property
    def attr(self) -> str:
        return snake(self.name)

    def convert(self, text: str) -> Any:
        """Parse and validate one value; raises ValueError with a readable reason."""
        value = self.kind(text)
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(map(str, self.choices))}")
        if self.range is not None and not (self.range[0] <= value <= self.range[1]):
            raise ValueError(f"must be in [{self.range[0]}, {self.range[1]}]")
        return value


def O(name, aliases, kind, default, help, commands=(ENC,), **kw) -> Option:  # noqa: E741, N802
    if isinstance(aliases, str):
        aliases = (aliases,) if aliases else ()
    return Option(name, tuple(aliases), kind, default, help, tuple(commands), **kw)


_S = "Source and files"
_C = "Coding"
_E = "Engine"
_O = "Output and logging"
_M = "Learned and temporal metrics"
BOTH = (ENC, DEC)
ALL3 = (ENC, DEC, MET)

OPTIONS: tuple[Option, ...] = (
    # -- files and source format -------------------------------------------------------------
    O("InputFile", "-i", str, "", "input: raw .yuv, .y4m, or any file PyAV opens (mp4, mkv, webm, .264)", section=_S),
    O("BitstreamFile", "-b", str, "", "the .gvc bitstream (written by encode, read by decode)", BOTH, section=_S),
    O("ReconFile", "-o", str, "", "reconstructed / decoded video (.yuv or .y4m); empty = not written", BOTH, section=_S),
    O("SourceWidth", "-wdt", parse_int, 0, "luma width of raw input (0 = from the file header)", (ENC, MET), range=(0, 16384), section=_S),
    O("SourceHeight", "-hgt", parse_int, 0, "luma height of raw input (0 = from the file header)", (ENC, MET), range=(0, 16384), section=_S),
    O("FrameRate", "-fr", parse_frame_rate, Fraction(0), "frames per second: N, decimal or N:D (0 = from the file, else 25)", (ENC, MET), section=_S),
    O("FrameSkip", "-fs", parse_int, 0, "frames to skip at the start of the input", (ENC, MET), range=(0, 10**7), section=_S),
    O("FramesToBeEncoded", "-f", parse_int, 0, "frames to code (0 = all)", (ENC, MET), range=(0, 10**7), section=_S),
    O("TemporalSubsampleRatio", "-ts", parse_int, 1, "code every N-th input frame", (ENC,), range=(1, 1000), section=_S),
    O("InputBitDepth", "", parse_int, 8, "bit depth of raw input samples (8: 1 byte, 9..16: 2 bytes LE)", (ENC, MET), range=(8, 16), section=_S),
    O("InputChromaFormat", "", parse_int, 420, "chroma format of raw input: 400, 420, 422 or 444", (ENC, MET), choices=(400, 420, 422, 444), section=_S),
    O("InternalBitDepth", "", parse_int, 0, "coding bit depth (0 = InputBitDepth)", (ENC,), range=(0, 16), section=_S),
    O("ChromaFormatIDC", "", parse_int, 0, "coding chroma format (0 = InputChromaFormat); e.g. 444 codes 4:2:0 input as 4:4:4 (chroma repeated, as HM)", (ENC,), choices=(0, 400, 420, 422, 444), section=_S),
    O("OutputBitDepth", "-d", parse_int, 0, "bit depth of the recon/decoded file (0 = internal)", (DEC,), range=(0, 16), section=_S),
    O("OutputBitDepth", "", parse_int, 0, "bit depth of the recon file (0 = internal)", (ENC,), range=(0, 16), section=_S),
    O("ColourMatrix", "", str, "bt709", "YCbCr<->RGB matrix for RGB-domain engines and metrics", ALL3, choices=("bt709", "bt601", "bt2020"), section=_S),
    O("ColourRange", "", str, "limited", "sample range of the YCbCr input", ALL3, choices=("limited", "full"), section=_S),
    O("PadMultiple", "", parse_int, 0, "pad the picture to a multiple of N (0 = the engine's own: 64 neural, 1 classical)", (ENC,), range=(0, 256), section=_S),
    O("PadMode", "", str, "zero", "padding samples: zero (as the seeds) or replicate", (ENC,), choices=("zero", "replicate"), section=_S),
    # -- coding ---------------------------------------------------------------------------------
    O("QP", "-q", parse_int, 32, "rate point: base QP (0..51 for x264/x265 and neural models, 0..63 for SVT-AV1)", (ENC,), range=(0, 63), section=_C),
    O("IntraPeriod", "-ip", parse_int, -1, "frames between intra pictures (-1 = only the first)", (ENC,), range=(-1, 10**6), section=_C),
    O("GOPSize", "-g", parse_int, 1, "GOP size (HM meaning; neural engines use GOPFrames)", (ENC,), range=(1, 64), section=_C),
    O("GOPFrames", "", parse_int, 25, "frames per GOP of GOP-based neural engines (1+4k)", (ENC,), range=(1, 1024), section=_C),
    O("IntraQPOffset", "", parse_int, 0, "QP offset of intra pictures; not given: the codec's own (x264/x265 ipratio 1.4, about -3)", (ENC,), range=(-51, 51), section=_C),
    # -- engine ---------------------------------------------------------------------------------
    O("Codec", "", str, "", "engine: x264, x265, svtav1 or a neural engine (empty = the default model)", (ENC,), section=_E),
    O("Model", "", str, "", "registered model name, e.g. gnvc-vd-default (empty and no Codec: the default model)", (ENC,), section=_E),
    O("ModelWeights", "", str, "", "weights file (.safetensors/.pth) overriding the registered ones", BOTH, section=_E),
    O("Preset", "", str, "medium", "speed preset of the classical encoders", (ENC,), section=_E),
    O("Device", "", parse_device, "cpu", "torch device for neural engines: cpu, cuda, cuda:N", BOTH, section=_E),
    O("Threads", "", parse_int, 0, "worker threads (0 = library default)", BOTH, range=(0, 256), section=_E),
    O("CheckDecode", "", parse_bool, False, "encoder decodes its own stream before finishing", (ENC,), section=_E),
    O("FlowSteps", "", parse_int, -1, "GNVC-VD: Euler steps of the DiT flow-matching refinement (0 = none, -1 = the model's own: 5 unless its card says otherwise)", (ENC,), range=(-1, 100), section=_E),
    O("FlowStartMix", "", float, 0.7, "GNVC-VD: weight of the decoded latents in the refinement's start point (rest: seeded noise)", (ENC,), range=(0.0, 1.0), section=_E),
    O("FlowSeed", "", parse_int, 0, "GNVC-VD: seed of the refinement noise (stored in the stream)", (ENC,), range=(0, 2**31 - 1), section=_E),
    O("Precision", "", str, "auto", "neural synthesis precision: auto (bf16 on CUDA, fp32 on CPU), fp32, bf16", (ENC,), choices=("auto", "fp32", "bf16"), section=_E),
    O("DiffusionSteps", "", parse_int, 0, "GIViC: diffusion sampling steps, e.g. 4 or 8 (0 = the model's default)", (ENC,), range=(0, 1000), section=_E),
    O("OverfitSteps", "", parse_int, -1, "GIViC: per-GOP overfitting steps (0 = w/o overfit, -1 = the model's default)", (ENC,), range=(-1, 10**6), section=_E),
    O("InitFromPreviousGOP", "", parse_bool, False, "GIViC: start grids, hidden states and updates from the previous GOP", (ENC,), section=_E),
    O("OverfitObjective", "", str, "auto", "GIViC: distortion the overfit loop minimizes: sample (the unrolled sampler's output, what the decoder shows), denoise (the diffusion loss at a random time: ~5x cheaper per step), auto = the model's", (ENC,), choices=("auto", "sample", "denoise"), section=_E),
    O("OverfitLambda", "", float, 0.0, "GIViC: lambda of rate + lambda x MSE (0 = from QP: 1000 at QP 32, x2 every 3 QP down)", (ENC,), range=(0.0, 1e9), section=_E),
    # -- output and logging -----------------------------------------------------------------------
    O("SEIDecodedPictureHash", "-dph", parse_int, 1, "picture hash in the stream, per plane of every picture (HM's SEI): 1 MD5 (16 bytes), 2 CRC (2 bytes), 3 checksum (4 bytes), 0 none", (ENC,), choices=(0, 1, 2, 3), section=_O),
    O("SEIDecodedPictureHash", "-dph", parse_int, 1, "check the picture hashes the stream carries (MD5, CRC or checksum): 1 check, 0 ignore", (DEC,), choices=(0, 1), section=_O),
    O("PrintMSSSIM", "", parse_bool, False, "add [MS-SSIM Y U V] to each POC line", (ENC,), section=_O),
    O("StatsFile", ("--stats",), str, "", "per-frame statistics to FILE (.csv or .json)", ALL3, section=_O),
    O("ResultsFile", "", str, "", "append one summary row to this results CSV (for bin/ctc.sh and bdrate)", (ENC,), section=_O),
    O("SequenceName", "", str, "", "sequence name in ResultsFile rows (default: input file stem)", (ENC,), section=_O),
    O("CodecLabel", "", str, "", "codec name in ResultsFile rows (default: Model, else Codec), e.g. to tell option variants apart", (ENC, MET), section=_O),
    O("ResultsFile", "", str, "", "fill the decode frames/s (dec_fps) into this stream's row of a results CSV (written by encode --ResultsFile)", (DEC,), section=_O),
    O("SummaryOutFilename", "", str, "", "HM: append `kbps Y U V YUV` of the run to this file", (ENC,), section=_O),
    O("Progress", "", str, "auto", "progress bar on stderr: auto (only on a terminal), 1, 0", ALL3, choices=("auto", "1", "0"), section=_O),
    O("Verbosity", "-v", parse_int, 5, "0 quiet .. 6 everything (HM log is printed from 1)", ALL3, range=(0, 6), section=_O),
    O("WarnUnknowParameter", "-w", parse_bool, False, "unknown keys warn instead of failing (sic, HM spelling)", ALL3, section=_O),
    O("SkipFrames", "-s", parse_int, 0, "decoded frames not written at the start", (DEC,), range=(0, 10**7), section=_O),
    # -- metrics command ---------------------------------------------------------------------------
    O("ReferenceFile", "-r", str, "", "reference (original) video", (MET,), section=_S),
    O("DecodedFile", "-d", str, "", "decoded video to measure against the reference", (MET,), section=_S),
    O("Metrics", "-m", str, "psnr,rgbpsnr,msssim,rgbmsssim", "comma list of psnr, rgbpsnr, msssim (luma), rgbmsssim (RGB, as the seeds), vmaf, ewarp, lpips-alex, lpips-vgg, dists, clipf, fvd", (MET,), section=_O),
    O("BitstreamFile", "-b", str, "", "the .gvc stream of DEC: rate, codec and QP of the ResultsFile row", (MET,), section=_S),
    O("ResultsFile", "", str, "", "append one results row (rate from -b, every measured metric) for bdrate and plot", (MET,), section=_O),
    O("SequenceName", "", str, "", "sequence name in ResultsFile rows (default: reference file stem)", (MET,), section=_O),
    O("Device", "", parse_device, "cpu", "torch device of the learned metrics (LPIPS, DISTS, CLIP-F, FVD): cpu, cuda, cuda:N", (MET,), section=_M),
    O("AlexNetWeights", "", str, "", "torchvision AlexNet file for lpips-alex (empty = torch hub cache alexnet-owt-7be5be79.pth)", (MET,), section=_M),
    O("Vgg16Weights", "", str, "", "torchvision VGG16 file for lpips-vgg and dists (empty = torch hub cache vgg16-397923af.pth)", (MET,), section=_M),
    O("LpipsWeightsDir", "", str, "", "folder with LPIPS v0.1 heads alex.pth, vgg.pth (empty = the installed lpips package's)", (MET,), section=_M),
    O("DistsWeights", "", str, "", "DISTS alpha/beta file (empty = the installed dists-pytorch package's weights.pt)", (MET,), section=_M),
    O("ClipWeights", "", str, "", "CLIP ViT weights (OpenAI or open_clip state dict) for clipf", (MET,), section=_M),
    O("ClipActivation", "", str, "quickgelu", "MLP activation of the CLIP weights: quickgelu (OpenAI) or gelu", (MET,), choices=("quickgelu", "gelu"), section=_M),
    O("I3dWeights", "", str, "", "I3D weights (pytorch_i3d state-dict layout) for fvd", (MET,), section=_M),
    O("FvdClipFrames", "", parse_int, 16, "frames per FVD clip", (MET,), range=(1, 1024), section=_M),
    O("FvdClipStride", "", parse_int, 8, "frames between the starts of consecutive FVD clips", (MET,), range=(1, 1024), section=_M),
)

# Keys of HM's and VTM's shipped cfgs that gvcodec accepts without effect, so HM/VTM cfg files and CTC
# scripts run unchanged (`-v 6` lists the ones a run met); `gvcodec encode --help` lists them. Sources
# (key names only): HM-16.25 cfg/encoder_lowdelay*_main*.cfg, encoder_randomaccess_main*.cfg,
# encoder_lowdelay_main_rext.cfg (the seeds' encoder_lowdelay_rext.cfg) and per-sequence cfgs; VTM
# (15..23) cfg/encoder_lowdelay_vtm.cfg, encoder_randomaccess_vtm.cfg and per-sequence cfgs.
HM_ACCEPTED_KEYS = tuple(dict.fromkeys((
    # HM main / main10 / RExt
    "Profile Tier Level MaxCUWidth MaxCUHeight MaxPartitionDepth QuadtreeTULog2MaxSize QuadtreeTULog2MinSize "
    "QuadtreeTUMaxDepthInter QuadtreeTUMaxDepthIntra DecodingRefreshType ReWriteParamSetsFlag LambdaFromQpEnable "
    "FastSearch SearchRange BipredSearchRange HadamardME FEN FDM MaxDeltaQP MaxCuDQPDepth DeltaQpRD RDOQ RDOQTS "
    "SliceChromaQPOffsetPeriodicity SliceCbQpOffsetIntraOrPeriodic SliceCrQpOffsetIntraOrPeriodic "
    "LoopFilterOffsetInPPS LoopFilterDisable LoopFilterBetaOffset_div2 LoopFilterTcOffset_div2 DeblockingFilterMetric "
    "SAO AMP TransformSkip TransformSkipFast SAOLcuBoundary TemporalFilter TemporalFilterFutureReference "
    "SliceMode SliceArgument LFCrossSliceBoundaryFlag PCMEnabledFlag PCMLog2MaxSize PCMLog2MinSize "
    "PCMInputBitDepthFlag PCMFilterDisableFlag TileUniformSpacing NumTileColumnsMinus1 TileColumnWidthArray "
    "NumTileRowsMinus1 TileRowHeightArray LFCrossTileBoundaryFlag WaveFrontSynchro ScalingList ScalingListFile "
    "TransquantBypassEnable CUTransquantBypassFlagForce RateControl TargetBitrate KeepHierarchicalBit "
    "LCULevelRateControl RCLCUSeparateModel InitialQP RCForceIntraQP ConformanceWindowMode MSBExtendedBitDepth "
    "InputBitDepthC InternalBitDepthC OutputBitDepthC PPSInitialQPOffset CTUSize LastValidFrame "
    "ExtendedPrecision TransformSkipLog2MaxSize ImplicitResidualDPCM ExplicitResidualDPCM ResidualRotation "
    "SingleSignificanceMapContext IntraReferenceSmoothing GolombRiceParameterAdaptation "
    "HighPrecisionPredictionWeighting CrossComponentPrediction CostMode "
    # per-sequence cfgs (HM and VTM)
    "ConfWinLeft ConfWinRight ConfWinTop ConfWinBottom InputColourSpaceConvert OutputColourSpaceConvert "
    "SNRInternalColourSpace OutputInternalColourSpace OutputChromaFormat "
    # VTM
    "ASR MinSearchWindow MaxCuDQPSubdiv DeblockingFilterOffsetInPPS DeblockingFilterDisable "
    "DeblockingFilterBetaOffset_div2 DeblockingFilterTcOffset_div2 DeblockingFilterCbBetaOffset_div2 "
    "DeblockingFilterCbTcOffset_div2 DeblockingFilterCrBetaOffset_div2 DeblockingFilterCrTcOffset_div2 "
    "CbQpOffset CrQpOffset SameCQPTablesForAllChroma QpInValCb QpOutValCb ReWriteParamSets LCTUFast DualITree "
    "MinQTLumaISlice MinQTChromaISliceInChromaSamples MinQTNonISlice MaxMTTHierarchyDepth "
    "MaxMTTHierarchyDepthISliceL MaxMTTHierarchyDepthISliceC MTS MTSIntraMaxCand MTSInterMaxCand SBT LFNST ISP "
    "MMVD Affine SbTMVP MaxNumMergeCand LMChroma DepQuant IMV ALF CCALF BCW BcwFast BIO CIIP Geo IBC "
    "AllowDisFracMMVD AffineAmvr LMCSEnable LMCSSignalType LMCSUpdateCtrl LMCSOffset MRL MIP DMVR SMVD JointCbCr "
    "PROF ChromaTS PBIntraFast ISPFast FastMrg AMaxBT FastMIP FastLFNST FastLocalDualTreeMode "
    "MaxMergeRdCandNumTotal AffineAmvrEncOpt MmvdDisNum ALFAllowPredefinedFilters ALFStrengthTargetLuma "
    "ALFStrengthTargetChroma CCALFStrengthTarget EncDbOpt AlfLambdaOpt MTTSkipping TemporalFilterPastRefs "
    "TemporalFilterFutureRefs"
).split()))
# Prefix keys with a number inside, such as the GOP table rows `Frame1` or `TemporalFilterStrengthFrame8`.
HM_ACCEPTED_PATTERN = re.compile(r"^(Frame\d+|TemporalFilterStrengthFrame\d+)$")
GOP_TABLE_ROW = re.compile(r"^Frame(\d+)$")  # HM's GOP table: the classical anchors read it


def table_for(command: str) -> dict[str, Option]:
    """Rows that apply to `command`, keyed by long name (later rows win for shared names)."""
    return {o.name: o for o in OPTIONS if command in o.commands}


def alias_map(command: str) -> dict[str, Option]:
    """Short spelling -> row for `command`."""
    out: dict[str, Option] = {}
    for o in table_for(command).values():
        for a in o.aliases:
            out[a] = o
    return out
