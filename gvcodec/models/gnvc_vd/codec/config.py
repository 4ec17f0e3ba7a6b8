"""Size configuration of the contextual latent codec (the `codec:` section of a model YAML file).

The codec has two networks (GNVC-VD supplement, section C): an ELIC-style *anchor* codec for the
first latent of a GOP and a DCVC-RT-style *predictive* codec for the others, plus a 3x3 context
head that turns the predictive codec's decoded feature into the DiT adapter's context f_t.
Tiny, small and paper differ only in these numbers; the model code has no size constants.
No torch import here, so reading a config stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gvcodec.errors import ModelError


@dataclass(frozen=True)
class LatentCodecConfig:
    """Widths and formats of the latent codec.

    Attributes:
        latent_channels: channels of a VAE latent (16 for Wan2.1).
        anchor_n: ELIC main width N (g_a/g_s, hyper transforms).
        anchor_m: ELIC latent width M (channels of y).
        anchor_groups: uneven channel groups of y, coded in order; they sum to anchor_m.
        anchor_attention: use the Cheng-2020 attention blocks in g_a/g_s.
        anchor_ctx_widths: hidden widths of each channel-context net g_ch^(k) (ELIC: 224, 128).
        anchor_strides: strides of the four 5x5 convs of g_a (g_s mirrors them); parameter
            counts do not depend on them.
        anchor_hyper_strides: strides of the two 5x5 convs of h_a (h_s mirrors them).
        pred_feature: DCVC-RT feature width (g_ch_d).
        pred_y: predictive y channels (g_ch_y).
        pred_z: predictive z channels (g_ch_z).
        pred_recon: width of the reconstruction DC blocks (g_ch_recon).
        context_channels: channels of f_t produced by the context head.
        context_kernel: kernel size of the context head conv.
        qp_levels: QP indexes of the per-QP gain vectors and z priors (0 = lowest quality).
        qp_extra: extra predictive rows beyond qp_levels (DCVC-RT keeps 8 for hierarchical offsets).
        weight_frac: fractional bits of fixed-point weights in the prior path.
        act_frac: fractional bits of fixed-point activations (and of means/scales/y_hat).
        act_bits: fixed-point activations are clamped to +-(2**act_bits - 1).
        lut_range: real input range tabulated for sigmoid-type nonlinearities.
        scale_min: first Gaussian scale level.
        scale_max: last Gaussian scale level.
        scale_levels: number of Gaussian tables.
        z_max_support: hyper-latent tables cover at most -z_max_support..z_max_support.
    """

    latent_channels: int = 16
    anchor_n: int = 192
    anchor_m: int = 320
    anchor_groups: tuple[int, ...] = (16, 16, 32, 64, 192)
    anchor_attention: bool = True
    anchor_ctx_widths: tuple[int, ...] = (224, 128)
    anchor_strides: tuple[int, ...] = (2, 2, 1, 1)
    anchor_hyper_strides: tuple[int, ...] = (2, 2)
    pred_feature: int = 256
    pred_y: int = 128
    pred_z: int = 128
    pred_recon: int = 320
    context_channels: int = 160
    context_kernel: int = 3
    qp_levels: int = 64
    qp_extra: int = 8
    weight_frac: int = 10
    act_frac: int = 8
    act_bits: int = 22
    lut_range: float = 8.0
    scale_min: float = 0.11
    scale_max: float = 64.0
    scale_levels: int = 128
    z_max_support: int = 127

    def __post_init__(self) -> None:
        positive = ("latent_channels", "anchor_n", "anchor_m", "pred_feature", "pred_y", "pred_z",
                    "pred_recon", "context_channels", "context_kernel", "qp_levels", "scale_levels",
                    "z_max_support")
        for name in positive:
            if getattr(self, name) < 1:
                raise ModelError(f"codec config: {name} must be positive, got {getattr(self, name)}")
        if sum(self.anchor_groups) != self.anchor_m or min(self.anchor_groups, default=0) < 1:
            raise ModelError(f"codec config: anchor_groups {list(self.anchor_groups)} must be positive "
                             f"and sum to anchor_m = {self.anchor_m}")
        if self.anchor_n % 2 or self.anchor_m % 2:
            raise ModelError("codec config: anchor_n and anchor_m must be even (bottleneck halves)")
        if len(self.anchor_strides) != 4 or any(s not in (1, 2) for s in self.anchor_strides):
            raise ModelError(f"codec config: anchor_strides needs 4 values of 1 or 2, got {self.anchor_strides}")
        if len(self.anchor_hyper_strides) != 2 or any(s not in (1, 2) for s in self.anchor_hyper_strides):
            raise ModelError("codec config: anchor_hyper_strides needs 2 values of 1 or 2")
        if self.pred_y % 2:
            raise ModelError("codec config: pred_y must be even (two-step dual prior halves)")
        if self.context_kernel % 2 == 0:
            raise ModelError("codec config: context_kernel must be odd")
        if self.qp_extra < 0 or not 0 < self.act_frac <= self.act_bits < 31 or self.weight_frac < 1:
            raise ModelError("codec config: bad qp_extra or fixed-point format")
        if not 0 < self.scale_min < self.scale_max or self.scale_levels < 2:
            raise ModelError("codec config: need 0 < scale_min < scale_max and scale_levels >= 2")

    @property
    def anchor_stride(self) -> int:
        """Latent pixels per anchor hyper-latent pixel (g_a strides x h_a strides)."""
        return math.prod(self.anchor_strides) * math.prod(self.anchor_hyper_strides)

    @property
    def pred_stride(self) -> int:
        """Latent pixels per predictive hyper-latent pixel (y at 1/2, z at 1/8)."""
        return 8

    @property
    def pad_multiple(self) -> int:
        """Latents are replicate-padded (bottom/right) to a multiple of this before coding."""
        return math.lcm(self.anchor_stride, self.pred_stride)

    @property
    def pred_qp_rows(self) -> int:
        """Rows of the predictive codec's per-QP tables (qp_levels + qp_extra)."""
        return self.qp_levels + self.qp_extra

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "codec config") -> LatentCodecConfig:
        """The config of a `codec` section mapping (lists become tuples; errors name `source`)."""
        from gvcodec.models.configs import config_from_section

        return config_from_section(cls, data, "codec", source)


def load_codec_config(name_or_path: str | Path) -> LatentCodecConfig:
    """The `codec` section of a model YAML file (a path, or a name in cfg/models such as gnvc-vd-tiny)."""
    from gvcodec.models.configs import load_section

    return load_section(name_or_path, "codec", LatentCodecConfig.from_dict)
