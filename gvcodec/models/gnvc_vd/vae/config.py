"""Size of GNVC-VD's causal 3D VAE: the `vae` section of a model YAML file (no torch import here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gvcodec.errors import ModelError
from gvcodec.models.configs import config_from_section


@dataclass(frozen=True)
class Vae3dConfig:
    """Size of the causal 3D VAE in the Wan2.1 layout.

    Attributes:
        dim: base channel count; stage widths are dim * dim_mult[i].
        z_dim: latent channels (the encoder emits 2 * z_dim: mean and log-variance).
        dim_mult: width multipliers of the stages; len(dim_mult) - 1 spatial halvings.
        num_res_blocks: residual blocks per encoder stage (the decoder has one more).
        attn_scales: spatial scales (1, 1/2, ...) that get a self-attention block after each residual block.
        temporal_downsample: per down stage, whether it also halves time (decoder uses it reversed).
        dropout: dropout rate inside the residual blocks.
        latent_mean: per-channel mean subtracted from mu; None means zeros.
        latent_std: per-channel std dividing mu - mean; None means ones.
    """

    dim: int = 96
    z_dim: int = 16
    dim_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    attn_scales: tuple[float, ...] = ()
    temporal_downsample: tuple[bool, ...] = (False, True, True)
    dropout: float = 0.0
    latent_mean: tuple[float, ...] | None = None
    latent_std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.dim < 1 or self.z_dim < 1 or self.num_res_blocks < 0 or not self.dim_mult:
            raise ModelError(f"vae config: dim, z_dim, dim_mult and num_res_blocks must be positive: {self}")
        if len(self.temporal_downsample) != len(self.dim_mult) - 1:
            raise ModelError(f"vae config: temporal_downsample needs {len(self.dim_mult) - 1} flags "
                             f"(one per down stage), got {len(self.temporal_downsample)}")
        for name in ("latent_mean", "latent_std"):
            values = getattr(self, name)
            if values is not None and len(values) != self.z_dim:
                raise ModelError(f"vae config: {name} has {len(values)} values, z_dim is {self.z_dim}")
        if self.latent_std is not None and any(s <= 0 for s in self.latent_std):
            raise ModelError("vae config: latent_std values must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ModelError(f"vae config: dropout {self.dropout} is outside [0, 1)")

    @property
    def spatial_stride(self) -> int:
        """Pixels per latent along height and width (8 for the Wan2.1 layout)."""
        return 2 ** (len(self.dim_mult) - 1)

    @property
    def temporal_stride(self) -> int:
        """Frames per latent after the first one (4 for the Wan2.1 layout)."""
        return 2 ** sum(bool(f) for f in self.temporal_downsample)

    def latent_frames(self, frames: int) -> int:
        """Latent frames for a clip of `frames` frames (which must be 1 + temporal_stride * k)."""
        return 1 + (frames - 1) // self.temporal_stride

    def video_frames(self, latents: int) -> int:
        """Frames decoded from `latents` latent frames."""
        return 1 + (latents - 1) * self.temporal_stride

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "vae config") -> Vae3dConfig:
        """The config of a `vae` section mapping (lists become tuples; errors name `source`)."""
        return config_from_section(cls, data, "vae", source)


def load_vae_config(name_or_path: str | Path) -> Vae3dConfig:
    """The `vae` section of a model YAML file (a path, or a name in cfg/models such as gnvc-vd-tiny)."""
    from gvcodec.models.configs import load_section

    return load_section(name_or_path, "vae", Vae3dConfig.from_dict)
