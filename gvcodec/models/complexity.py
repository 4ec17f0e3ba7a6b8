"""Complexity of a neural codec: MACs per pixel of its encoder and decoder, measured memory and time.

A model family registers a function that, for a model name, a picture size, a clip length and a
device, builds the model and returns its :class:`Stage` list: each stage is a side ("encoder" or
"decoder"), a name and a callable that runs that piece of the model on a clip of that size.

* MACs: each stage runs once under ``torch.utils.flop_counter.FlopCounterMode``, which counts
  the FLOPs of matrix products, convolutions (transposed too) and attention (scaled dot product)
  from their shapes; MACs = FLOPs / 2. Element-wise work (activations, norms, additions, biases)
  is not counted, as usual in codec papers. Counting runs on the ``meta`` device by default, so
  even paper-size models are counted in seconds with no memory. (It must: on the CPU, torch 2.13's
  FLOP counter sees no attention at all, since its CPU flash-attention kernel has no FLOP formula.) A stage may name modules whose
  work it does not own (e.g. the decoder-only nets inside a joint training pass); their counts
  are measured separately while the stage runs and subtracted.
* Module-hook MACs (the second Enc./Dec. row): what a profiler that hooks modules by exact type
  counts (thop and similar: `nn.Linear` and plain `nn.Conv*`), i.e. without subclasses of those
  (the Wan VAE's `CausalConv3d`) and without functional work such as attention scores. It is not
  our measure of complexity; it is printed because published tables (the GNVC-VD seed's Table 4)
  match it, see docs/gnvc-vd.md.
* kMACs per pixel: stage MACs / (frames x width x height of the unpadded clip) / 1000.
* With ``measure``: every stage runs again on the real device with seeded random weights
  (timing and memory do not depend on the weight values). ms/frame = wall time / frames
  (CUDA synchronised, one warm-up run first on CUDA). Peak memory on CUDA =
  ``torch.cuda.max_memory_allocated`` during the stage (weights included, since they are
  allocated); on the CPU = growth of the process's peak resident set size (``ru_maxrss``) during
  the stage, a lower bound when an earlier stage peaked higher.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from gvcodec.errors import ModelError, OptionError

SIDES = ("encoder", "decoder")


@dataclass
class Stage:
    """One piece of a codec's encoder or decoder.

    Attributes:
        side: "encoder" or "decoder".
        name: what it is, e.g. "VAE encode".
        run: runs the piece once on the clip its builder was given.
        exclude: modules called inside `run` whose work belongs to the other side (not counted).
    """

    side: str
    name: str
    run: Callable[[], object]
    exclude: tuple[nn.Module, ...] = ()


# A family: stages(model, width, height, frames, device) -> stages; parameters(model) -> (rows, seed figures)
StagesFn = Callable[[str, int, int, int, str], Iterable[Stage]]


@dataclass
class Family:
    stages: StagesFn
    parameters: Callable[[str], tuple[list[tuple[str, str, int]], dict]] | None = None


# Extra families by name prefix (tests register small codecs here); the systems' own come from
# gvcodec.models.families.
_EXTRA: dict[str, Family] = {}


def register_family(prefix: str, family: Family) -> None:
    """Make models whose name starts with `prefix` (or YAML files whose stem does) countable."""
    _EXTRA[prefix] = family


def family_for(model: str) -> Family:
    """The complexity description of `model` (name or YAML path).

    Raises:
        ModelError: no family claims it, or its family has no complexity description.
    """
    from pathlib import Path

    from gvcodec.models.families import FAMILIES, family_of

    stem = Path(model).stem if model.endswith((".yaml", ".yml")) else model
    for prefix in sorted(_EXTRA, key=len, reverse=True):
        if stem.startswith(prefix):
            return _EXTRA[prefix]
    try:
        family = family_of(model)
    except ModelError:
        family = None
    if family is None or not family.complexity:
        known = sorted({*_EXTRA, *(f.prefix for f in FAMILIES if f.complexity)})
        raise ModelError(f"no complexity description for model {model} (known families: {', '.join(known)})")
    return Family(family.part("complexity"), family.part("parameters"))


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """`1920x1080,1280x720` -> [(1920, 1080), (1280, 720)]."""
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        try:
            w, h = (int(p) for p in parts)
        except ValueError:
            raise OptionError(f"--complexity wants WxH[,WxH...], got `{text}'") from None
        if not (0 < w <= 16384 and 0 < h <= 16384):
            raise OptionError(f"picture size {w}x{h} is outside 1..16384")
        sizes.append((w, h))
    return sizes


# Module types a type-keyed hook profiler counts (exact types only: subclasses are missed).
HOOKED_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                nn.ConvTranspose3d)


def _module_macs(module: nn.Module, inputs: tuple, output) -> int:
    out = output if isinstance(output, torch.Tensor) else output[0]
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    kernel = 1
    for k in module.kernel_size:
        kernel *= k
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return inputs[0].numel() * (module.out_channels // module.groups) * kernel
    return out.numel() * (module.in_channels // module.groups) * kernel


def _roots(stage: Stage) -> list[nn.Module]:
    """Modules the stage's callable closes over (where its hookable layers live)."""
    found, seen = [], set()
    for cell in getattr(stage.run, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, nn.Module) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    return found


def count_macs(stage: Stage) -> int:
    """MACs of one run of `stage` (FLOPs / 2), minus the work of its excluded modules."""
    return count_stage(stage)[0]


def count_stage(stage: Stage) -> tuple[int, int]:
    """(MACs, module-hook MACs) of one run of `stage`, both without its excluded modules.

    MACs: FLOPs / 2 of the torch FLOP counter. Module-hook MACs: the layers of exact type
    HOOKED_TYPES among the modules the stage's callable closes over, as thop-like profilers count.
    """
    excluded = [0]
    hooked = [0]
    skip = {id(m) for e in stage.exclude for m in e.modules()}

    def count_layer(module, inputs, output):
        hooked[0] += _module_macs(module, inputs, output)

    inner: dict[nn.Module, FlopCounterMode] = {}

    def enter(module, args):
        inner[module] = FlopCounterMode(display=False)
        inner[module].__enter__()

    def leave(module, args, output):
        counter = inner.pop(module)
        counter.__exit__(None, None, None)
        excluded[0] += counter.get_total_flops()

    hooks = []
    for module in stage.exclude:
        hooks += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    layers = {id(m): m for root in _roots(stage) for m in root.modules()
              if type(m) in HOOKED_TYPES and id(m) not in skip}
    hooks += [m.register_forward_hook(count_layer) for m in layers.values()]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            stage.run()
    finally:
        for h in hooks:
            h.remove()
    flops = counter.get_total_flops() - excluded[0]
    return flops // 2, hooked[0]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def measure_stage(stage: Stage, device: str) -> tuple[float, int]:
    """(seconds, peak bytes) of one run of `stage` on `device` (see the module notes)."""
    with torch.no_grad():
        if device.startswith("cuda"):
            stage.run()  # warm-up: kernels chosen, caches filled
            _sync(device)
            torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            stage.run()
            _sync(device)
            return time.perf_counter() - start, torch.cuda.max_memory_allocated(device)
        import resource

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        stage.run()
        seconds = time.perf_counter() - start
        return seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024  # KiB on Linux


@dataclass
class StageResult:
    side: str
    name: str
    macs: int
    seconds: float | None = None
    peak_bytes: int | None = None
    hook_macs: int | None = None


@dataclass
class Complexity:
    """Complexity of one model at one picture size.

    Attributes:
        width, height, frames: the clip (unpadded size).
        stages: per-stage results, in run order.
    """

    width: int
    height: int
    frames: int
    stages: list[StageResult] = field(default_factory=list)

    @property
    def pixels(self) -> int:
        return self.width * self.height * self.frames

    def kmacs_per_pixel(self, side: str) -> float:
        return sum(s.macs for s in self.stages if s.side == side) / self.pixels / 1000.0

    def hook_kmacs_per_pixel(self, side: str) -> float | None:
        """The same with the module-hook (thop-style) count, None when it was not taken."""
        macs = [s.hook_macs for s in self.stages if s.side == side]
        return None if None in macs else sum(macs) / self.pixels / 1000.0

    def ms_per_frame(self, side: str) -> float | None:
        times = [s.seconds for s in self.stages if s.side == side]
        return None if not times or None in times else 1000.0 * sum(times) / self.frames

    def peak_gb(self) -> float | None:
        peaks = [s.peak_bytes for s in self.stages]
        return None if not peaks or None in peaks else max(peaks) / 1e9


def _check_sides(stages: list[Stage], model: str) -> None:
    for s in stages:
        if s.side not in SIDES:
            raise ModelError(f"{model}: stage {s.name} has side {s.side!r} (encoder or decoder)")


def model_complexity(model: str, width: int, height: int, frames: int, measure: bool = False,
                     device: str = "cpu") -> Complexity:
    """Count (and with `measure`, time) every stage of `model` on a frames x width x height clip.

    Args:
        model: a registered model name or YAML path.
        width, height: picture size (the family pads it as its engine would).
        frames: clip length.
        measure: also run on `device` for time and peak memory.
        device: torch device for `measure`.

    Returns:
        A :class:`Complexity`.
    """
    family = family_for(model)
    counted = list(family.stages(model, width, height, frames, "meta"))
    _check_sides(counted, model)
    result = Complexity(width, height, frames)
    for s in counted:
        macs, hook_macs = count_stage(s)
        result.stages.append(StageResult(s.side, s.name, macs, hook_macs=hook_macs))
    if measure:
        real = list(family.stages(model, width, height, frames, device))
        _check_sides(real, model)
        for res, stage in zip(result.stages, real):
            res.seconds, res.peak_bytes = measure_stage(stage, device)
    return result


def format_complexity(model: str, results: list[Complexity]) -> str:
    """Tables 3 and 4 of the GNVC-VD paper's layout: one column per resolution, stage rows below."""
    first = results[0]
    head = f"{'Resolutions':<34}" + "".join(f"{f'{r.width} x {r.height}':>16}" for r in results)
    lines = [f"complexity of {model}: {first.frames}-frame clip; MACs = FLOPs / 2 (torch FLOP counter: "
             "matmul, conv, attention) per pixel of the unpadded clip", head]

    def row(label: str, values) -> None:
        lines.append(f"{label:<34}" + "".join(f"{v:>16}" for v in values))

    row("Enc./Dec. kMACs per pixel",
        [f"{r.kmacs_per_pixel('encoder'):.0f}/{r.kmacs_per_pixel('decoder'):.0f}" for r in results])
    for i, stage in enumerate(first.stages):
        row(f"  {stage.side[:3]}. {stage.name}"[:34], [f"{r.stages[i].macs / r.pixels / 1000:.1f}" for r in results])
    if all(r.hook_kmacs_per_pixel("encoder") is not None for r in results):
        row("  as thop counts (module hooks)",
            [f"{r.hook_kmacs_per_pixel('encoder'):.0f}/{r.hook_kmacs_per_pixel('decoder'):.0f}" for r in results])
    if first.stages and first.stages[0].seconds is not None:
        peak = [r.peak_gb() for r in results]
        row("Peak Mem. (GB)", [f"{p:.2f}" for p in peak])
        row("Encoding ms/frame", [f"{r.ms_per_frame('encoder'):.1f}" for r in results])
        row("Decoding ms/frame", [f"{r.ms_per_frame('decoder'):.1f}" for r in results])
        for i, stage in enumerate(first.stages):
            row(f"  {stage.side[:3]}. {stage.name} ms"[:34],
                [f"{1000 * r.stages[i].seconds / r.frames:.1f}" for r in results])
    return "\n".join(lines)
