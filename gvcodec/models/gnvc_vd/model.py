"""The whole GNVC-VD model: 3D VAE + contextual latent codec + VideoDiT, as one module.

One model YAML (sections vae / codec / dit) sizes it; one weights file holds it, with the keys
of each part under its prefix (`vae.`, `codec.`, `dit.`), so `.safetensors` files written by
`gvcodec train` load here strictly. The entropy tables of the latent codec are part of the
state dict (they must be identical in encoder and decoder, so they are stored, never rebuilt
from floats at load time).

The DiT's adapter reads cat(decoded latents, codec context f_t); its input width
`dit.vace_in_dim` must equal codec latent_channels + context_channels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into, load_state_file
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig
from gvcodec.models.gnvc_vd.codec.model import LatentCodec
from gvcodec.models.gnvc_vd.config import load_config
from gvcodec.models.gnvc_vd.dit.config import DitConfig
from gvcodec.models.gnvc_vd.dit.model import VideoDiT, fixed_context, pad_context
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig
from gvcodec.models.gnvc_vd.vae.model import Vae3d

PARTS = ("vae", "codec", "dit")
TEXT_CONTEXT = "dit.text_context"  # optional stored cross-attention context [L, text_dim] (gvcodec import)
_TABLE_SUFFIXES = ("table_freqs", "table_offsets", "table_lengths")


class GnvcVd(nn.Module):
    """VAE, latent codec and DiT of one GNVC-VD size.

    Args:
        vae_cfg / codec_cfg / dit_cfg: the three sections of a model YAML file.
    """

    def __init__(self, vae_cfg: Vae3dConfig, codec_cfg: LatentCodecConfig, dit_cfg: DitConfig) -> None:
        super().__init__()
        if dit_cfg.has_vace and dit_cfg.vace_in_dim != codec_cfg.latent_channels + codec_cfg.context_channels:
            raise ModelError(f"dit.vace_in_dim {dit_cfg.vace_in_dim} must equal codec latent_channels + "
                             f"context_channels = {codec_cfg.latent_channels + codec_cfg.context_channels}")
        if vae_cfg.z_dim != codec_cfg.latent_channels or dit_cfg.in_dim != vae_cfg.z_dim:
            raise ModelError(f"latent channels differ: vae z_dim {vae_cfg.z_dim}, codec "
                             f"{codec_cfg.latent_channels}, dit in_dim {dit_cfg.in_dim}")
        self.vae = Vae3d(vae_cfg)
        self.codec = LatentCodec(codec_cfg)
        self.dit = VideoDiT(dit_cfg)

    @classmethod
    def from_config(cls, name_or_path: str | Path, seed: int = 0) -> "GnvcVd":
        """Build a model from a YAML name or path; parameters start from a seeded initialisation."""
        cfg = load_config(name_or_path)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return cls(cfg.vae, cfg.codec, cfg.dit)

    # -- weights ---------------------------------------------------------------------------------
    def _size_tables_like(self, state: dict[str, torch.Tensor]) -> None:
        # Integer tables start empty; give them the stored shapes so the strict check compares names.
        own = dict(self.named_buffers())
        for key, value in state.items():
            if key.endswith(_TABLE_SUFFIXES) and key in own and own[key].numel() == 0:
                module_name, _, buf = key.rpartition(".")
                setattr(self.get_submodule(module_name), buf, torch.zeros_like(value))

    def set_text_context(self, context: torch.Tensor | None) -> None:
        """Store a precomputed cross-attention context [L, text_dim] as buffer `dit.text_context`, or drop it.

        A stored context is part of the state dict (so weights files, digests and training keep it)
        and `context` returns it, zero-padded to text_len, instead of the seeded stand-in.
        """
        if context is None:
            self.dit._buffers.pop("text_context", None)
            return
        cfg = self.dit.cfg
        if context.dim() != 2 or context.shape[1] != cfg.text_dim or not 1 <= context.shape[0] <= cfg.text_len:
            raise ModelError(f"text context of shape {list(context.shape)}: expected [L, {cfg.text_dim}] with "
                             f"1 <= L <= {cfg.text_len}")
        if not context.is_floating_point():
            raise ModelError(f"text context: dtype {context.dtype} is not floating point")
        self.dit.register_buffer("text_context", context.detach().float().clone())

    @property
    def text_context(self) -> torch.Tensor | None:
        """The stored cross-attention context [L, text_dim], or None (the seeded stand-in is used)."""
        return self.dit._buffers.get("text_context")

    def prepare_state(self, state: dict[str, torch.Tensor]) -> None:
        """Make room for optional entries of a weights file before a strict load (the stored context)."""
        if TEXT_CONTEXT in state:
            self.set_text_context(state[TEXT_CONTEXT])

    def load_weights(self, path: str | Path) -> "GnvcVd":
        """Load a weights file (keys vae.*, codec.*, dit.*, optional dit.text_context) strictly; builds missing entropy tables."""
        state = load_state_file(path)
        try:
            self.prepare_state(state)
        except ModelError as exc:
            raise ModelError(f"GNVC-VD weights {path}: {exc}") from None
        self._size_tables_like(state)
        load_into(self, state, f"GNVC-VD weights {path}")
        self.finish_tables()
        return self

    def finish_tables(self) -> None:
        """Build the codec's integer tables if the weights did not carry them (e.g. fresh init)."""
        if any(b.numel() == 0 for n, b in self.codec.named_buffers() if n.endswith("table_lengths")):
            self.codec.update()

    def weights_digest(self) -> bytes:
        """SHA-256 of the state dict: names, dtypes, shapes and bytes, in key order.

        Independent of the file format (the same weights from .pth or .safetensors give the same
        digest); written into every bitstream so a decoder with other weights refuses it.
        """
        h = hashlib.sha256()
        for key, value in self.state_dict().items():
            t = value.detach().to("cpu").contiguous()
            h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return h.digest()

    def context(self, seed: int) -> torch.Tensor:
        """The DiT's cross-attention context [1, text_len, text_dim] on the model's device (no text encoder).

        The stored context (`gvcodec import --TextContext`) zero-padded to text_len as Wan pads umT5
        outputs, when the weights carry one; otherwise the seeded stand-in `fixed_context(seed)`.
        """
        device = next(self.dit.parameters()).device
        stored = self.text_context
        if stored is not None:
            return pad_context(stored[None].float(), self.dit.cfg.text_len).to(device)
        return fixed_context(self.dit.cfg, seed).to(device)
