"""Layers of the video DiT in the Wan2.1 block layout (module names equal the public keys).

A block is: LayerNorm (no affine) + adaLN-modulated self-attention with RMS qk-norm and 3D RoPE,
then affine LayerNorm `norm3` + cross-attention to a context, then a modulated GELU-tanh FFN.
The six modulation vectors are the shared time projection plus the block's own learned offset.
Norms and modulation run in float32 whatever the weight dtype, as Wan does, because the
(1 + scale) products are sensitive to bf16 rounding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gvcodec.models.gnvc_vd.dit.rope import apply_rope


def sinusoidal_embedding(t: Tensor, dim: int) -> Tensor:
    """Sinusoidal timestep embedding, cos half first then sin half (Wan's layout).

    Args:
        t: [N] timesteps in model units (0..1000 for flow matching).
        dim: embedding width (even).

    Returns:
        float32 [N, dim]; computed in float64 so large timesteps keep their phase.
    """
    half = dim // 2
    freqs = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64, device=t.device) / half)
    angles = torch.outer(t.to(torch.float64).reshape(-1), freqs)
    return torch.cat([angles.cos(), angles.sin()], dim=1).float()


class RMSNorm(nn.Module):
    """RMS normalisation over the last dim with a learned gain (`weight`), computed in float32."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        xf = x.float()
        normed = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return normed.to(x.dtype) * self.weight


class FloatLayerNorm(nn.LayerNorm):
    """LayerNorm evaluated in float32 and cast back, so bf16 weights keep float32 statistics."""

    def forward(self, x: Tensor) -> Tensor:
        if self.weight is None:
            return F.layer_norm(x.float(), self.normalized_shape, None, None, self.eps).to(x.dtype)
        return F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(),
                            self.eps).to(x.dtype)


def attention(q: Tensor, k: Tensor, v: Tensor, chunk: int | None = None) -> Tensor:
    """Multi-head attention that never holds the full score matrix.

    PyTorch's fused scaled_dot_product_attention (flash / memory-efficient kernels, and the CPU
    flash kernel) works in tiles; `chunk` additionally splits the queries so that even the math
    fallback only holds chunk x Lk scores at a time.

    Args:
        q: [B, Lq, heads, head_dim].
        k, v: [B, Lk, heads, head_dim].
        chunk: queries per call; None = all at once.

    Returns:
        [B, Lq, heads, head_dim].
    """
    q, k, v = (u.transpose(1, 2) for u in (q, k, v))
    if chunk is None or chunk >= q.shape[2]:
        out = F.scaled_dot_product_attention(q, k, v)
    else:
        out = torch.cat([F.scaled_dot_product_attention(qc, k, v) for qc in q.split(chunk, dim=2)], dim=2)
    return out.transpose(1, 2)


class SelfAttention(nn.Module):
    """Self-attention with RMS qk-norm over the full dim and 3D RoPE on queries and keys."""

    def __init__(self, dim: int, num_heads: int, qk_norm: bool, eps: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = RMSNorm(dim, eps) if qk_norm else nn.Identity()
        self.norm_k = RMSNorm(dim, eps) if qk_norm else nn.Identity()

    def forward(self, x: Tensor, rope: tuple[Tensor, Tensor], chunk: int | None = None) -> Tensor:
        b, length, dim = x.shape
        shape = (b, length, self.num_heads, dim // self.num_heads)
        q = apply_rope(self.norm_q(self.q(x)).view(shape), *rope)
        k = apply_rope(self.norm_k(self.k(x)).view(shape), *rope)
        v = self.v(x).view(shape)
        return self.o(attention(q, k, v, chunk).flatten(2))


class CrossAttention(SelfAttention):
    """Cross-attention from the tokens to an embedded context (no RoPE); same keys as self-attention."""

    def forward(self, x: Tensor, context: Tensor, chunk: int | None = None) -> Tensor:  # type: ignore[override]
        b, length, dim = x.shape
        head_dim = dim // self.num_heads
        q = self.norm_q(self.q(x)).view(b, length, self.num_heads, head_dim)
        k = self.norm_k(self.k(context)).view(b, -1, self.num_heads, head_dim)
        v = self.v(context).view(b, -1, self.num_heads, head_dim)
        return self.o(attention(q, k, v, chunk).flatten(2))


class DitBlock(nn.Module):
    """One Wan2.1 attention block (keys `modulation`, `self_attn`, `norm3`, `cross_attn`, `ffn`)."""

    def __init__(self, dim: int, ffn_dim: int, num_heads: int, qk_norm: bool, cross_attn_norm: bool,
                 eps: float) -> None:
        super().__init__()
        self.norm1 = FloatLayerNorm(dim, eps, elementwise_affine=False)
        self.self_attn = SelfAttention(dim, num_heads, qk_norm, eps)
        self.norm3 = FloatLayerNorm(dim, eps, elementwise_affine=True) if cross_attn_norm else nn.Identity()
        self.cross_attn = CrossAttention(dim, num_heads, qk_norm, eps)
        self.norm2 = FloatLayerNorm(dim, eps, elementwise_affine=False)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(ffn_dim, dim))
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / math.sqrt(dim))

    def forward(self, x: Tensor, e: Tensor, context: Tensor, rope: tuple[Tensor, Tensor],
                chunk: int | None = None) -> Tensor:
        """Run the block.

        Args:
            x: tokens [B, L, dim].
            e: shared time modulation [B, 6, dim] (float32).
            context: embedded context [B, Lc, dim].
            rope: (cos, sin) of the token grid.
            chunk: attention query chunk (see `attention`).

        Returns:
            Tokens [B, L, dim].
        """
        shift1, scale1, gate1, shift2, scale2, gate2 = (self.modulation.float() + e).unsqueeze(2).unbind(1)
        h = (self.norm1(x).float() * (1 + scale1) + shift1).to(x.dtype)
        x = x + (self.self_attn(h, rope, chunk).float() * gate1).to(x.dtype)
        x = x + self.cross_attn(self.norm3(x), context, chunk)
        h = (self.norm2(x).float() * (1 + scale2) + shift2).to(x.dtype)
        return x + (self.ffn(h).float() * gate2).to(x.dtype)


class Head(nn.Module):
    """Output head: modulated LayerNorm then Linear to out_dim * prod(patch) (keys `head`, `modulation`)."""

    def __init__(self, dim: int, out_features: int, eps: float) -> None:
        super().__init__()
        self.norm = FloatLayerNorm(dim, eps, elementwise_affine=False)
        self.head = nn.Linear(dim, out_features)
        self.modulation = nn.Parameter(torch.randn(1, 2, dim) / math.sqrt(dim))

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        """x: tokens [B, L, dim]; e: time embedding [B, dim] (before the projection). Returns [B, L, out]."""
        shift, scale = (self.modulation.float() + e.float().unsqueeze(1)).unsqueeze(2).unbind(1)
        return self.head((self.norm(x).float() * (1 + scale) + shift).to(x.dtype))
