"""One stage's training loop: model, data, optimiser, checkpoints, logging, signals.

The stage folder (RunDir/stage-S) holds the checkpoints and log.csv; the stage's output, the EMA
weights at its last step (raw weights when EmaDecay is 0), is RunDir/stage-S.safetensors, which
the next stage starts from.

Bit-for-bit resume: the data of every step is a function of (seed, step, rank), the QP of a step
likewise, the learning rate a function of the step, and the checkpoint holds the optimizer,
EMA, discriminator and every global RNG state. Continuing from checkpoint N therefore gives the
same weights as never stopping (on the same device type and thread count).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from gvcodec.errors import GvcodecError, OptionError
from gvcodec.train import distributed as dist
from gvcodec.train.adversarial import discriminator_loss, generator_loss
from gvcodec.train.checkpoint import (list_checkpoints, load_checkpoint, load_training_weights, rng_state,
                                      save_checkpoint, save_weights, set_rng_state)
from gvcodec.train.data import build_dataset, make_loader
from gvcodec.train.families import check_stage, family_of
from gvcodec.train.optim import Ema, learning_rate, make_optimizer, parse_betas
from gvcodec.train.options import STAGES
from gvcodec.report.train_display import TrainDisplay
from gvcodec.train.progress import TERM_COLUMNS, CsvLog
from gvcodec.train.stages import draw_qp, select_trainable

PREVIOUS = {"I": "0", "II": "I"}
# Throughput of the last train_stage call in this process (bench/train_step.py): steps, wall seconds
# of the step loop, host seconds spent waiting for the data loader, and (seconds, data seconds) after
# each step in "marks".
LAST_STATS: dict = {}


class Interrupted(GvcodecError):
    """SIGINT/SIGTERM during training: a checkpoint was written first."""


def stage_dir(run_dir: Path, stage: str) -> Path:
    return run_dir / f"stage-{stage}"


def stage_output(run_dir: Path, stage: str) -> Path:
    return run_dir / f"stage-{stage}.safetensors"


def model_metadata(opts, stage: str, model) -> dict[str, str]:
    """Metadata every weights file of the run carries (plus the family's own keys)."""
    from gvcodec.models.configs import resolve_model_cfg

    cfg_path = resolve_model_cfg(opts.model)
    return {"gvcodec.stage": stage, "gvcodec.model": str(opts.model), "gvcodec.model_config": cfg_path.read_text(),
            "gvcodec.config": yaml.safe_dump(opts.as_dict(), sort_keys=False),
            **family_of(opts.model).metadata(opts, model)}


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


class _Signals:
    """Turns SIGINT/SIGTERM into a flag the loop checks after each step (main thread only)."""

    def __init__(self) -> None:
        self.code = 0
        self._old = {}

    def __enter__(self) -> "_Signals":
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            try:
                self._old[sig] = signal.signal(sig, lambda *_, c=code: setattr(self, "code", c))
            except ValueError:  # not the main thread
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _stop_requested(code: int) -> int:
    """The largest stop code over ranks (all stop at the same step)."""
    if not torch.distributed.is_initialized():
        return code
    t = torch.tensor([code], dtype=torch.int64)
    if torch.distributed.get_backend() == "nccl":
        t = t.cuda()
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return int(t.item())


def train_stage(opts, stage: str, run_dir: Path, world: dist.World, device: torch.device, say=print,
                on_done=None) -> Path | None:
    """Train one stage to opts.steps (resuming when asked).

    Args:
        opts: the stage's TrainOptions.
        stage: "0", "I", "II" (GNVC-VD) or "P" (GIViC): one of the model family's stages.
        run_dir: the run folder.
        world: process rank and count.
        device: the torch device.
        say: where status lines go (the main rank's console).
        on_done: called on every rank with the trained (raw, not averaged) model at the end.

    Returns:
        The stage output weights path, or None when StopAfter ended this invocation early.
    """
    family = family_of(opts.model)
    check_stage(family, stage, opts.model)
    folder, output = stage_dir(run_dir, stage), stage_output(run_dir, stage)
    model = family.build(opts)
    family.check(opts, model, stage, say)
    ckpts = list_checkpoints(folder)
    resume = None
    if ckpts:
        if not opts.resume:
            raise OptionError(f"{folder} already holds checkpoints (last {ckpts[-1].name}): give --Resume=1 to "
                              f"continue, or another RunDir")
        state, meta, resume = load_checkpoint(ckpts[-1])
        if meta.get("gvcodec.stage") != stage:
            raise OptionError(f"{ckpts[-1]} is a stage {meta.get('gvcodec.stage')} checkpoint, not stage {stage}")
        load_training_weights(model, state, f"checkpoint {ckpts[-1]}")
    else:
        init = opts.init or (str(stage_output(run_dir, PREVIOUS[stage])) if stage in PREVIOUS else "")
        if init:
            from gvcodec.models.checkpoint import load_state_file

            if not Path(init).is_file():
                raise OptionError(f"stage {stage} starts from {init}, which does not exist: train stage "
                                  f"{PREVIOUS.get(stage, '0')} first or give --Init=WEIGHTS")
            load_training_weights(model, load_state_file(init), f"initial weights {init}")
    trained = select_trainable(model, opts.modules or family.default_modules(stage, model))
    model.to(device)
    perceptual = None
    if opts.perceptual_weight > 0:
        if not opts.perceptual_weights:
            raise OptionError("PerceptualWeight > 0 needs PerceptualWeights=FILE (a local VGG16 weights file); "
                              "gvcodec never downloads weights")
        from gvcodec.train.perceptual import PerceptualLoss

        perceptual = PerceptualLoss(opts.perceptual_weights).to(device)
    stage_model = family.stage_model(model, stage, opts, perceptual).to(device)
    stage_model.bf16 = device.type == "cuda" and opts.bf16 != "0" or opts.bf16 == "1"
    optimizer = make_optimizer(model, opts.learning_rate, opts.weight_decay, parse_betas(opts.betas),
                               fused=device.type == "cuda")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: the autotuned kernels are reused every step
    ema = Ema(model, opts.ema_decay) if opts.ema_decay > 0 else None
    disc = disc_opt = None
    if opts.adv_weight > 0 and stage in ("0", "II"):
        from gvcodec.train.adversarial import PatchDiscriminator3d

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(opts.seed + 1)
            disc = PatchDiscriminator3d(opts.adv_channels).to(device)
        disc_opt = torch.optim.AdamW(disc.parameters(), lr=opts.learning_rate, betas=(0.5, 0.9))
    start, elapsed = 0, 0.0
    if resume is not None:
        optimizer.load_state_dict(resume["optimizer"])
        if ema is not None:
            ema.load_state_dict(resume["ema"])
        if disc is not None and "disc" in resume:
            disc.load_state_dict(resume["disc"])
            disc_opt.load_state_dict(resume["disc_opt"])
        set_rng_state(resume["rng"])
        start, elapsed = int(resume["step"]), float(resume.get("seconds", 0.0))
        say(f"stage {stage}: resuming at step {start} from {ckpts[-1]}")
    else:
        seed_everything(opts.seed * 10 + STAGES.index(stage))
    if start >= opts.steps and output.is_file():
        return output

    points = family.rate_points(opts, model)  # (QP label, lambda) drawn per step
    spec = family.clip_spec(opts, model)
    per_step = opts.batch_size * world.size
    if opts.cache_dir and not world.is_main:
        dist.barrier()  # rank 0 fills the cache first
    dataset, skipped = build_dataset(opts.data, opts.images if family.images else "", opts.image_fraction, spec,
                                     opts.seed, per_step, opts.cache_dir, opts.max_frames)
    if opts.cache_dir and world.is_main:
        dist.barrier()
    for s in skipped:
        say(f"stage {stage}: skipped {s}")
    say(f"stage {stage}: {len(dataset.clips.videos)} videos, steps {start}..{opts.steps}, batch {opts.batch_size} x "
        f"{world.size} process(es), crop {opts.crop[0]}x{opts.crop[1]}, {spec.frames} frames, device {device}, "
        f"training {len(trained)} tensors ({sum(p.numel() for p in model.parameters() if p.requires_grad):,} parameters)")
    find_unused = family.find_unused(stage, dataset.images is not None, disc is not None)
    net = dist.wrap(stage_model, world, device, find_unused)
    if opts.compile:
        net = torch.compile(net)
    loader = make_loader(dataset, start, opts.steps, opts.batch_size, world.rank, world.size, opts.workers,
                         pin_memory=device.type == "cuda")
    log = CsvLog(folder / "log.csv", start) if world.is_main else None
    display = TrainDisplay(opts.progress if world.is_main else "0", TERM_COLUMNS)
    params = [p for p in model.parameters() if p.requires_grad]
    meta = model_metadata(opts, stage, model)

    def checkpoint(step: int) -> None:
        if world.is_main:
            train_state = {"step": step, "stage": stage, "seconds": elapsed + time.monotonic() - t_start,
                           "optimizer": optimizer.state_dict(), "rng": rng_state()}
            if ema is not None:
                train_state["ema"] = ema.state_dict()
            if disc is not None:
                train_state["disc"], train_state["disc_opt"] = disc.state_dict(), disc_opt.state_dict()
            path = save_checkpoint(folder, step, model.state_dict(), meta, train_state, opts.keep_checkpoints)
            if opts.verbosity >= 2:
                say(f"stage {stage}: checkpoint {path}")
        dist.barrier()

    t_start = time.monotonic()
    display.start(f"stage {stage}", start, opts.steps)
    step = start
    LAST_STATS.clear()
    LAST_STATS.update(steps=0, seconds=0.0, data_seconds=0.0, marks=[])
    batches = iter(loader)
    try:
        with _Signals() as signals:
            while True:
                t_wait = time.monotonic()
                video = next(batches, None)
                LAST_STATS["data_seconds"] += time.monotonic() - t_wait
                if video is None:
                    break
                video = video.to(device, non_blocking=True)
                lr = learning_rate(step, opts.learning_rate, opts.steps, opts.warmup_steps, opts.min_lr_ratio)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                qp, lam = points[draw_qp(opts.seed, step, world.rank, len(points))]
                log_now = (step + 1) % opts.log_every == 0 or step + 1 == opts.steps
                out = net(video, qp, lam, log_now)
                loss = out["loss"]
                adv_on = disc is not None and step >= opts.adv_start
                terms = dict(out["terms"])
                if adv_on:
                    disc.requires_grad_(False)
                    g_loss = generator_loss(disc(out["recon"]))
                    loss = loss + opts.adv_weight * g_loss
                    terms["adv_g"] = g_loss.detach()
                    disc.requires_grad_(True)
                # No host synchronisation per step: the loss and the gradient norm stay on the device
                # and are read (and checked for finiteness) on log steps only.
                if log_now and not torch.isfinite(loss):
                    raise GvcodecError(f"stage {stage}: loss is not finite at step {step} (qp {qp}); "
                                       f"lower LearningRate or check the data")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if opts.grad_clip > 0:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, opts.grad_clip)
                elif log_now:
                    grad_norm = torch.linalg.vector_norm(torch.stack(
                        [p.grad.detach().norm() for p in params if p.grad is not None]))
                optimizer.step()
                if ema is not None:
                    ema.update(model)
                if adv_on:
                    d_loss = discriminator_loss(disc(video), disc(out["recon"].detach()))
                    disc_opt.zero_grad(set_to_none=True)
                    d_loss.backward()
                    if world.distributed:
                        for p in disc.parameters():
                            if p.grad is not None:
                                torch.distributed.all_reduce(p.grad)
                                p.grad /= world.size
                    disc_opt.step()
                    terms["adv_d"] = d_loss.detach()
                step += 1
                LAST_STATS["steps"] += 1
                LAST_STATS["seconds"] = time.monotonic() - t_start
                LAST_STATS["marks"].append((LAST_STATS["seconds"], LAST_STATS["data_seconds"]))
                if log_now:
                    values = {k: float(v) for k, v in terms.items()}
                    values["loss"] = float(loss.detach())
                    if out["psnr"] is not None:
                        values["psnr"] = out["psnr"]
                    values = dist.mean_over_ranks(values)
                    row = {"step": step, "stage": stage, "qp": qp, "lambda": lam if stage != "0" else None,
                           "lr": lr, "grad_norm": float(grad_norm), "seconds": elapsed + time.monotonic() - t_start, **values}
                    if log is not None:
                        log.write(row)
                    display.update(step, row)
                time_up = bool(opts.max_seconds) and time.monotonic() - t_start >= opts.max_seconds
                code = _stop_requested(max(signals.code, int(time_up)))
                stop, time_up = (code if code > 1 else 0), code == 1
                pause = bool(opts.stop_after) and step - start >= opts.stop_after and step < opts.steps
                if step % opts.checkpoint_every == 0 or step == opts.steps or stop or pause or time_up:
                    checkpoint(step)
                if stop:
                    exc = Interrupted(f"stage {stage} interrupted at step {step}; checkpoint written to {folder}, "
                                      f"continue with --Resume=1")
                    exc.exit_code = stop  # 130 (SIGINT) or 143 (SIGTERM), as the other commands exit
                    raise exc
                if pause:
                    say(f"stage {stage}: stopped at step {step} of {opts.steps} (StopAfter); continue with --Resume=1")
                    return None
                if time_up and step < opts.steps:
                    say(f"stage {stage}: MaxSeconds {opts.max_seconds:g} reached at step {step} of {opts.steps}; "
                        f"the stage output holds the weights so far")
                    break
                if step >= opts.steps:
                    break
    finally:
        display.stop()
        # Drop the loader's iterator now (its workers shut down here), not when the traceback of an
        # interrupt is freed at interpreter exit, where the worker shutdown can hang.
        batches = None  # noqa: F841
    if start == 0 and opts.steps == 0:
        checkpoint(0)
    if world.is_main:
        final = ema.averaged_state(model) if ema is not None else model.state_dict()
        save_weights(output, final, {**meta, "gvcodec.step": str(step)})
        say(f"stage {stage}: done at step {step}; weights {output}")
    if on_done is not None:
        on_done(model)
    dist.barrier()
    return output
