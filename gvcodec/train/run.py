"""`gvcodec train` from parsed arguments: stages in order, resuming, the final conversion.

Run folder layout (RunDir):

    stage-0/ckpt-NNNNNNNN.safetensors + .state.pt, log.csv     checkpoints and log of stage 0
    stage-0.safetensors                                        stage 0 output (EMA weights)
    stage-I/..., stage-I.safetensors, stage-II/..., stage-II.safetensors
    final.safetensors                                          converted weights (entropy tables frozen)

for GNVC-VD; a GIViC model has the one stage P (stage-P/, stage-P.safetensors, final.safetensors).
The model's family (families.py) decides the stages of Stage=all and the conversion.

With Stage=all a stage whose output already holds its Steps is skipped, so re-running the same
command (with --Resume=1 after an interruption) carries a run to its end.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gvcodec.report.console import Console
from gvcodec.train import distributed as dist
from gvcodec.train.checkpoint import read_metadata
from gvcodec.train.families import check_stage, family_of
from gvcodec.train.options import TrainArgs, expand_path


def _say(console: Console, world: dist.World):
    def say(text: str) -> None:
        if world.is_main:
            console.line(text)

    return say


def _done(output: Path, steps: int) -> bool:
    if not output.is_file():
        return False
    try:
        return int(read_metadata(output).get("gvcodec.step", -1)) >= steps
    except Exception:  # noqa: BLE001 - an unreadable output is simply not done
        return False


def run_train(args: TrainArgs, on_done=None) -> Path | None:
    """Run what the options ask for; returns the last weights file written (None: stopped early).

    Args:
        args: the parsed arguments.
        on_done: passed to `train_stage` (called on every rank with each trained model).
    """
    from gvcodec.train.loop import stage_output, train_stage

    base = args.resolve(None)
    world = dist.world_from_env()
    console = Console(base.verbosity, "0")
    say = _say(console, world)
    for w in args.warnings:
        console.warn(w)
    if base.threads:
        torch.set_num_threads(base.threads)
    run_dir = Path(expand_path(base.run_dir))
    if base.convert:
        src = Path(expand_path(base.convert))
        model = base.model
        if src.suffix == ".safetensors" and src.is_file():
            model = read_metadata(src).get("gvcodec.model", base.model)
        family = family_of(model)
        dst = Path(expand_path(base.output_file)) if base.output_file else run_dir / "final.safetensors"
        family.convert(src, dst, args.resolve(family.convert_stage), say)
        return dst
    family = family_of(base.model)
    check_stage(family, base.stage, base.model)
    device = dist.pick_device(base.device, world)
    dist.init(world, device)
    try:
        stages = family.stages if base.stage == "all" else (base.stage,)
        last = None
        for stage in stages:
            opts = args.resolve(stage)
            output = stage_output(run_dir, stage)
            if base.stage == "all" and _done(output, opts.steps):
                say(f"stage {stage}: already done ({output})")
                last = output
                continue
            last = train_stage(opts, stage, run_dir, world, device, say, on_done)
            if last is None:  # StopAfter: the stage continues in a later invocation
                return None
        if base.stage == "all" and world.is_main:
            dst = Path(expand_path(base.output_file)) if base.output_file else run_dir / "final.safetensors"
            family.convert(last, dst, args.resolve(family.convert_stage), say)
            last = dst
        dist.barrier()
        return last
    finally:
        dist.shutdown()
