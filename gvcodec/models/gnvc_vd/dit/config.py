"""Size configuration of the video DiT (the `dit:` section of a model YAML file; no torch import).

The paper size is Wan2.1-T2V-1.3B plus the VACE-1.3B adapter, so the public checkpoints load by
key; tiny and small differ only in numbers. A config with an empty `vace_layers` is the plain
text-to-video DiT (the Wan2.1-T2V layout).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gvcodec.errors import ModelError


@dataclass(frozen=True)
class DitConfig:
    """Size of the video DiT in the Wan2.1 block layout, with an optional VACE-style adapter.

    Attributes:
        dim: hidden width of the token stream.
        ffn_dim: hidden width of the feed-forward layers.
        freq_dim: width of the sinusoidal timestep embedding.
        num_heads: attention heads; the head dim dim // num_heads must be even (RoPE pairs).
        num_layers: DiT blocks.
        in_dim: latent channels in.
        out_dim: latent channels out (the velocity).
        patch_size: (t, h, w) patch of the Conv3d patch embedding.
        text_len: tokens of the cross-attention context the model is used with.
        text_dim: channels of the cross-attention context (before `text_embedding`).
        qk_norm: RMS-normalise queries and keys over the full dim.
        cross_attn_norm: affine LayerNorm (`norm3`) before cross-attention; identity otherwise.
        eps: epsilon of every norm.
        vace_layers: DiT layers served by an adapter block, strictly increasing; empty = no adapter.
        vace_in_dim: channels of the adapter's conditioning input.
    """

    dim: int = 1536
    ffn_dim: int = 8960
    freq_dim: int = 256
    num_heads: int = 12
    num_layers: int = 30
    in_dim: int = 16
    out_dim: int = 16
    patch_size: tuple[int, int, int] = (1, 2, 2)
    text_len: int = 512
    text_dim: int = 4096
    qk_norm: bool = True
    cross_attn_norm: bool = True
    eps: float = 1e-6
    vace_layers: tuple[int, ...] = tuple(range(0, 30, 2))
    vace_in_dim: int = 96

    def __post_init__(self) -> None:
        positive = ("dim", "ffn_dim", "freq_dim", "num_heads", "num_layers", "in_dim", "out_dim",
                    "text_len", "text_dim", "vace_in_dim")
        bad = [name for name in positive if int(getattr(self, name)) < 1]
        if bad:
            raise ModelError(f"dit config: {', '.join(bad)} must be positive: {self}")
        if self.dim % self.num_heads or (self.dim // self.num_heads) % 2:
            raise ModelError(f"dit config: dim {self.dim} must split into {self.num_heads} heads of even size "
                             "(RoPE rotates channel pairs)")
        if self.head_dim < 6:
            raise ModelError(f"dit config: head dim {self.head_dim} is too small for the (t, h, w) RoPE split")
        if self.freq_dim % 2:
            raise ModelError(f"dit config: freq_dim {self.freq_dim} must be even (cos and sin halves)")
        if len(self.patch_size) != 3 or any(p < 1 for p in self.patch_size):
            raise ModelError(f"dit config: patch_size must be three positive ints, got {self.patch_size}")
        layers = list(self.vace_layers)
        if layers != sorted(set(layers)) or any(not 0 <= i < self.num_layers for i in layers):
            raise ModelError(f"dit config: vace_layers {layers} must be strictly increasing layer indexes "
                             f"in [0, {self.num_layers})")
        if not self.eps > 0:
            raise ModelError(f"dit config: eps must be positive, got {self.eps}")

    @property
    def head_dim(self) -> int:
        """Channels per attention head (128 for the paper size)."""
        return self.dim // self.num_heads

    @property
    def has_vace(self) -> bool:
        """Whether the config has the conditioning adapter."""
        return len(self.vace_layers) > 0

    @property
    def patch_volume(self) -> int:
        """Latent samples per token (prod(patch_size))."""
        pt, ph, pw = self.patch_size
        return pt * ph * pw

    def without_vace(self) -> DitConfig:
        """The same DiT without the adapter (the Wan2.1-T2V layout for the paper size)."""
        return replace(self, vace_layers=())

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "dit config") -> DitConfig:
        """The config of a `dit` section mapping (lists become tuples; errors name `source`)."""
        from gvcodec.models.configs import config_from_section

        return config_from_section(cls, data, "dit", source, nullable=("vace_layers",))


def load_dit_config(name_or_path: str | Path) -> DitConfig:
    """The `dit` section of a model YAML file (a path, or a name in cfg/models such as gnvc-vd-tiny)."""
    from gvcodec.models.configs import load_section

    return load_section(name_or_path, "dit", DitConfig.from_dict)
