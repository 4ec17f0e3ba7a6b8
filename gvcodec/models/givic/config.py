"""GIViC size and overfitting configuration (the `givic:` and `overfit:` sections of a model YAML).

No torch import here. Sizes live only in cfg/models/givic-*.yaml; the model code has none.
See docs/givic.md for what each field means and which choices the public record leaves open.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from gvcodec.errors import ModelError
from gvcodec.models.configs import config_from_section, read_model_section, resolve_model_cfg

CHROMA_MODES = ("420", "444", "444_learned")
OVERFIT_SUBSETS = ("bias", "head", "embed", "ada")
OBJECTIVES = ("sample", "denoise")


@dataclass(frozen=True)
class GivicConfig:
    """Architecture of one GIViC variant.

    Attributes:
        gop_frames: GOP length the model is built for (random access, 32 in the seed).
        levels: K, levels of the coarse-to-fine spatio-temporal pyramid (level K-1 = full size).
        temporal_pyramid: coarser levels also halve the frame count (never below 1 frame).
        token_size: (t, h, w) voxels of one constant-size token, the same at every level.
        patch_size: (t, h, w) voxels of one patch; a token is a sequence of patches.
        dim: transformer width.
        num_layers: HGLA blocks.
        num_heads: heads of the gated linear attention (head dim = dim // num_heads).
        ffn_dim: hidden width of the feed-forward layers.
        gate_rank: rank of the low-rank forget-gate projection (GLA).
        gate_tau: gate temperature: log alpha = logsigmoid(g) / gate_tau.
        gate_min_log: lower clamp of log alpha per step (keeps the chunked scan in range).
        chunk: sub-chunk length of the chunkwise GLA scan inside a token.
        freq_dim: width of the sinusoidal timestep embedding.
        grid_channels: channels of each latent grid.
        grid_strides: (t, h, w) stride of each latent grid relative to the full-size GOP.
        encoder_dim: width of the grid encoder (amortized grid initialization).
        encoder_stages: spatial stride-2 stages of the grid encoder trunk.
        chroma_mode: "420" (two output channels, loss in 4:2:0; the seed's design), "444"
            (three channels, loss in 4:4:4, chroma down-sampled; ablation V6.1) or "444_learned"
            (as 444 with a learned down-sampling layer fine-tuned on 4:2:0 distortion; V6.2).
        sample_steps: default diffusion sampling steps (the DiffusionSteps option overrides).
        state_step: quantization step of the per-GOP initial hidden states.
        param_step: quantization step of the coded parameter updates.
        scale_min, scale_max, scale_levels: the Gaussian scale table of the coded symbols.
        init_seed: seed of the deterministic initialization used when no checkpoint is given.
    """

    gop_frames: int = 32
    levels: int = 3
    temporal_pyramid: bool = True
    token_size: tuple[int, int, int] = (4, 32, 32)
    patch_size: tuple[int, int, int] = (1, 4, 4)
    dim: int = 512
    num_layers: int = 16
    num_heads: int = 8
    ffn_dim: int = 2048
    gate_rank: int = 16
    gate_tau: float = 16.0
    gate_min_log: float = -6.0
    chunk: int = 8
    freq_dim: int = 256
    grid_channels: int = 4
    grid_strides: tuple[tuple[int, int, int], ...] = ((1, 4, 4), (2, 8, 8), (4, 16, 16))
    encoder_dim: int = 64
    encoder_stages: int = 4
    chroma_mode: str = "420"
    sample_steps: int = 8
    state_step: float = 1.0 / 64
    param_step: float = 1.0 / 256
    scale_min: float = 0.11
    scale_max: float = 256.0
    scale_levels: int = 128
    init_seed: int = 0

    def __post_init__(self) -> None:
        positive = ("gop_frames", "levels", "dim", "num_layers", "num_heads", "ffn_dim", "gate_rank",
                    "chunk", "freq_dim", "grid_channels", "encoder_dim", "sample_steps", "scale_levels")
        for name in positive:
            if getattr(self, name) < 1:
                raise ModelError(f"givic config: {name} must be positive, got {getattr(self, name)}")
        if self.dim % self.num_heads:
            raise ModelError(f"givic config: dim {self.dim} is not a multiple of num_heads {self.num_heads}")
        if len(self.token_size) != 3 or len(self.patch_size) != 3:
            raise ModelError("givic config: token_size and patch_size need three values (t, h, w)")
        if any(t % p for t, p in zip(self.token_size, self.patch_size)):
            raise ModelError(f"givic config: token_size {self.token_size} is not a multiple of "
                             f"patch_size {self.patch_size}")
        if self.patch_size[1] % 2 or self.patch_size[2] % 2:
            raise ModelError("givic config: patch height and width must be even (4:2:0 chroma multiplex)")
        if not self.grid_strides or any(len(s) != 3 or min(s) < 1 for s in self.grid_strides):
            raise ModelError(f"givic config: grid_strides must be (t, h, w) triples >= 1, got {self.grid_strides}")
        if self.chroma_mode not in CHROMA_MODES:
            raise ModelError(f"givic config: chroma_mode `{self.chroma_mode}' (known: {', '.join(CHROMA_MODES)})")
        if not (self.state_step > 0 and self.param_step > 0 and 0 < self.scale_min < self.scale_max):
            raise ModelError("givic config: steps and scales must be positive, scale_min < scale_max")
        if self.scale_levels > 255:
            raise ModelError("givic config: scale_levels must fit in a byte (<= 255)")
        if self.gate_min_log >= 0 or self.gate_min_log * (self.chunk - 1) < -80:
            raise ModelError("givic config: gate_min_log * (chunk - 1) must lie in [-80, 0) (float32 range)")

    @property
    def out_channels(self) -> int:
        """Denoiser output channels: 2 (luma + multiplexed chroma) in 4:2:0 mode, else 3."""
        return 2 if self.chroma_mode == "420" else 3

    @property
    def patch_voxels(self) -> int:
        return self.patch_size[0] * self.patch_size[1] * self.patch_size[2]

    @property
    def token_patches(self) -> int:
        """Patches per token (the constant sequence length of one token)."""
        return (self.token_size[0] // self.patch_size[0]) * (self.token_size[1] // self.patch_size[1]) * \
            (self.token_size[2] // self.patch_size[2])

    @property
    def digest(self) -> bytes:
        """SHA-256 of the serialized architecture (stored in the sequence header)."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).digest()

    @property
    def alignment(self) -> int:
        """The coded picture size must be a multiple of this (even chroma at every pyramid level)."""
        return 2 ** self.levels


@dataclass(frozen=True)
class OverfitConfig:
    """Per-GOP fine-tuning at encode time (defaults of the OverfitSteps / OverfitLambda options).

    Attributes:
        steps: optimizer steps per GOP (0 = the seed's "w/o overfit": encoder grids, pretrained model).
        warm_steps: steps when InitFromPreviousGOP starts from the previous GOP.
        lr_grids: Adam learning rate of the grids and hidden states (integer domain).
        lr_params: Adam learning rate of the parameter updates.
        params: the subset of model parameters that is fine-tuned and coded (see docs/givic.md):
            bias (every bias of the denoiser), head (the output projection), embed (the patch
            embedding), ada (the adaLN modulation weights).
        objective: "sample" (distortion of the unrolled few-step sampler, what the decoder
            outputs) or "denoise" (the diffusion denoising loss at a random time).
        hard_fraction: final fraction of the steps that uses straight-through rounding instead
            of additive noise.
        lambda_ref: lambda at QP 32 for rate (bits per pixel) + lambda x MSE (on [0, 1]);
            lambda doubles every 3 QP down.
        grid_qp_period: QP difference that doubles the grids' quantization step (step 1 at QP
            32; the step is written in the stream). This is what moves the rate of a pretrained
            model without overfitting; 0 = step 1 at every QP.
        checkpoint_blocks: recompute each denoiser block in the backward pass of the overfit loop
            instead of keeping its activations (about 1/3 more compute, a fraction of the memory:
            the unrolled sampler at CIF otherwise needs tens of GB).
    """

    steps: int = 200
    warm_steps: int = 100
    lr_grids: float = 0.05
    lr_params: float = 1e-3
    params: tuple[str, ...] = ("bias", "head")
    objective: str = "sample"
    hard_fraction: float = 0.3
    lambda_ref: float = 1000.0
    grid_qp_period: float = 6.0
    checkpoint_blocks: bool = True

    def __post_init__(self) -> None:
        if self.grid_qp_period < 0:
            raise ModelError("overfit config: grid_qp_period must be >= 0")
        if self.steps < 0 or self.warm_steps < 0:
            raise ModelError("overfit config: steps must be >= 0")
        bad = [p for p in self.params if p not in OVERFIT_SUBSETS]
        if bad:
            raise ModelError(f"overfit config: unknown parameter subset `{bad[0]}' "
                             f"(known: {', '.join(OVERFIT_SUBSETS)})")
        if self.objective not in OBJECTIVES:
            raise ModelError(f"overfit config: objective `{self.objective}' (known: {', '.join(OBJECTIVES)})")
        if not 0.0 <= self.hard_fraction <= 1.0 or self.lambda_ref <= 0:
            raise ModelError("overfit config: hard_fraction in [0, 1] and lambda_ref > 0 required")

    def lambda_for_qp(self, qp: int) -> float:
        """lambda of rate + lambda x distortion at a QP (HM-like: x2 every 3 QP down)."""
        return self.lambda_ref * 2.0 ** ((32 - qp) / 3.0)

    def grid_step_for_qp(self, qp: int) -> float:
        """Quantization step of the grids at a QP (HM-like: x2 every grid_qp_period QP up)."""
        return 2.0 ** ((qp - 32) / self.grid_qp_period) if self.grid_qp_period > 0 else 1.0


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, (list, tuple)) else v


def load_givic_config(name_or_path: str | Path) -> GivicConfig:
    """The `givic` section of a model YAML (a name in cfg/models such as givic-tiny, or a path)."""
    path = resolve_model_cfg(name_or_path)
    data = read_model_section(path, "givic")
    if isinstance(data, dict):
        data = {k: _tuples(v) for k, v in data.items()}
    return config_from_section(GivicConfig, data, "givic", str(path))


def load_overfit_config(name_or_path: str | Path) -> OverfitConfig:
    """The `overfit` section of a model YAML (defaults when absent)."""
    path = resolve_model_cfg(name_or_path)
    try:
        data = read_model_section(path, "overfit")
    except ModelError:
        return OverfitConfig()
    return config_from_section(OverfitConfig, data, "overfit", str(path))
