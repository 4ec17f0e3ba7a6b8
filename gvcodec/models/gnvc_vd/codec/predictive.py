"""DCVC-RT-style conditional codec of the predictive latents l_t (t >= 1), and the context head.

Layout (DCVC-RT P model `DMC` on 16-channel latents instead of pixel-unshuffled frames): the
reference is the previous *decoded* feature (or, after the anchor, the decoded anchor latent
through `feature_adaptor_i`); a feature extractor turns it into ctx_t (temporal prior input)
and ctx (conditional coding context) - implicit temporal modelling, no optical flow. The
encoder codes cat(latent feature, ctx) to y at 1/2 resolution; hyperprior z at 1/8; the prior
fusion merges hyper and temporal priors into (q_step, scale, mean); a two-step dual spatial
prior (DCVC-HEM) codes half of y, then predicts the rest; the decoder rebuilds the feature
from (y_hat, ctx), which is both the next reference and the input of the reconstruction net.
Variable rate: per-QP vectors q_encoder / q_decoder / q_feature / q_recon and a per-QP z prior.

Exact coding: everything between the decoded integers and the next reference (feature
adaptors, extractor, hyper decoder, temporal prior, fusion, spatial prior, q_step, decoder) runs
as integer twins, so the reference chain - and with it every table index of later latents - is
bit-exact everywhere. Only the analysis side (encoder-only) and the reconstruction/context head
(output-only) stay float.
"""

from __future__ import annotations

import torch
from torch import nn

from gvcodec.entropy.distributions import gaussian_likelihood, quantize
from gvcodec.entropy.fixedpoint import QFormat, requantize, to_real
from gvcodec.entropy.tables import ScaleTable
from gvcodec.errors import BitstreamError
from gvcodec.models.gnvc_vd.codec.coding import StepCoder, gaussian_conditional, dual_masks
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig
from gvcodec.models.gnvc_vd.codec.integer import TwinsFollowModule, int_channel_scale, to_int
from gvcodec.models.gnvc_vd.codec.layers import DCBlock, DownBlock, QpGain, UpBlock
from gvcodec.models.gnvc_vd.codec.qp_prior import QpFactorizedPrior

GAIN_RANGE = (0.25, 4.0)  # initial q_encoder of QP 0 and the last QP (q_decoder: inverse)
_INT_PARTS = ("feature_adaptor_i", "feature_adaptor_p", "extractor_t", "extractor", "hyper_decoder",
              "temporal_prior", "prior_fusion", "spatial_prior", "dec_up", "dec_body")


class PredictiveLatentCodec(TwinsFollowModule, nn.Module):
    """Conditional latent codec in the DCVC-RT P layout.

    Args:
        cfg: codec sizes (pred_* fields, latent_channels, qp rows, fixed-point format).
    """

    def __init__(self, cfg: LatentCodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, yc, zc, r, lc = cfg.pred_feature, cfg.pred_y, cfg.pred_z, cfg.pred_recon, cfg.latent_channels
        rows = cfg.pred_qp_rows
        self.feature_adaptor_i = DCBlock(lc, d)
        self.feature_adaptor_p = nn.Conv2d(d, d, 1)
        self.extractor_t = nn.Sequential(DCBlock(d, d), DCBlock(d, d))
        self.extractor = nn.Sequential(*(DCBlock(d, d) for _ in range(4)))
        self.enc_in = nn.Conv2d(lc, d, 1)
        self.enc_body = nn.Sequential(DCBlock(2 * d, d), DCBlock(d, d))
        self.enc_out = DCBlock(d, d)
        self.enc_down = nn.Conv2d(d, yc, 3, stride=2, padding=1)
        self.hyper_encoder = nn.Sequential(DCBlock(yc, zc), DownBlock(zc, zc), DownBlock(zc, zc))
        self.hyper_decoder = nn.Sequential(UpBlock(zc, zc), UpBlock(zc, zc), DCBlock(zc, yc))
        self.temporal_prior = DownBlock(d, 2 * yc)
        self.prior_fusion = nn.Sequential(*(DCBlock(3 * yc, 3 * yc) for _ in range(3)), nn.Conv2d(3 * yc, 3 * yc, 1))
        self.spatial_prior = nn.Sequential(DCBlock(4 * yc, 3 * yc), DCBlock(3 * yc, 3 * yc),
                                           nn.Conv2d(3 * yc, 2 * yc, 1))
        self.dec_up = nn.Sequential(nn.Conv2d(yc, 4 * d, 3, padding=1), nn.PixelShuffle(2))
        self.dec_body = nn.Sequential(DCBlock(2 * d, d), DCBlock(d, d), DCBlock(d, d), nn.Conv2d(d, d, 1))
        self.recon = nn.Sequential(DCBlock(d, r), *(DCBlock(r, r) for _ in range(3)))
        self.recon_head = nn.Conv2d(r, lc, 1)
        self.z_prior = QpFactorizedPrior(rows, zc, cfg.z_max_support)
        self.q_encoder = QpGain(rows, d, *GAIN_RANGE)
        self.q_decoder = QpGain(rows, d, 1 / GAIN_RANGE[0], 1 / GAIN_RANGE[1])
        self.q_feature = QpGain(rows, d)
        self.q_recon = QpGain(rows, r)
        self.gaussian = gaussian_conditional(ScaleTable(cfg.scale_min, cfg.scale_max, cfg.scale_levels), cfg.act_frac)
        self.q = QFormat(cfg.weight_frac, cfg.act_frac, cfg.act_bits, cfg.lut_range)
        self._int: dict | None = None

    # ---------------------------------------------------------------- shared float pieces
    def analysis(self, x: torch.Tensor, ctx: torch.Tensor, qp: int) -> torch.Tensor:
        """Encoder g_a(l_t | ctx) -> y (float; encoder only)."""
        return self.enc_down(self.q_encoder(self.enc_out(self.enc_body(torch.cat([self.enc_in(x), ctx], 1))), qp))

    def reconstruct(self, feature: torch.Tensor, qp: int) -> torch.Tensor:
        """Decoded feature -> decoded latent (float, output only)."""
        return self.recon_head(self.q_recon(self.recon(feature), qp))

    # ---------------------------------------------------------------- training (float twins)
    def reference_feature(self, ref: torch.Tensor, is_latent: bool) -> torch.Tensor:
        """Adapt the reference: a decoded latent (after the anchor) or the previous decoded feature."""
        return self.feature_adaptor_i(ref) if is_latent else self.feature_adaptor_p(ref)

    def forward(self, x: torch.Tensor, ref: torch.Tensor, ref_is_latent: bool, qp: int, mode: str = "ste") -> dict:
        """Training pass on one padded latent.

        Args:
            x: (B, C, H, W) latent l_t.
            ref: previous decoded latent (ref_is_latent) or previous decoded feature.
            ref_is_latent: which of the two `ref` is.
            qp: QP index.
            mode: quantisation of y and z.

        Returns:
            {"x_hat", "feature" (the next reference), "likelihoods": {"y", "z"}}.
        """
        x1 = self.extractor_t(self.reference_feature(ref, ref_is_latent))
        ctx_t, ctx = self.q_feature(x1, qp), self.extractor(x1)
        y = self.analysis(x, ctx, qp)
        z_hat, z_lik = self.z_prior(self.hyper_encoder(y), qp, mode)
        params = self.prior_fusion(torch.cat([self.hyper_decoder(z_hat), self.temporal_prior(ctx_t)], 1))
        qstep, s0, m0 = params.chunk(3, 1)
        qstep = qstep.clamp_min(0.5)
        ys = y / qstep
        mask0, mask1 = dual_masks(y.shape[1], y.shape[2], y.shape[3], y.device)
        y0 = quantize(ys, mode, m0) * mask0
        s1, m1 = self.spatial_prior(torch.cat([y0, params], 1)).chunk(2, 1)
        ys_hat = y0 + quantize(ys, mode, m1) * mask1
        lik = gaussian_likelihood(ys_hat, torch.where(mask0, s0, s1), torch.where(mask0, m0, m1), self.cfg.scale_min)
        feature = self.q_decoder(self.dec_body(torch.cat([self.dec_up(ys_hat * qstep), ctx], 1)), qp)
        return {"x_hat": self.reconstruct(feature, qp), "feature": feature, "likelihoods": {"y": lik, "z": z_lik}}

    # ---------------------------------------------------------------- exact coding
    def freeze(self) -> dict:
        """Build (and cache) the integer twins of the reference chain and prior path."""
        q, rows = self.q, self.cfg.pred_qp_rows
        t = {name: to_int(getattr(self, name), q) for name in _INT_PARTS}
        t["q_feature"] = [int_channel_scale(self.q_feature.vector(i), q) for i in range(rows)]
        t["q_decoder"] = [int_channel_scale(self.q_decoder.vector(i), q) for i in range(rows)]
        self._int = t
        self._place_twins()  # some pieces (LUTs) are built on the CPU
        return t

    def _twins(self) -> dict:
        return self._int if self._int is not None else self.freeze()

    def adapt_reference(self, ref_q: torch.Tensor, is_latent: bool) -> torch.Tensor:
        """Integer twin of `reference_feature` (Q(act_frac) in and out)."""
        t = self._twins()
        return t["feature_adaptor_i"](ref_q) if is_latent else t["feature_adaptor_p"](ref_q)

    def context(self, feat_q: torch.Tensor, qp: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Adapted reference -> (ctx_t_q, ctx_q), exact."""
        t = self._twins()
        x1 = t["extractor_t"](feat_q)
        return t["q_feature"][qp](x1), t["extractor"](x1)

    def _code(self, z_hat, ctx_t_q, ctx_q, qp: int, coder: StepCoder, y: torch.Tensor | None) -> torch.Tensor:
        """Prior path, both steps and the decoder, identical for encoder and decoder -> feature_q."""
        t, f = self._twins(), self.cfg.act_frac
        hyper = t["hyper_decoder"](z_hat.to(ctx_q.device, torch.float64) * float(1 << f))
        params = t["prior_fusion"](torch.cat([hyper, t["temporal_prior"](ctx_t_q)], 1))
        qstep, s0, m0 = params.chunk(3, 1)
        qstep = qstep.clamp_min(float(1 << (f - 1)))  # q_step >= 0.5
        ys = y.to(torch.float64) / to_real(qstep, f) if y is not None else None
        mask0, mask1 = dual_masks(s0.shape[1], s0.shape[2], s0.shape[3], s0.device)
        y0 = coder.step(mask0, s0, m0, ys)
        s1, m1 = t["spatial_prior"](torch.cat([y0, params], 1)).chunk(2, 1)
        y_hat = requantize((y0 + coder.step(mask1, s1, m1, ys)) * qstep, f)
        return t["q_decoder"][qp](t["dec_body"](torch.cat([t["dec_up"](y_hat), ctx_q], 1)))

    @torch.no_grad()
    def compress(self, x: torch.Tensor, feat_q: torch.Tensor, qp: int, check_decode: bool = False,
                 what: str = "latent"):
        """Code one padded latent given the adapted reference feature (`adapt_reference`).

        Args:
            x: (1, C, H, W) latent.
            feat_q: adapted reference, Q(act_frac) integer-valued float64.
            qp: QP index (0 = coarsest).
            check_decode: decode every part again and compare.
            what: unit name for errors.

        Returns:
            (parts, symbols, feature_q): payload parts [z, step 0, step 1], int32 symbols and
            the decoded feature (the next reference, Q(act_frac)).
        """
        ctx_t_q, ctx_q = self.context(feat_q, qp)
        y = self.analysis(x, to_real(ctx_q, self.cfg.act_frac).to(x.dtype), qp)
        z_hat = torch.round(self.hyper_encoder(y)).to(torch.int32)
        z_bytes = self.z_prior.compress(z_hat, qp)
        if check_decode:
            self.z_prior.check_decode_qp(z_bytes, z_hat, qp, f"{what} z")
        coder = StepCoder(self.gaussian, self.cfg.act_frac, check_decode=check_decode, what=what)
        feature_q = self._code(z_hat, ctx_t_q, ctx_q, qp, coder, y)
        return [z_bytes, *coder.parts], [z_hat.reshape(-1), *coder.symbols], feature_q

    @torch.no_grad()
    def decompress(self, parts: list[bytes], feat_q: torch.Tensor, qp: int, what: str = "latent"):
        """Decode one latent from `parts` given the adapted reference; returns (symbols, feature_q)."""
        if not parts:
            raise BitstreamError(f"{what}: empty payload")
        ctx_t_q, ctx_q = self.context(feat_q, qp)
        h, w = feat_q.shape[-2:]
        z_hat = self.z_prior.decompress(parts[0], (1, self.cfg.pred_z, h // 8, w // 8), qp, feat_q.device)
        coder = StepCoder(self.gaussian, self.cfg.act_frac, parts=parts[1:], what=what)
        feature_q = self._code(z_hat, ctx_t_q, ctx_q, qp, coder, None)
        coder.finish()
        return [z_hat.reshape(-1), *coder.symbols], feature_q


class ContextHead(nn.Module):
    """3x3 conv from the decoded feature to the DiT adapter's context features f_t."""

    def __init__(self, cfg: LatentCodecConfig) -> None:
        super().__init__()
        k = cfg.context_kernel
        self.conv = nn.Conv2d(cfg.pred_feature, cfg.context_channels, k, padding=k // 2)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.conv(feature)
