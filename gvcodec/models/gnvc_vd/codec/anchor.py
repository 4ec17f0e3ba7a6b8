"""ELIC-style codec of the anchor latent (the first latent of a GOP).

Layout (He et al. 2022, CompressAI `Elic2022Official` proportions) on 16-channel latents:
g_a/g_s of 5x5 convs with residual bottleneck blocks and attention blocks, hyperprior h_a/h_s,
y split into uneven channel groups coded in order, each with a checkerboard spatial context
(anchors first) and a channel context from the previous groups, and a 1x1 parameter
aggregation net -> (scale, mean). Variable rate: per-QP gain vectors on y (encoder gain before
quantisation, decoder gain before g_s) and a per-QP factorized z prior; QP index 0 = coarsest.

Exact coding (see `codec_coding` for the portable symbol design): h_s, the spatial and channel
context nets, the parameter aggregation, the decoder gain and g_s all run as integer twins
(`codec_int.to_int`) on decoded integers. g_s is in the exact path because the decoded anchor
latent is the predictive codec's first reference, which feeds its prior path.
"""

from __future__ import annotations

import torch
from torch import nn

from gvcodec.entropy.distributions import gaussian_likelihood, quantize
from gvcodec.entropy.fixedpoint import QFormat
from gvcodec.entropy.tables import ScaleTable
from gvcodec.errors import BitstreamError
from gvcodec.models.gnvc_vd.codec.coding import StepCoder, gaussian_conditional, checkerboard
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig
from gvcodec.models.gnvc_vd.codec.integer import TwinsFollowModule, int_channel_scale, to_int
from gvcodec.models.gnvc_vd.codec.layers import (
    AttentionBlock,
    CheckerboardConv,
    QpGain,
    ResidualBottleneckBlock,
    channel_ramp,
    conv,
    deconv,
)
from gvcodec.models.gnvc_vd.codec.qp_prior import QpFactorizedPrior

GAIN_RANGE = (0.25, 4.0)  # initial encoder gains of QP 0 and the last QP (decoder: inverse)


def _rbbs(n: int) -> list[nn.Module]:
    return [ResidualBottleneckBlock(n) for _ in range(3)]


class AnchorLatentCodec(TwinsFollowModule, nn.Module):
    """ELIC-style anchor latent codec.

    Args:
        cfg: codec sizes (anchor_* fields, latent_channels, qp_levels, fixed-point format).
    """

    def __init__(self, cfg: LatentCodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n, m, lc, g = cfg.anchor_n, cfg.anchor_m, cfg.latent_channels, list(cfg.anchor_groups)
        s, hs = cfg.anchor_strides, cfg.anchor_hyper_strides
        att = AttentionBlock if cfg.anchor_attention else (lambda ch: nn.Identity())
        self.groups = g
        self.g_a = nn.Sequential(conv(lc, n, 5, s[0]), *_rbbs(n), conv(n, n, 5, s[1]), *_rbbs(n), att(n),
                                 conv(n, n, 5, s[2]), *_rbbs(n), conv(n, m, 5, s[3]), att(m))
        self.g_s = nn.Sequential(att(m), deconv(m, n, 5, s[3]), *_rbbs(n), deconv(n, n, 5, s[2]), att(n),
                                 *_rbbs(n), deconv(n, n, 5, s[1]), *_rbbs(n), deconv(n, lc, 5, s[0]))
        self.h_a = nn.Sequential(conv(m, n, 3), nn.ReLU(), conv(n, n, 5, hs[0]), nn.ReLU(), conv(n, n, 5, hs[1]))
        self.h_s = nn.Sequential(deconv(n, n, 5, hs[1]), nn.ReLU(), deconv(n, n * 3 // 2, 5, hs[0]), nn.ReLU(),
                                 deconv(n * 3 // 2, n * 2, 3))
        w1, w2 = cfg.anchor_ctx_widths
        self.channel_context = nn.ModuleList(
            nn.Sequential(conv(sum(g[:k]), w1), nn.ReLU(), conv(w1, w2), nn.ReLU(), conv(w2, 2 * g[k]))
            for k in range(1, len(g)))
        self.spatial_context = nn.ModuleList(CheckerboardConv(gk, 2 * gk) for gk in g)
        self.param_aggregation = nn.ModuleList(
            channel_ramp(2 * gk + (k > 0) * 2 * gk + 2 * n, 2 * gk, min_ch=2 * n) for k, gk in enumerate(g))
        self.z_prior = QpFactorizedPrior(cfg.qp_levels, n, cfg.z_max_support)
        self.gain_enc = QpGain(cfg.qp_levels, m, *GAIN_RANGE)
        self.gain_dec = QpGain(cfg.qp_levels, m, 1 / GAIN_RANGE[0], 1 / GAIN_RANGE[1])
        self.gaussian = gaussian_conditional(ScaleTable(cfg.scale_min, cfg.scale_max, cfg.scale_levels), cfg.act_frac)
        self.q = QFormat(cfg.weight_frac, cfg.act_frac, cfg.act_bits, cfg.lut_range)
        self._int: dict | None = None

    # ---------------------------------------------------------------- training (float twins)
    def forward(self, x: torch.Tensor, qp: int, mode: str = "ste") -> dict:
        """Training pass on one padded latent.

        Args:
            x: (B, C, H, W) latent, H and W multiples of cfg.pad_multiple.
            qp: QP index.
            mode: quantisation of y and z ("ste", "noise" or "round").

        Returns:
            {"x_hat": decoded latent, "likelihoods": {"y": ..., "z": ...}}.
        """
        y = self.gain_enc(self.g_a(x), qp)
        z_hat, z_lik = self.z_prior(self.h_a(y), qp, mode)
        hyper = self.h_s(z_hat)
        h, w = y.shape[-2:]
        anchor = checkerboard(h, w, 0, y.device)
        done, lik = [], []
        for k, yk in enumerate(y.split(self.groups, dim=1)):
            ch = [self.channel_context[k - 1](torch.cat(done, 1))] if k else []
            zeros = y.new_zeros(y.shape[0], 2 * yk.shape[1], h, w)  # anchors have no spatial context
            sa, ma = self.param_aggregation[k](torch.cat([zeros, *ch, hyper], 1)).chunk(2, 1)
            ya = quantize(yk, mode, ma) * anchor
            sn, mn = self.param_aggregation[k](torch.cat([self.spatial_context[k](ya), *ch, hyper], 1)).chunk(2, 1)
            yk_hat = ya + quantize(yk, mode, mn) * ~anchor
            scales, means = torch.where(anchor, sa, sn), torch.where(anchor, ma, mn)
            lik.append(gaussian_likelihood(yk_hat, scales, means, self.cfg.scale_min))
            done.append(yk_hat)
        x_hat = self.g_s(self.gain_dec(torch.cat(done, 1), qp))
        return {"x_hat": x_hat, "likelihoods": {"y": torch.cat(lik, 1), "z": z_lik}}

    # ---------------------------------------------------------------- exact coding
    def freeze(self) -> dict:
        """Build (and cache) the integer twins of the prior path and g_s; call after training."""
        q = self.q
        self._int = {
            "h_s": to_int(self.h_s, q), "g_s": to_int(self.g_s, q),
            "channel_context": to_int(self.channel_context, q), "spatial_context": to_int(self.spatial_context, q),
            "param_aggregation": to_int(self.param_aggregation, q),
            "gain_dec": [int_channel_scale(self.gain_dec.vector(i), q) for i in range(self.cfg.qp_levels)],
        }
        self._place_twins()  # some pieces (CheckerboardConv.plain, LUTs) are built on the CPU
        return self._int

    def _twins(self) -> dict:
        return self._int if self._int is not None else self.freeze()

    def _code(self, z_hat: torch.Tensor, qp: int, coder: StepCoder, y: torch.Tensor | None) -> torch.Tensor:
        """Prior path + y steps, identical for encoder and decoder; returns the decoded latent (Q(f))."""
        t, f = self._twins(), self.cfg.act_frac
        hyper = t["h_s"](z_hat.to(self._module_device(), torch.float64) * float(1 << f))
        h, w = hyper.shape[-2:]
        anchor = checkerboard(h, w, 0, hyper.device)
        ys = y.split(self.groups, dim=1) if y is not None else [None] * len(self.groups)
        done = []
        for k, gk in enumerate(self.groups):
            ch = [t["channel_context"][k - 1](torch.cat(done, 1))] if k else []
            zeros = hyper.new_zeros(hyper.shape[0], 2 * gk, h, w)
            sa, ma = t["param_aggregation"][k](torch.cat([zeros, *ch, hyper], 1)).chunk(2, 1)
            ya = coder.step(anchor, sa, ma, ys[k])
            sn, mn = t["param_aggregation"][k](torch.cat([t["spatial_context"][k](ya), *ch, hyper], 1)).chunk(2, 1)
            done.append(ya + coder.step(~anchor, sn, mn, ys[k]))
        return t["g_s"](t["gain_dec"][qp](torch.cat(done, 1)))

    @torch.no_grad()
    def compress(self, x: torch.Tensor, qp: int, check_decode: bool = False, what: str = "anchor"):
        """Code one padded latent.

        Args:
            x: (1, C, H, W) latent, H and W multiples of cfg.pad_multiple.
            qp: QP index (0 = coarsest).
            check_decode: decode every part again and compare (MismatchError on a difference).
            what: unit name for errors.

        Returns:
            (parts: list of payload parts [z, y steps...], symbols: list of int32 tensors,
            x_hat_q: decoded latent as Q(act_frac) integer-valued float64).
        """
        y = self.gain_enc(self.g_a(x), qp)
        z_hat = torch.round(self.h_a(y)).to(torch.int32)
        z_bytes = self.z_prior.compress(z_hat, qp)
        if check_decode:
            self.z_prior.check_decode_qp(z_bytes, z_hat, qp, f"{what} z")
        coder = StepCoder(self.gaussian, self.cfg.act_frac, check_decode=check_decode, what=what)
        x_hat_q = self._code(z_hat, qp, coder, y)
        return [z_bytes, *coder.parts], [z_hat.reshape(-1), *coder.symbols], x_hat_q

    @torch.no_grad()
    def decompress(self, parts: list[bytes], size: tuple[int, int], qp: int, what: str = "anchor"):
        """Decode one latent of padded size `size` = (H, W) from `parts`.

        Returns:
            (symbols, x_hat_q) as in `compress`.
        """
        if not parts:
            raise BitstreamError(f"{what}: empty payload")
        zh, zw = size[0] // self.cfg.anchor_stride, size[1] // self.cfg.anchor_stride
        z_hat = self.z_prior.decompress(parts[0], (1, self.cfg.anchor_n, zh, zw), qp, self._module_device())
        coder = StepCoder(self.gaussian, self.cfg.act_frac, parts=parts[1:], what=what)
        x_hat_q = self._code(z_hat, qp, coder, None)
        coder.finish()
        return [z_hat.reshape(-1), *coder.symbols], x_hat_q
