"""The HGLA transformer: gated linear attention whose 2D hidden states run along two axes.

Inside a token (a constant-size block of patches) each head keeps a state S (d_k x d_v) updated
per patch as the GLA recurrence S_n = diag(alpha_n) S_{n-1} + k_n^T v_n, o_n = q_n S_n, with a
data-dependent forget gate alpha_n = sigmoid(g_n)^(1/tau) from a low-rank projection. Across
tokens the state is carried along the *sequence* axis (token j starts from the end state of
token j-1 of the same level) and along the *scale* axis (it also receives the end state of its
parent token at the coarser level):

    S^init_{k,j} = sigmoid(a) * S^end_{k,j-1} + sigmoid(b) * S^end_{k-1,parent(j)}

with per-head learned gates a, b; S^end_{k,-1} and the level-0 parents are the per-GOP initial
state S0, which the encoder optimizes and codes (the "hidden states" of InitFromPreviousGOP).

Computation: every token is scanned in parallel from a zero state (chunkwise GLA with
sub-chunks of `chunk` patches, exponents kept in float32 range by `gate_min_log`); because the
recurrence is linear, a token's end state is D_j * S^init_j + U_j, so only a cheap loop over the
tokens' (H, d_k, d_v) states remains sequential.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def gla_tokens(q, k, v, log_a, chunk: int):
    """Zero-state chunkwise GLA over a batch of tokens.

    Args:
        q, k: (M, H, N, dk); v: (M, H, N, dv); log_a: (M, H, N, dk) log forget gates (<= 0).
        chunk: sub-chunk length.

    Returns:
        (o0, q_dec, decay, u): outputs from a zero initial state (M, H, N, dv); the queries
        scaled by the cumulative decay from the token start (M, H, N, dk), so that the
        contribution of an initial state S is q_dec @ S; the total decay (M, H, dk); the end
        state from a zero start (M, H, dk, dv).
    """
    m, h, n, dk = q.shape
    dv = v.shape[-1]
    state = q.new_zeros(m, h, dk, dv)
    before = q.new_zeros(m, h, 1, dk)   # cumulative log decay before the sub-chunk
    outs, qdecs = [], []
    mask = None
    for s in range(0, n, chunk):
        qi, ki, vi, la = q[:, :, s:s + chunk], k[:, :, s:s + chunk], v[:, :, s:s + chunk], log_a[:, :, s:s + chunk]
        c = qi.shape[2]
        cs = torch.cumsum(la, dim=2)                      # (M,H,c,dk), <= 0, >= gate_min_log * c
        q_t = qi * torch.exp(cs)
        k_t = ki * torch.exp(-cs)
        if mask is None or mask.shape[0] != c:
            mask = torch.tril(torch.ones(c, c, dtype=torch.bool, device=q.device))
        att = (q_t @ k_t.transpose(-1, -2)).masked_fill(~mask, 0.0)
        outs.append(att @ vi + q_t @ state)
        qdecs.append(qi * torch.exp(cs + before))
        last = cs[:, :, -1:]                               # (M,H,1,dk)
        state = torch.exp(last).transpose(-1, -2) * state + (ki * torch.exp(last - cs)).transpose(-1, -2) @ vi
        before = before + last
    return torch.cat(outs, dim=2), torch.cat(qdecs, dim=2), torch.exp(before[:, :, 0]), state


class GatedLinearAttention(nn.Module):
    """Multi-head GLA with hidden states carried along the token sequence and the scale axis."""

    def __init__(self, dim: int, heads: int, gate_rank: int, gate_tau: float, gate_min_log: float, chunk: int):
        super().__init__()
        self.heads, self.dh = heads, dim // heads
        self.tau, self.min_log, self.chunk = gate_tau, gate_min_log, chunk
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.gate_down = nn.Linear(dim, gate_rank, bias=False)
        self.gate_up = nn.Linear(gate_rank, dim, bias=True)
        self.out_gate = nn.Linear(dim, dim, bias=True)
        self.o = nn.Linear(dim, dim, bias=True)
        self.head_norm = nn.GroupNorm(heads, dim, affine=True)
        self.seq_gate = nn.Parameter(torch.full((heads,), 2.0))      # sigmoid(2) ~ 0.88
        self.scale_gate = nn.Parameter(torch.full((heads,), -2.0))   # sigmoid(-2) ~ 0.12

    def forward(self, x: torch.Tensor, s0: torch.Tensor, parent_states: torch.Tensor | None,
                parent_index: torch.Tensor | None):
        """x: (J, N, D) tokens of one level in sequence order; s0: (H, dk, dv) per-GOP initial state;
        parent_states: (J', H, dk, dv) end states of the coarser level (None at level 0);
        parent_index: (J,) parent token of each token. Returns (out (J, N, D), end states (J, H, dk, dv))."""
        j, n, d = x.shape
        split = lambda t: t.view(j, n, self.heads, self.dh).transpose(1, 2)  # noqa: E731
        q = split(self.q(x)) * self.dh ** -0.5
        k, v = split(self.k(x)), split(self.v(x))
        log_a = (F.logsigmoid(self.gate_up(self.gate_down(x))) / self.tau).clamp(min=self.min_log)
        o0, q_dec, decay, u = gla_tokens(q, k, v, split(log_a), self.chunk)
        a = torch.sigmoid(self.seq_gate)[:, None, None]
        b = torch.sigmoid(self.scale_gate)[:, None, None]
        parents = parent_states[parent_index] if parent_states is not None else s0.expand(j, *s0.shape)
        inits, ends = [], []
        prev = s0
        for i in range(j):   # the only sequential part: (H, dk, dv) states along the token sequence
            init = a * prev + b * parents[i]
            prev = decay[i][..., None] * init + u[i]
            inits.append(init)
            ends.append(prev)
        init = torch.stack(inits)
        o = o0 + q_dec @ init                                # (J, H, N, dv)
        o = o.transpose(1, 2).reshape(j * n, d)
        o = self.head_norm(o).view(j, n, d) * F.silu(self.out_gate(x))
        return self.o(o), torch.stack(ends)


class HglaBlock(nn.Module):
    """adaLN-modulated block: gated linear attention, then a GELU feed-forward layer."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, gate_rank: int, gate_tau: float,
                 gate_min_log: float, chunk: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = GatedLinearAttention(dim, heads, gate_rank, gate_tau, gate_min_log, chunk)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(ffn_dim, dim))
        self.ada = nn.Linear(dim, 6 * dim)

    def forward(self, x, c, s0, parent_states, parent_index):
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(F.silu(c)).chunk(6, dim=-1)
        h, ends = self.attn(self.norm1(x) * (1 + sc1) + sh1, s0, parent_states, parent_index)
        x = x + g1 * h
        x = x + g2 * self.ffn(self.norm2(x) * (1 + sc2) + sh2)
        return x, ends


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion times t in [0, 1] (scaled by 1000), (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _checkpointed(blk: nn.Module, *args):
    """blk(*args) with its activations recomputed in the backward pass. The block's tensors are
    captured now and passed explicitly: under torch.func.functional_call (the overfit loop's
    parameter updates) the module's own attributes are restored before the backward pass runs."""
    from torch.func import functional_call
    from torch.utils.checkpoint import checkpoint

    tensors = {**dict(blk.named_parameters()), **dict(blk.named_buffers())}
    return checkpoint(lambda *a: functional_call(blk, tensors, a), *args, use_reentrant=False)


class HglaDenoiser(nn.Module):
    """x0-predicting denoiser over the constant-size tokens of one pyramid level.

    Input per patch: the noisy level signal, the up-sampled coarser-level prediction and the
    latent-grid features; output per patch: out_channels x patch voxels (added to the coarser
    prediction).
    """

    def __init__(self, cfg, in_channels: int):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.patch_in = in_channels * cfg.patch_voxels
        self.embed = nn.Linear(self.patch_in, d)
        self.pos = nn.Parameter(torch.randn(cfg.token_patches, d) * 0.02)
        self.level_embed = nn.Parameter(torch.randn(cfg.levels, d) * 0.02)
        self.time_mlp = nn.Sequential(nn.Linear(cfg.freq_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(
            HglaBlock(d, cfg.num_heads, cfg.ffn_dim, cfg.gate_rank, cfg.gate_tau, cfg.gate_min_log, cfg.chunk)
            for _ in range(cfg.num_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Linear(d, 2 * d)
        self.head = nn.Linear(d, cfg.out_channels * cfg.patch_voxels)
        self.checkpoint_blocks = False  # set by the overfit loop (OverfitConfig.checkpoint_blocks)

    def state_shape(self) -> tuple[int, int, int, int]:
        """(layers, heads, dk, dv) of the per-GOP initial hidden states."""
        dh = self.cfg.dim // self.cfg.num_heads
        return self.cfg.num_layers, self.cfg.num_heads, dh, dh

    def forward(self, patches: torch.Tensor, t: torch.Tensor, level: int, s0: torch.Tensor,
                parent_states: list | None, parent_index: torch.Tensor | None):
        """patches: (J, N, patch_in); t: scalar tensor; s0: (L, H, dk, dv); parent_states: per layer
        (J', H, dk, dv) or None. Returns (out (J, N, out_channels * patch voxels), per-layer end states)."""
        c = self.time_mlp(timestep_embedding(t.reshape(1), self.cfg.freq_dim)) + self.level_embed[level]
        x = self.embed(patches) + self.pos
        ends = []
        for i, blk in enumerate(self.blocks):
            ps = parent_states[i] if parent_states is not None else None
            if self.checkpoint_blocks and torch.is_grad_enabled():
                x, e = _checkpointed(blk, x, c, s0[i], ps, parent_index)
            else:
                x, e = blk(x, c, s0[i], ps, parent_index)
            ends.append(e)
        sh, sc = self.ada_out(F.silu(c)).chunk(2, dim=-1)
        return self.head(self.norm_out(x) * (1 + sc) + sh), ends
