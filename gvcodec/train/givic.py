"""GIViC pretraining (stage P) and the conversion of its weights.

GIViC codes a GOP by overfitting latent grids (and optionally S0 and a parameter subset) at encode
time, starting from the grid encoder's output, and decodes by sampling the HGLA diffusion model
(gvcodec/models/givic). Pretraining therefore trains exactly the two things every encode starts
from: the grid encoder (the amortised grid initialisation; all that `OverfitSteps=0` codes) and the
shared denoiser with its default hidden states S0, end to end under the encoder's own RD objective

    L = R(grids^) / pixels + lambda_QP * (D_420(x^_K, x) + CoarseWeight * mean_k<K D_k)

per clip, with

* grids^ = E(x) / step_QP in units of the QP's grid quantization step (the model's
  `overfit.grid_step_for_qp`, x2 every 6 QP up, 1 at QP 32: the step the engine writes in the
  stream), the decoder seeing grids^ x step_QP (+ the result of `InnerSteps` Adam steps of the encode-time overfit loop on this
  clip's grids at this lambda, first order: the fitted offset is a constant for the outer step),
  quantised by additive uniform noise for the rate and, with QuantMode=ste, rounded with a
  straight-through gradient for the decoder (noise: the noisy grids);
* R: bits of the noisy grids under a zero-mean Gaussian per grid channel whose scale is the RMS of
  the channel's float values (at least scale_min; the table family the payload coder picks from by
  the RMS of the symbols: `coding.choose_index`), in bits per luma pixel;
* D_420: (4 MSE_Y + MSE_U + MSE_V) / 6 on [0, 1] of the full-size level in native 4:2:0 (the
  model's `distortion`), D_k: MSE on [0, 1] of each coarser pyramid level against its target;
  `Objective=denoise` takes the x0 predictions of the diffusion denoising pass at a random t per
  level (`Givic.denoise_loss_levels`), `sample` those of the unrolled few-step sampler the decoder
  runs (`Givic.sample`, the model's `sample_steps`);
* lambda_QP = the model's `overfit.lambda_for_qp` (lambda_ref at QP 32, x2 every 3 QP down), QP
  drawn per step uniformly from QpMin..QpMax: the lambdas the encoder overfits with.

The samples are packed 4:2:0 clips [N, 2, T, H, W] (`ClipSpec.yuv420`); the model codes one GOP at a
time, so a batch is a loop over its clips (losses averaged).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gvcodec.errors import MismatchError, ModelError, OptionError

GIVIC_TERMS = ("bpp", "mse", "coarse_mse")


def gop_of(packed: Tensor):
    """A packed 4:2:0 clip [1, 2, T, H, W] -> the model's GopVideo (all frames valid)."""
    from gvcodec.models.givic.model import GopVideo
    from gvcodec.models.givic.yuv420 import unpack420

    y, u, v = unpack420(packed.permute(0, 2, 1, 3, 4))
    return GopVideo(y.unsqueeze(1), u.unsqueeze(1), v.unsqueeze(1), packed.shape[2])


def grid_bits(values: list[Tensor], grids: list[Tensor], scale_min: float) -> Tensor:
    """Rate proxy of (noisy or rounded) grid values: per channel, a zero-mean Gaussian whose scale is
    the RMS of that channel of `grids` (the float grids; at least scale_min)."""
    from gvcodec.models.givic.coding import rate_bits

    total = values[0].new_zeros(())
    for v, g in zip(values, grids):
        rms = g.reshape(g.shape[0], -1).pow(2).mean(dim=1).add(1e-12).sqrt()
        total = total + rate_bits(v.reshape(v.shape[0], -1), torch.log(rms), scale_min)
    return total


class GivicStageModel(nn.Module):
    """The stage-P loss around a Givic model (the module DistributedDataParallel wraps).

    Args:
        model: the Givic model.
        opts: the stage's TrainOptions (Objective, CoarseWeight, InnerSteps, QuantMode).
        overfit: the model's OverfitConfig (the inner steps use its grid learning rate).
    """

    def __init__(self, model: nn.Module, opts, overfit) -> None:
        super().__init__()
        self.model = model
        self.objective, self.quant_mode = opts.objective, opts.quant_mode
        self.coarse_weight, self.inner_steps = opts.coarse_weight, opts.inner_steps
        self.inner_lr = overfit.lr_grids
        self.overfit = overfit
        self.steps = model.cfg.sample_steps
        self.bf16 = False  # the GIViC stage runs in float32

    def forward(self, video: Tensor, qp: int = 32, lam: float = 1.0, with_psnr: bool = True) -> dict:
        """Loss and terms of a batch of packed 4:2:0 clips [N, 2, T, H, W] (mean over the clips).

        Returns:
            {"loss", "terms" (bpp, mse, coarse_mse), "recon": None, "psnr": dB of the decoder's
            output on the rounded grids (OverfitSteps=0), or None}.
        """
        n = video.shape[0]
        loss, terms, psnrs = 0.0, {}, []
        for i in range(n):
            out = self._clip(gop_of(video[i:i + 1]), lam, self.overfit.grid_step_for_qp(qp), with_psnr)
            loss = loss + out["loss"] / n
            for k, v in out["terms"].items():
                terms[k] = terms.get(k, 0.0) + v / n
            if out["psnr"] is not None:
                psnrs.append(out["psnr"])
        return {"loss": loss, "terms": terms, "recon": None, "psnr": sum(psnrs) / len(psnrs) if psnrs else None}

    def _seed(self) -> int:
        # Noise seeds come from the global torch RNG (saved in checkpoints): resumes draw the same.
        return int(torch.randint(0, 2**31 - 1, ()))

    def _rd(self, grids: list[Tensor], gop, lam: float, step: float, hard: bool) -> tuple[Tensor, dict]:
        """Rate + lambda x distortion of float grids (in units of the QP's grid step) for one clip."""
        m = self.model
        noisy = [g + torch.empty_like(g).uniform_(-0.5, 0.5) for g in grids]
        hat = [(g + (torch.round(g) - g).detach()) * step for g in grids] if hard else [g * step for g in noisy]
        bits = grid_bits(noisy, grids, m.cfg.scale_min)
        s0 = m.state_init
        if self.objective == "sample":
            preds = m.sample(hat, s0, gop.size, self.steps, self._seed())
        else:
            preds = m.denoise_loss_levels(hat, s0, gop, torch.Generator().manual_seed(self._seed()))
        full = m.distortion(preds[-1], gop)  # the encoder's overfit distortion (4:2:0, or 4:4:4 in mode 444)
        sizes = m.level_sizes(gop.size)
        coarse = [F.mse_loss(p, m.target(gop, k, sizes[k])) / 4 for k, p in enumerate(preds[:-1])]
        coarse_mse = torch.stack(coarse).mean() if coarse else full.new_zeros(())
        px = gop.valid * gop.size[1] * gop.size[2]
        bpp = bits / px
        loss = bpp + lam * (full + self.coarse_weight * coarse_mse)
        return loss, {"bpp": bpp.detach(), "mse": full.detach(), "coarse_mse": coarse_mse.detach()}

    def _inner(self, grids: list[Tensor], gop, lam: float, step: float) -> list[Tensor]:
        """The encode-time overfit loop on this clip's grids (Adam, noise quantisation), first order:
        returns the fitted offsets, detached."""
        base = [g.detach() for g in grids]
        deltas = [torch.zeros_like(g, requires_grad=True) for g in base]
        opt = torch.optim.Adam(deltas, lr=self.inner_lr)
        for _ in range(self.inner_steps):
            loss, _ = self._rd([b + d for b, d in zip(base, deltas)], gop, lam, step, hard=False)
            grads = torch.autograd.grad(loss, deltas)  # the model's parameters get no gradient here
            for d, g in zip(deltas, grads):
                d.grad = g
            opt.step()
        return [d.detach() for d in deltas]

    def _clip(self, gop, lam: float, step: float, with_psnr: bool) -> dict:
        m = self.model
        grids = [g / step for g in m.encoder(gop.x444)]  # symbols at this QP, as the engine codes them
        if self.inner_steps:
            grids = [g + d for g, d in zip(grids, self._inner(grids, gop, lam, step))]
        loss, terms = self._rd(grids, gop, lam, step, hard=self.quant_mode == "ste")
        quality = None
        if with_psnr:
            with torch.no_grad():
                hat = [torch.round(g.detach()) * step for g in grids]
                x = m.sample(hat, m.state_init, gop.size, self.steps, 0)[-1]
                mse = float(m.distortion(x.clamp(-1, 1), gop, "420"))
            quality = 10.0 * torch.log10(torch.tensor(1.0 / max(mse, 1e-10))).item()
        return {"loss": loss, "terms": terms, "psnr": quality}


# -- conversion ---------------------------------------------------------------------------------

def engine_name(model: str) -> str:
    """The engine's model name for a training Model value (a name, or a YAML path named after it)."""
    p = Path(model)
    return p.stem if p.suffix.lower() in (".yaml", ".yml") else model


def engine_metadata(model_name: str, cfg, frames: int) -> dict[str, str]:
    """The metadata `gvcodec.models.givic.loading.load_model` checks: model, config hash, and as GOP
    length the clip length the weights were trained on (the engine then asks for GOPFrames to match)."""

    return {"gvcodec_model": engine_name(model_name), "gop_frames": str(frames), "config_hash": cfg.digest.hex()}


@torch.no_grad()
def measure_clips(model, clips: list[Tensor]) -> dict:
    """Code each clip as `OverfitSteps=0` does (rounded encoder grids, default S0, no updates): the
    rate proxy of training vs the real payload, a payload round trip, and the sampler's PSNR."""
    from gvcodec.models.givic.codec import GivicCodec
    from gvcodec.models.givic.coding import HEAD, decode_gop, encode_gop, make_prior
    from gvcodec.models.givic.config import OverfitConfig

    prior = make_prior(model.cfg)
    codec = GivicCodec(model, OverfitConfig(params=()), model.cfg.sample_steps, ())
    est = coded = px = overhead = 0.0
    psnrs = []
    for i, packed in enumerate(clips):
        gop = gop_of(packed)
        params = codec.fit(gop, 0, 1.0, seed=i)
        payload, digest = encode_gop(prior, params, gop.valid, i)
        dec = decode_gop(prior, payload, codec.template(gop.size, with_deltas=False), f"conversion clip {i}")
        if dec.symbol_hash != digest:
            raise MismatchError("conversion check: the payload does not decode to the coded grids")
        est += float(grid_bits(params.grids, params.grids, model.cfg.scale_min))
        fixed = HEAD.size + len(dec.indexes) + 4  # header, one table byte per channel, length field
        coded += 8 * (len(payload) - fixed)
        overhead += 8 * fixed
        px += gop.valid * gop.size[1] * gop.size[2]
        x = codec.reconstruct(dec.params, gop.size, dec.seed).clamp(-1, 1)
        psnrs.append(10.0 * torch.log10(1.0 / model.distortion(x, gop, "420").clamp(min=1e-10)).item())
    if not clips:
        return {"clips": 0}
    return {"clips": len(clips), "bpp_estimated": est / px, "bpp_coded": coded / px, "bpp_overhead": overhead / px,
            "rate_cost": coded / est - 1.0 if est > 1.0 else None, "psnr_no_overfit": sum(psnrs) / len(psnrs)}


def convert_givic(src: Path, dst: Path, opts, family, say=print) -> dict:
    """Final GIViC weights from `src` (a checkpoint's EMA weights when its sidecar has them).

    GIViC's entropy coding needs no stored tables (every channel's Gaussian table index is written
    in the payload, the scale table comes from the config), so the conversion rounds to float16 when
    asked, measures what `OverfitSteps=0` codes on ConvertClips training clips (rate proxy vs real
    payload, payload round trip, PSNR), writes a .safetensors file with the engine's metadata and
    checks that the engine's loader accepts it.
    """
    from gvcodec.models.givic.loading import load_model
    from gvcodec.models.families import GIVIC, family_of
    from gvcodec.train.checkpoint import load_training_weights, read_metadata, save_weights, training_weights

    meta = read_metadata(src)
    name = meta.get("gvcodec.model") or opts.model
    if family_of(name) is not GIVIC:
        raise OptionError(f"{src} holds {name} weights, not a GIViC model")
    model = family.build(opts, name)
    load_training_weights(model, training_weights(src), f"weights {src}")
    model.eval().requires_grad_(False)
    if opts.fp16:  # round first: what is measured is what loads
        for t in model.parameters():
            t.data = t.data.half().float()
    clips = family.clips(opts, model, opts.convert_clips)
    report = measure_clips(model, clips)
    metadata = {k: v for k, v in meta.items() if k.startswith("gvcodec.") and k != "gvcodec.format"}
    frames = int(meta.get("gop_frames") or family.frames(opts, model))
    metadata.update(engine_metadata(name, model.cfg, frames))
    metadata.update({"gvcodec.stage": "final", "gvcodec.converted_from": str(src),
                     "gvcodec.conversion": json.dumps(report)})
    state = model.state_dict()
    if opts.fp16:
        params = {n for n, _ in model.named_parameters()}
        state = {k: v.half() if k in params else v for k, v in state.items()}
    save_weights(dst, state, metadata)
    try:  # the output must load into the engine's model of the same name and configuration
        loaded, _, _ = load_model(engine_name(name), model.cfg, str(dst), frames)
    except ModelError as exc:
        raise ModelError(f"conversion wrote weights that do not load: {exc}") from None
    if any(not torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values())):
        raise MismatchError("conversion check: the written weights load to another model than the one measured")
    if clips:
        cost = "n/a" if report["rate_cost"] is None else f"{100 * report['rate_cost']:+.2f} %"
        say(f"convert: OverfitSteps=0 on {len(clips)} clip(s): grids estimated {report['bpp_estimated']:.5f} bpp, "
            f"coded {report['bpp_coded']:.5f} bpp (rate cost {cost}) + {report['bpp_overhead']:.5f} bpp payload "
            f"header and table bytes; {report['psnr_no_overfit']:.2f} dB")
    say(f"convert: wrote {dst}" + ("" if clips else " (no data given: rate cost not measured)"))
    return report
