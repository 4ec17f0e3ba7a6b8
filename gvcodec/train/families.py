"""Model families of `gvcodec train`: which stages a model has, and what in a stage is model-specific.

One option table (options.py), one loop (loop.py) and one run driver (run.py) serve every model;
the family of the Model option (read from its YAML: a `givic:` section means GIViC) supplies the
rest: the stages (GNVC-VD 0, I, II; GIViC P), the seeded model, shape checks, the default trained
modules, the stage's loss module, the (QP, lambda) points drawn per step, the sample layout, the
metadata of the weights files and the conversion.
"""

from __future__ import annotations

import math

import torch

from gvcodec.errors import ModelError, OptionError
from gvcodec.train.data import ClipSpec


class GnvcVdFamily:
    """GNVC-VD (cfg/models/gnvc-vd-*.yaml): stages 0 (VAE), I (latent alignment), II (pixel fine-tuning)."""

    name = "gnvc-vd"
    stages = ("0", "I", "II")
    convert_stage = "II"  # the stage whose options (crop, frames) the conversion measures with
    images = True  # image batches (ImageFraction) are supported

    def build(self, opts, name: str | None = None):
        from gvcodec.models.gnvc_vd.model import GnvcVd

        return GnvcVd.from_config(name or opts.model, seed=opts.seed)

    def check(self, opts, model, stage: str, say) -> None:
        vae = model.vae.cfg
        frames, (w, h) = opts.frames, opts.crop
        if (frames - 1) % vae.temporal_stride:
            raise OptionError(f"Frames {frames}: clips need 1 + {vae.temporal_stride}k frames for this VAE")
        step = math.lcm(opts.crop_multiple, vae.spatial_stride * model.dit.cfg.patch_size[1])
        if w % step or h % step:
            raise OptionError(f"Crop {w}x{h} must be a multiple of {step} (CropMultiple {opts.crop_multiple}, "
                              f"VAE stride x DiT patch)")
        pad = vae.spatial_stride * model.codec.cfg.pad_multiple
        if stage != "0" and (w % pad or h % pad):
            say(f"stage {stage}: note: crop {w}x{h} is not a multiple of {pad}: the codec codes "
                f"replicate padding, so bpp is overestimated and steps cost more")

    def default_modules(self, stage: str, model) -> str:
        from gvcodec.train.stages import DEFAULT_MODULES

        return DEFAULT_MODULES[stage]

    def stage_model(self, model, stage: str, opts, perceptual):
        from gvcodec.train.stages import StageModel

        return StageModel(model, stage, opts, perceptual)

    def rate_points(self, opts, model) -> list[tuple[int, float]]:
        """(QP index, lambda) per drawable QP: the codec's per-QP gains, geometric lambdas."""
        from gvcodec.train.stages import lambda_table

        return list(enumerate(lambda_table(opts.lambda_min, opts.lambda_max, model.codec.cfg.qp_levels)))

    def clip_spec(self, opts, model) -> ClipSpec:
        return ClipSpec(opts.frames, opts.crop, opts.max_stride, opts.flip)

    def find_unused(self, stage: str, has_images: bool, has_disc: bool) -> bool:
        # Which parameters a step uses depends on the clip: the predictive codec's P-feature adaptor only
        # from the third latent on, nothing predictive (or temporal in the VAE) for 1-frame image clips.
        return stage != "0" or has_images or has_disc

    def metadata(self, opts, model) -> dict[str, str]:
        return {"gvcodec.refine_steps": str(opts.refine_steps), "gvcodec.start_mix": str(opts.start_mix),
                "gvcodec.context_seed": str(opts.context_seed)}

    def convert(self, src, dst, opts, say) -> dict:
        from gvcodec.train.convert import convert

        return convert(src, dst, opts, say)


class GivicFamily:
    """GIViC (cfg/models/givic-*.yaml): stage P, the pretraining of grid encoder, denoiser and S0."""

    name = "givic"
    stages = ("P",)
    convert_stage = "P"
    images = False  # native 4:2:0 video clips only

    def build(self, opts, name: str | None = None):
        from gvcodec.models.givic.config import load_givic_config
        from gvcodec.models.givic.model import Givic

        cfg = load_givic_config(name or opts.model)
        with torch.random.fork_rng(devices=[]):  # as weights.seeded_model, with Seed for init_seed
            torch.manual_seed(opts.seed)
            return Givic(cfg)

    def frames(self, opts, model) -> int:
        return opts.frames or model.cfg.gop_frames

    def check(self, opts, model, stage: str, say) -> None:
        w, h = opts.crop
        step = math.lcm(opts.crop_multiple, model.cfg.alignment)
        if w % step or h % step:
            raise OptionError(f"Crop {w}x{h} must be a multiple of {step} (CropMultiple {opts.crop_multiple}, "
                              f"GIViC alignment 2^levels)")
        if opts.qp_min > opts.qp_max:
            raise OptionError(f"QpMin {opts.qp_min} is above QpMax {opts.qp_max}")
        if opts.images and opts.image_fraction > 0:
            say(f"stage {stage}: note: GIViC pretraining reads native 4:2:0 videos only; Images are not used")

    def default_modules(self, stage: str, model) -> str:
        return ",".join(sorted({n.split(".")[0] for n, _ in model.named_parameters()}))

    def stage_model(self, model, stage: str, opts, perceptual):
        from gvcodec.models.givic.config import load_overfit_config
        from gvcodec.train.givic import GivicStageModel

        return GivicStageModel(model, opts, load_overfit_config(opts.model))

    def rate_points(self, opts, model) -> list[tuple[int, float]]:
        """(QP, lambda) per QP of QpMin..QpMax: the lambdas the engine overfits with at that QP."""
        from gvcodec.models.givic.config import load_overfit_config

        ocfg = load_overfit_config(opts.model)
        return [(qp, ocfg.lambda_for_qp(qp)) for qp in range(opts.qp_min, opts.qp_max + 1)]

    def clip_spec(self, opts, model) -> ClipSpec:
        return ClipSpec(self.frames(opts, model), opts.crop, opts.max_stride, opts.flip, yuv420=True)

    def find_unused(self, stage: str, has_images: bool, has_disc: bool) -> bool:
        return True  # the coarsest level has no parent states: their mixing gates get no gradient

    def metadata(self, opts, model) -> dict[str, str]:
        from gvcodec.train.givic import engine_metadata

        return {**engine_metadata(opts.model, model.cfg, self.frames(opts, model)),
                "gvcodec.sample_steps": str(model.cfg.sample_steps)}

    def clips(self, opts, model, count: int) -> list[torch.Tensor]:
        """`count` fixed training clips (stride 1, no flip, seed 12345) for the conversion's measurement."""
        from gvcodec.train.data import build_dataset

        if not count or not opts.data:
            return []
        spec = ClipSpec(self.frames(opts, model), opts.crop, 1, False, yuv420=True)
        dataset, _ = build_dataset(opts.data, "", 0.0, spec, seed=12345, per_step=1, cache_dir=opts.cache_dir,
                                   max_frames=opts.max_frames)
        return [dataset[i].unsqueeze(0) for i in range(count)]

    def convert(self, src, dst, opts, say) -> dict:
        from gvcodec.train.givic import convert_givic

        return convert_givic(src, dst, opts, self, say)


GNVC_VD = GnvcVdFamily()
GIVIC = GivicFamily()


def family_of(model: str):
    """The training family of a Model value (a name in cfg/models or a model YAML path)."""
    from gvcodec.models.families import family_of as model_family

    try:
        return model_family(str(model)).part("train")
    except ModelError as exc:
        raise OptionError(f"Model: {exc}") from None


def check_stage(family, stage: str, model: str) -> None:
    """Refuse a stage the model's family does not train, in one line."""
    if stage != "all" and stage not in family.stages:
        raise OptionError(f"Stage {stage} does not train {model} ({family.name}: stages {', '.join(family.stages)})")
