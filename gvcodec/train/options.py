"""THE table of `gvcodec train` options, and HM-style parsing with per-stage values.

One row per key (name, aliases, type, default, help, range/choices) serves parsing, `--help`,
docs/training.md and validation, like gvcodec/options/table.py does for encode/decode.

Precedence is HM's: arguments are read strictly left to right and the last assignment wins.
`-c FILE` reads a cfg file at its position: a YAML file (`.yaml`/`.yml`) holds `Key: value` pairs
plus an optional `stages:` mapping whose sections (`"0"`, `I`, `II` for GNVC-VD, `P` for GIViC)
assign keys for one stage only; any other file is an HM cfg (`Key : value` lines). On the command line `--Key=value` sets a
key for every stage and `--II.Key=value` for one stage. `resolve(stage)` replays the assignments
in order, keeping those that apply to the stage, so a later global `--Steps=10` overrides the
Steps of every stage section read before it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gvcodec.errors import OptionError
from gvcodec.options.parse import Options, Parser
from gvcodec.options.table import Option, parse_bool, parse_int

STAGES = ("0", "I", "II", "P")  # every stage name; a model family trains some of them (families.py)
TRAIN = "train"


def parse_float(text: str) -> float:
    return float(text.strip())


def parse_stage(text: str) -> str:
    t = text.strip()
    aliases = {"1": "I", "2": "II", "p": "P", "ALL": "all", "All": "all"}
    return aliases.get(t, t)


def parse_crop(text: str) -> tuple[int, int]:
    """`128` (square) or `192x128` (width x height) -> (width, height)."""
    t = text.strip().lower()
    parts = t.split("x") if "x" in t else [t, t]
    if len(parts) != 2:
        raise ValueError("expected N or WxH")
    w, h = (int(p) for p in parts)
    if w <= 0 or h <= 0:
        raise ValueError("crop sizes must be positive")
    return (w, h)


def _o(name, aliases, kind, default, help, section, **kw) -> Option:  # noqa: A002
    if isinstance(aliases, str):
        aliases = (aliases,) if aliases else ()
    return Option(name, tuple(aliases), kind, default, help, (TRAIN,), section=section, **kw)


_R, _D, _S, _L, _F, _C = "Run", "Data", "Optimisation", "Losses", "Refinement (DiT)", "Checkpoints and logging"

TRAIN_OPTIONS: tuple[Option, ...] = (
    # -- run -----------------------------------------------------------------------------------
    _o("Model", "", str, "gnvc-vd-tiny", "model size: a name in cfg/models or a model YAML path", _R),
    _o("RunDir", "", str, "runs/train", "folder of the run: one sub-folder per stage, final weights", _R),
    _o("Stage", "", parse_stage, "all", "stage to train: GNVC-VD 0 (VAE), I (latent alignment), II (pixel "
       "fine-tuning); GIViC P (pretraining); all (the model's stages, then conversion; finished stages are "
       "skipped)", _R, choices=("0", "I", "II", "P", "all")),
    _o("Resume", "", parse_bool, False, "continue from the last checkpoint of the stage", _R),
    _o("Init", "", str, "", "weights to start the stage from (default: the previous stage's output, or "
       "the seeded initialisation for stage 0)", _R),
    _o("Seed", "", parse_int, 0, "seed of the initialisation, the data and every random draw", _R, range=(0, 2**31 - 1)),
    _o("Device", "", str, "auto", "torch device: auto (cuda when present, with torchrun: cuda:LOCAL_RANK), cpu, cuda, cuda:N", _R),
    _o("Threads", "", parse_int, 0, "torch CPU threads (0 = torch default)", _R, range=(0, 256)),
    _o("Compile", "", parse_bool, False, "torch.compile the stage's loss module (CUDA; first steps compile)", _R),
    _o("Bf16", "", str, "auto", "bf16 autocast of VAE and DiT: auto (on CUDA), 1, 0", _R, choices=("auto", "1", "0")),
    _o("Convert", ("--convert",), str, "", "convert this checkpoint to final weights (with -o) instead of training", _R),
    _o("OutputFile", "-o", str, "", "output weights file of --convert (default: RunDir/final.safetensors)", _R),
    _o("Modules", "", str, "", "trained parameters: comma list of name prefixes (vae, vae.decoder, codec, dit, "
       "dit.vace_; GIViC: encoder, denoiser, state_init); empty = the stage's default (0: vae; I: codec,dit; "
       "II: codec,dit; P: every parameter)", _R),
    # -- data ----------------------------------------------------------------------------------
    _o("Data", "", str, "", "videos: comma list of MANIFEST.tsv files, folders (their MANIFEST.tsv or every "
       "video in them) or video files", _D),
    _o("Images", "", str, "", "images (PNG/JPEG) for 1-frame batches: comma list of manifests, folders or files", _D),
    _o("ImageFraction", "", parse_float, 0.0, "fraction of steps that train on image batches (1-frame clips)", _D, range=(0.0, 1.0)),
    _o("CacheDir", "", str, "", "decode compressed videos once into raw YUV here for random access (empty = "
       "decode from the start for every clip)", _D),
    _o("MaxFrames", "", parse_int, 0, "use at most the first N frames of each video (0 = all)", _D, range=(0, 10**7)),
    _o("Workers", "", parse_int, 1, "DataLoader worker processes (0 = load in the training process)", _D, range=(0, 64)),
    _o("Frames", "", parse_int, 5, "frames per clip (GNVC-VD: 1 + 4k for the Wan VAE; GIViC: any count, "
       "0 = the model's GOP length)", _D, range=(0, 1024)),
    _o("Crop", "", parse_crop, (128, 128), "random crop: N or WxH (multiples of CropMultiple)", _D),
    _o("CropMultiple", "", parse_int, 64, "crop sizes must be multiples of this", _D, range=(1, 1024)),
    _o("MaxStride", "", parse_int, 2, "temporal stride drawn from 1..MaxStride per clip", _D, range=(1, 64)),
    _o("Flip", "", parse_bool, True, "random horizontal flips", _D),
    # -- optimisation ----------------------------------------------------------------------------
    _o("Steps", "", parse_int, 1000, "optimiser steps of the stage", _S, range=(0, 10**9)),
    _o("BatchSize", "", parse_int, 2, "clips per step and process", _S, range=(1, 4096)),
    _o("LearningRate", "", parse_float, 1e-4, "peak AdamW learning rate", _S, range=(0.0, 1.0)),
    _o("MinLrRatio", "", parse_float, 0.1, "final learning rate of the cosine schedule / peak", _S, range=(0.0, 1.0)),
    _o("WarmupSteps", "", parse_int, 100, "linear warm-up steps", _S, range=(0, 10**9)),
    _o("WeightDecay", "", parse_float, 0.0, "AdamW weight decay (matrices and conv kernels only)", _S, range=(0.0, 10.0)),
    _o("Betas", "", str, "0.9,0.99", "AdamW betas", _S),
    _o("GradClip", "", parse_float, 1.0, "clip the gradient norm to this (0 = off)", _S, range=(0.0, 1e9)),
    _o("EmaDecay", "", parse_float, 0.999, "EMA of the trained weights (0 = off); stage outputs are EMA weights", _S, range=(0.0, 1.0)),
    _o("QuantMode", "", str, "ste", "latent quantisation in training", _S, choices=("ste", "noise")),
    _o("LambdaMin", "", parse_float, 0.01, "lambda of QP index 0 (coarsest)", _S, range=(0.0, 1e9)),
    _o("LambdaMax", "", parse_float, 1.0, "lambda of the last QP index; QP q gets LambdaMin*(LambdaMax/LambdaMin)^(q/(Q-1))", _S, range=(0.0, 1e9)),
    _o("QpMin", "", parse_int, 22, "GIViC: lowest QP drawn per step; lambda = the model's overfit lambda of the QP "
       "(lambda_ref at QP 32, x2 every 3 QP down), as the encoder uses", _S, range=(0, 63)),
    _o("QpMax", "", parse_int, 42, "GIViC: highest QP drawn per step (uniform over QpMin..QpMax)", _S, range=(0, 63)),
    # -- losses ----------------------------------------------------------------------------------
    _o("L1Weight", "", parse_float, 1.0, "stage 0: pixel L1 weight", _L, range=(0.0, 1e9)),
    _o("MseWeight", "", parse_float, 1.0, "stage 0: pixel MSE weight", _L, range=(0.0, 1e9)),
    _o("LatentRegWeight", "", parse_float, 1e-4, "stage 0: weight of mean(latent^2) (keeps latents near unit scale)", _L, range=(0.0, 1e9)),
    _o("PixelWeight", "", parse_float, 1.0, "stage II: pixel MSE weight (inside lambda)", _L, range=(0.0, 1e9)),
    _o("MsssimWeight", "", parse_float, 0.0, "stage 0/II: weight of 1 - MS-SSIM of the frames (needs no weights)", _L, range=(0.0, 1e9)),
    _o("PerceptualWeight", "", parse_float, 0.0, "stage 0/II: VGG feature distance weight (needs PerceptualWeights)", _L, range=(0.0, 1e9)),
    _o("PerceptualWeights", "", str, "", "local VGG16 weights file (torchvision key layout `features.N.*`)", _L),
    _o("AdvWeight", "", parse_float, 0.0, "stage 0/II: adversarial (hinge, 3D patch discriminator) weight", _L, range=(0.0, 1e9)),
    _o("AdvStart", "", parse_int, 0, "step from which the adversarial term is on", _L, range=(0, 10**9)),
    _o("AdvChannels", "", parse_int, 32, "width of the patch discriminator", _L, range=(1, 4096)),
    _o("CodecLatentWeight", "", parse_float, 1.0, "stage I/II: weight of |x_c - x_1|^2 (decoded vs clean latents)", _L, range=(0.0, 1e9)),
    _o("RefineLatentWeight", "", parse_float, 1.0, "stage I/II: weight of |x~_1 - x_1|^2 (refined vs clean latents)", _L, range=(0.0, 1e9)),
    _o("CfmWeight", "", parse_float, 1.0, "stage I: conditional flow-matching weight (outside lambda)", _L, range=(0.0, 1e9)),
    _o("Objective", "", str, "denoise", "stage P: distortion of the denoising pass at a random t per level (denoise) "
       "or of the unrolled few-step sampler the decoder runs (sample)", _L, choices=("denoise", "sample")),
    _o("CoarseWeight", "", parse_float, 1.0, "stage P: weight of the coarser pyramid levels' mean MSE (inside lambda, "
       "beside the full-size 4:2:0 MSE)", _L, range=(0.0, 1e9)),
    _o("InnerSteps", "", parse_int, 0, "stage P: Adam steps fitting each clip's grids at the drawn lambda before the "
       "loss (the encoder's overfit loop, first order; 0 = the grid encoder's grids as they are)", _L, range=(0, 1000)),
    # -- refinement ------------------------------------------------------------------------------
    _o("RefineSteps", "", parse_int, 5, "Euler steps of inference (recorded in the weights for the engine)", _F, range=(1, 1000)),
    _o("StartMix", "", parse_float, 0.7, "weight of the decoded latents in the refinement start point (t_N)", _F, range=(0.0, 1.0)),
    _o("ContextSeed", "", parse_int, 0, "seed of the DiT's fixed cross-attention context", _F, range=(0, 2**31 - 1)),
    _o("TrainRefineSteps", "", parse_int, 0, "stage II: unrolled Euler steps with gradients (0 = one-step "
       "estimate at a random time)", _F, range=(0, 1000)),
    # -- checkpoints and logging -----------------------------------------------------------------
    _o("StopAfter", "", parse_int, 0, "stop (with a checkpoint) after N steps in this invocation, to train in "
       "resumable chunks; 0 = run the stage to its end", _C, range=(0, 10**9)),
    _o("MaxSeconds", "", parse_float, 0.0, "end the stage after this many seconds of training in this invocation, "
       "with a checkpoint and the stage output from the weights so far (a deadline for time-boxed runs); 0 = no "
       "limit", _C, range=(0.0, 1e9)),
    _o("CheckpointEvery", "", parse_int, 500, "write a checkpoint every K steps (and at the end, and on SIGINT/SIGTERM)", _C, range=(1, 10**9)),
    _o("KeepCheckpoints", "", parse_int, 3, "checkpoints kept per stage (older ones are deleted)", _C, range=(1, 10**6)),
    _o("LogEvery", "", parse_int, 10, "CSV log row (and PSNR) every N steps", _C, range=(1, 10**9)),
    _o("ConvertClips", "", parse_int, 2, "clips whose real coded size measures the conversion's rate cost", _C, range=(0, 1000)),
    _o("Fp16", "", parse_bool, False, "store the converted float weights as float16 (half the file; the model is rounded first, so what is measured is what loads)", _C),
    _o("Progress", "", str, "auto", "progress display on stderr: auto (only on a terminal), 1, 0", _C, choices=("auto", "1", "0")),
    _o("Verbosity", "-v", parse_int, 1, "0 quiet, 1 stage lines, 2 also every checkpoint", _C, range=(0, 6)),
)


def train_table() -> dict[str, Option]:
    return {o.name: o for o in TRAIN_OPTIONS}


class TrainOptions(Options):
    """Option values of one stage, read by attribute (`opts.batch_size`) or key (`opts["BatchSize"]`)."""

    def __init__(self) -> None:
        super().__init__(TRAIN)
        self._table = train_table()
        self._values = {name: row.default for name, row in self._table.items()}
        self._attrs = {row.attr: name for name, row in self._table.items()}

    def as_dict(self) -> dict[str, Any]:
        """Plain values (crop as "WxH"), for YAML metadata and logs."""
        out = {}
        for k, v in self._values.items():
            out[k] = f"{v[0]}x{v[1]}" if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class Assignment:
    key: str
    value: str
    stage: str | None  # None = every stage
    where: str


class _TrainParser(Parser):
    """HM's left-to-right parser over the training table; records assignments instead of applying them."""

    def __init__(self) -> None:
        super().__init__(TrainOptions())
        self.table = train_table()
        self.assignments: list[Assignment] = []
        self.scope: str | None = None
        self.lower = {name.lower(): name for name in self.table}  # `--resume` works as `--Resume`

    def assign(self, key: str, value: str, where: str) -> None:
        stage = self.scope
        if "." in key:
            stage, _, key = key.partition(".")
            stage = parse_stage(stage)
            if stage not in STAGES:
                self.unknown.append(f"{where}error: unknown stage `{stage}' in `{stage}.{key}' (stages: 0, I, II, P)")
                return
        row = self.table.get(key) or self.table.get(self.lower.get(key.lower(), ""))
        if row is None:
            self.unknown.append(f"{where}error: Unknown option `{key}' (value:`{value}')")
            return
        try:
            row.convert(value)  # validate now, so the error names the file and line
        except (ValueError, ArithmeticError) as exc:
            raise OptionError(f"{where}error: bad value `{value}' for {key}: {exc}") from None
        self.assignments.append(Assignment(row.name, value, stage, where))

    def parse_cfg(self, path: str) -> None:
        if Path(path).suffix.lower() not in (".yaml", ".yml"):
            return super().parse_cfg(path)
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OptionError(f"cannot open config file `{path}'") from None
        except (OSError, yaml.YAMLError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OptionError(f"cannot read config file `{path}': {first}") from None
        if doc is None:
            return
        if not isinstance(doc, dict):
            raise OptionError(f"config file `{path}' must hold a mapping of Key: value pairs")
        for key, value in doc.items():
            if key == "stages":
                if not isinstance(value, dict):
                    raise OptionError(f"{path}: `stages' must map stage names (0, I, II, P) to Key: value pairs")
                for stage, section in value.items():
                    name = parse_stage(str(stage))
                    if name not in STAGES:
                        raise OptionError(f"{path}: unknown stage `{stage}' (stages: 0, I, II, P)")
                    if not isinstance(section, dict):
                        raise OptionError(f"{path}: stage `{stage}' must hold Key: value pairs")
                    self.scope = name
                    for k, v in section.items():
                        self.assign(str(k), _yaml_text(v), f"{path} (stage {name}) ")
                    self.scope = None
            else:
                self.assign(str(key), _yaml_text(value), f"{path} ")


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


class TrainArgs:
    """The parsed command line: all assignments in order, resolved per stage on demand."""

    def __init__(self, assignments: list[Assignment], warnings: list[str]) -> None:
        self.assignments = assignments
        self.warnings = warnings

    def resolve(self, stage: str | None = None) -> TrainOptions:
        """Options for `stage` (None: global assignments only), replayed left to right."""
        opts = TrainOptions()
        table = opts.table
        for a in self.assignments:
            if a.stage is None or a.stage == stage:
                opts.set(a.key, table[a.key].convert(a.value))
        return opts


def parse_train_args(argv: list[str]) -> TrainArgs:
    """Parse `gvcodec train` arguments (HM semantics; unknown keys fail with one line each)."""
    parser = _TrainParser()
    parser.parse_argv(list(argv))
    if parser.unknown:
        raise OptionError("\n".join(parser.unknown))
    return TrainArgs(parser.assignments, parser.opts.warnings)


def expand_path(text: str) -> str:
    """`~` and `$VARS` expanded."""
    return os.path.expandvars(os.path.expanduser(text)) if text else text


def render_train_help() -> str:
    """`gvcodec train --help`: every option with its default, grouped by section."""
    from gvcodec.options.help import option_lines

    lines = ["Usage: gvcodec train [-c FILE.yaml]... [--Key=value] [--STAGE.Key=value]...",
             "       gvcodec train --convert CKPT.safetensors [-o OUT.safetensors]", "",
             "Options are read left to right (cfg files at the position of their -c); the last value wins.",
             "A YAML cfg may hold `stages: {\"0\": {...}, I: {...}, II: {...}, P: {...}}` sections; `--II.Key=value` sets",
             "a key for one stage only.", "",
             "  -c FILE                        parse the cfg FILE (YAML or HM `Key : value`) at this position"]
    return "\n".join(lines + option_lines(TRAIN_OPTIONS))


def render_train_markdown() -> str:
    """The option table of docs/training.md."""
    from gvcodec.options.help import markdown_rows

    return "\n".join(markdown_rows(TRAIN_OPTIONS, aliases=False))


if __name__ == "__main__":
    print(render_train_markdown())
