"""What each training stage computes, which parameters it trains, and the per-QP lambda table.

Stage 0 (VAE):        L = w_l1 |V' - V| + w_mse MSE(V', V) + w_reg mean(l^2) [+ MS-SSIM, perceptual, adversarial]
Stage I (alignment):  L = R + lambda_q (w_c |x_c - x_1|^2 + w_r |x~_1 - x_1|^2) + w_cfm L_CFM
Stage II (pixels):    L = R + lambda_q (w_p MSE(V~, V) + w_ms (1 - MS-SSIM) + w_lp perceptual
                             + w_c |x_c - x_1|^2 + w_r |x~_1 - x_1|^2) [+ adversarial]

with V the clip, x_1 the VAE latents, x_c the latent codec's decoded latents, R its rate in bits
per pixel, x~_1 the DiT's refined latents and V~ their decoding (GNVC-VD's stages, seed
reference section 5). L_CFM is the conditional flow-matching loss of `losses.cfm_path`: the DiT,
its VACE adapter reading cat(x_c, f_t) (f_t: the codec's context features), learns the straight
flow from the refinement start point (StartMix x_c + noise) to x_1. In stage I x~_1 is the
one-step estimate x_t - t v at the drawn time; in stage II it is the TrainRefineSteps-step Euler
refinement the decoder runs (or the one-step estimate when 0), decoded by the VAE.

Variable rate: one model; each step draws a QP index q uniformly from 0..qp_levels-1 (per rank),
the codec applies its per-QP gain vectors, and the distortion weight is
lambda_q = LambdaMin * (LambdaMax / LambdaMin) ** (q / (qp_levels - 1)) (index 0 = coarsest).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gvcodec.errors import OptionError
from gvcodec.models.gnvc_vd.flow import flow_timesteps
from gvcodec.train.losses import bits_per_pixel, cfm_path, msssim_loss, pixel_mse, psnr

DEFAULT_MODULES = {"0": "vae", "I": "codec,dit", "II": "codec,dit"}
TERMS = {
    "0": ("l1", "mse", "latent_reg", "msssim", "perceptual"),
    "I": ("bpp", "codec_mse", "refine_mse", "cfm"),
    "II": ("bpp", "pixel_mse", "msssim", "perceptual", "codec_mse", "refine_mse"),
}


def lambda_table(lambda_min: float, lambda_max: float, levels: int) -> list[float]:
    """Geometric lambdas from lambda_min (QP index 0, coarsest) to lambda_max (last index)."""
    if levels == 1:
        return [lambda_max]
    if lambda_min <= 0:
        raise OptionError("LambdaMin must be positive (lambdas are spaced geometrically)")
    return [lambda_min * (lambda_max / lambda_min) ** (q / (levels - 1)) for q in range(levels)]


def draw_qp(seed: int, step: int, rank: int, levels: int) -> int:
    """The QP index of a step on a rank (a pure function, so resumed runs draw the same)."""
    return int(np.random.default_rng([seed, 0x9D, step, rank]).integers(0, levels))


def select_trainable(model: nn.Module, modules: str) -> list[str]:
    """Train the parameters whose names start with one of the comma-separated prefixes; freeze the rest.

    Returns:
        Names of the trained parameters.
    """
    prefixes = [p.strip() for p in modules.split(",") if p.strip()]
    names = [n for n, _ in model.named_parameters()]
    for p in prefixes:
        if not any(n.startswith(p) for n in names):
            raise OptionError(f"Modules: no parameter name starts with `{p}' (e.g. vae, vae.decoder, codec, dit, dit.vace_)")
    trained = []
    for n, param in model.named_parameters():
        on = any(n.startswith(p) for p in prefixes)
        param.requires_grad_(on)
        if on:
            trained.append(n)
    return trained


class StageModel(nn.Module):
    """The loss of one stage around a GnvcVd (the module DistributedDataParallel wraps).

    Args:
        model: the GnvcVd.
        stage: "0", "I" or "II".
        opts: the stage's TrainOptions.
        perceptual: a PerceptualLoss, or None.
    """

    def __init__(self, model: nn.Module, stage: str, opts, perceptual: nn.Module | None = None) -> None:
        super().__init__()
        self.model, self.stage, self.perceptual = model, stage, perceptual
        self.w = {k: opts[k] for k in ("L1Weight", "MseWeight", "LatentRegWeight", "PixelWeight", "MsssimWeight",
                                       "PerceptualWeight", "CodecLatentWeight", "RefineLatentWeight", "CfmWeight")}
        self.quant_mode, self.start_mix = opts.quant_mode, opts.start_mix
        self.refine_steps = opts.train_refine_steps
        self.bf16 = False
        if stage != "0":
            self.register_buffer("context", model.context(opts.context_seed), persistent=False)

    def _autocast(self, video: Tensor):
        if self.bf16 and video.is_cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _encode(self, video: Tensor) -> Tensor:
        vae = self.model.vae
        frozen = not any(p.requires_grad for p in vae.encoder.parameters())
        with torch.no_grad() if frozen else contextlib.nullcontext(), self._autocast(video):
            return vae.encode(video, one_pass=True).float()

    def forward(self, video: Tensor, qp: int = 0, lam: float = 1.0, with_psnr: bool = True) -> dict:
        """Loss and its terms for one batch.

        Returns:
            {"loss": scalar, "terms": {name: detached scalar}, "recon": decoded clip (stages 0, II)
            or None, "psnr": dB of the decoded clip or None}.
        """
        if self.stage == "0":
            return self._stage0(video, with_psnr)
        return self._coded(video, qp, lam, with_psnr)

    def _pixel_terms(self, rec: Tensor, video: Tensor, terms: dict) -> Tensor:
        extra = rec.new_zeros(())
        if self.w["MsssimWeight"] > 0:
            terms["msssim"] = msssim_loss(rec, video)
            extra = extra + self.w["MsssimWeight"] * terms["msssim"]
        if self.perceptual is not None and self.w["PerceptualWeight"] > 0:
            terms["perceptual"] = self.perceptual(rec.float(), video.float())
            extra = extra + self.w["PerceptualWeight"] * terms["perceptual"]
        return extra

    def _stage0(self, video: Tensor, with_psnr: bool = True) -> dict:
        vae = self.model.vae
        with self._autocast(video):
            mu = vae.encode(video, one_pass=True)
            rec = vae.decode(mu, clamp=False, one_pass=True).float()
        mu = mu.float()
        terms = {"l1": (rec - video).abs().mean(), "mse": pixel_mse(rec, video), "latent_reg": mu.pow(2).mean()}
        loss = self.w["L1Weight"] * terms["l1"] + self.w["MseWeight"] * terms["mse"] \
            + self.w["LatentRegWeight"] * terms["latent_reg"] + self._pixel_terms(rec, video, terms)
        quality = psnr(rec, video) if with_psnr else None  # a host sync: log steps only
        return {"loss": loss, "terms": {k: v.detach() for k, v in terms.items()}, "recon": rec, "psnr": quality}

    def _velocity(self, x: Tensor, t: Tensor, cond: Tensor, video: Tensor) -> Tensor:
        with self._autocast(video):
            return self.model.dit(x, 1000.0 * t, self.context, cond).float()

    def _coded(self, video: Tensor, qp: int, lam: float, with_psnr: bool) -> dict:
        x1 = self._encode(video)
        with torch.autocast("cuda", enabled=False) if video.is_cuda else contextlib.nullcontext():
            out = self.model.codec(x1, qp, self.quant_mode)
        xc, cond = out["latents"], torch.cat([out["latents"], out["context"]], 1)
        terms = {"bpp": bits_per_pixel(out["bits"], video), "codec_mse": F.mse_loss(xc, x1)}
        n, t0 = x1.shape[0], 1.0 - self.start_mix
        if self.stage == "II" and self.refine_steps > 0:
            times = flow_timesteps(self.refine_steps, self.start_mix)
            x = self.start_mix * xc + t0 * torch.randn_like(x1)
            for t_now, t_next in zip(times[:-1], times[1:]):
                x = x + (t_next - t_now) * self._velocity(x, x1.new_full((n,), t_now), cond, video)
            refined = x
        else:
            t = (1.0 - torch.rand(n, device=x1.device)) * t0  # (0, t0]
            x_t, target = cfm_path(x1, xc.detach(), torch.randn_like(x1), t, self.start_mix)
            pred = self._velocity(x_t, t, cond, video)
            if self.stage == "I":
                terms["cfm"] = F.mse_loss(pred, target)
            refined = x_t - t.view(-1, 1, 1, 1, 1) * pred
        terms["refine_mse"] = F.mse_loss(refined, x1)
        dist = self.w["CodecLatentWeight"] * terms["codec_mse"] + self.w["RefineLatentWeight"] * terms["refine_mse"]
        rec, quality = None, None
        if self.stage == "II":
            with self._autocast(video):
                rec = self.model.vae.decode(refined, clamp=False, one_pass=True).float()
            terms["pixel_mse"] = pixel_mse(rec, video)
            dist = dist + self.w["PixelWeight"] * terms["pixel_mse"] + self._pixel_terms(rec, video, terms)
            quality = psnr(rec, video) if with_psnr else None
        elif with_psnr:
            with torch.no_grad(), self._autocast(video):
                quality = psnr(self.model.vae.decode(refined.detach(), one_pass=True).float(), video)
        loss = terms["bpp"] + lam * dist + (self.w["CfmWeight"] * terms["cfm"] if "cfm" in terms else 0.0)
        return {"loss": loss, "terms": {k: v.detach() for k, v in terms.items()}, "recon": rec, "psnr": quality}
