"""VACE-style conditioning adapter: a side chain of DiT blocks whose outputs are injected as hints.

The conditioning video (in gvcodec: the decoded latents and the latent codec's context features,
`vace_in_dim` channels) is patchified by `vace_patch_embedding`. The first adapter block adds
`before_proj(c)` to the DiT's input tokens, every adapter block runs like a DiT block on the same
time modulation, context and RoPE, and its zero-initialised `after_proj` gives hint n, which the
model adds (times a context scale) after the DiT layer `vace_layers[n]`. The zero projections make
a fresh adapter an exact no-op, so a pre-trained DiT keeps its behaviour at the start of training.
"""

from __future__ import annotations

from torch import Tensor, nn

from gvcodec.models.gnvc_vd.dit.layers import DitBlock


class VaceBlock(DitBlock):
    """A DiT block of the adapter chain (keys as `vace_blocks.N` of VACE: block + `before_proj`/`after_proj`)."""

    def __init__(self, dim: int, ffn_dim: int, num_heads: int, qk_norm: bool, cross_attn_norm: bool,
                 eps: float, first: bool) -> None:
        super().__init__(dim, ffn_dim, num_heads, qk_norm, cross_attn_norm, eps)
        # Registered in VACE's order (before_proj, then after_proj) so state dicts list keys alike.
        self.before_proj = nn.Linear(dim, dim) if first else None
        self.after_proj = nn.Linear(dim, dim)
        for proj in (self.before_proj, self.after_proj):
            if proj is not None:
                nn.init.zeros_(proj.weight)
                nn.init.zeros_(proj.bias)


def vace_hints(blocks: nn.ModuleList, c: Tensor, x: Tensor, e: Tensor, context: Tensor,
               rope: tuple[Tensor, Tensor], chunk: int | None = None) -> list[Tensor]:
    """Run the adapter chain and return one hint per adapter block.

    Args:
        blocks: the `VaceBlock`s, the first one with a `before_proj`.
        c: patchified conditioning tokens [B, L, dim] (same token grid as x).
        x: the DiT's input tokens [B, L, dim] (after patch embedding).
        e: shared time modulation [B, 6, dim].
        context: embedded cross-attention context [B, Lc, dim].
        rope: (cos, sin) of the token grid.
        chunk: attention query chunk.

    Returns:
        Hints [B, L, dim], hint n for DiT layer vace_layers[n].
    """
    hints = []
    for n, block in enumerate(blocks):
        if n == 0:
            c = block.before_proj(c) + x
        c = block(c, e, context, rope, chunk)
        hints.append(block.after_proj(c))
    return hints


def hint_schedule(vace_layers: tuple[int, ...]) -> dict[int, int]:
    """Map DiT layer index -> hint index (VACE numbers adapter blocks by list position)."""
    return {layer: n for n, layer in enumerate(vace_layers)}

