"""VideoDiT: the Wan2.1 diffusion transformer with an optional VACE-style conditioning adapter.

Sized by `DitConfig`; the paper size is Wan2.1-T2V-1.3B + VACE-1.3B and its parameter names equal
the public checkpoint keys, so those load strictly. The model predicts the flow-matching velocity
(noise - data) of latents [N, in_dim, T, H, W] at timestep t (0..1000). Cross-attention always
reads a precomputed context tensor [N, Lc, text_dim]: no text encoder is part of gvcodec (see
`fixed_context` for our own configs; for public weights the engine supplies a stored embedding).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from gvcodec.errors import ModelError
from gvcodec.models.gnvc_vd.dit.config import DitConfig
from gvcodec.models.gnvc_vd.dit.layers import DitBlock, Head, sinusoidal_embedding
from gvcodec.models.gnvc_vd.dit.rope import rope_angles
from gvcodec.models.gnvc_vd.dit.vace import VaceBlock, hint_schedule, vace_hints


class VideoDiT(nn.Module):
    """Wan2.1-layout DiT; with `cfg.vace_layers` it also holds `vace_blocks` and `vace_patch_embedding`.

    Args:
        cfg: the size.
        attention_chunk: queries per attention call (None = all); bounds memory on fallback kernels.
    """

    def __init__(self, cfg: DitConfig, attention_chunk: int | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.attention_chunk = attention_chunk
        self.gradient_checkpointing = False
        d, p = cfg.dim, tuple(cfg.patch_size)
        # Registration order = public state-dict order (base keys, then the adapter's).
        self.patch_embedding = nn.Conv3d(cfg.in_dim, d, kernel_size=p, stride=p)
        self.text_embedding = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.GELU(approximate="tanh"), nn.Linear(d, d))
        self.time_embedding = nn.Sequential(nn.Linear(cfg.freq_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        block_args = (d, cfg.ffn_dim, cfg.num_heads, cfg.qk_norm, cfg.cross_attn_norm, cfg.eps)
        self.blocks = nn.ModuleList(DitBlock(*block_args) for _ in range(cfg.num_layers))
        self.head = Head(d, cfg.out_dim * cfg.patch_volume, cfg.eps)
        if cfg.has_vace:
            self.vace_blocks = nn.ModuleList(VaceBlock(*block_args, first=n == 0) for n in range(len(cfg.vace_layers)))
            self.vace_patch_embedding = nn.Conv3d(cfg.vace_in_dim, d, kernel_size=p, stride=p)
        self.init_weights()

    def init_weights(self) -> None:
        """Wan's initialisation: xavier Linears/patch convs, N(0, 0.02) embeddings, zero head and adapter projections.

        The zero head makes a fresh model predict zero velocity; the zero adapter projections make
        the adapter a no-op until trained.
        """
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        convs = [self.patch_embedding] + ([self.vace_patch_embedding] if self.cfg.has_vace else [])
        for conv in convs:
            nn.init.xavier_uniform_(conv.weight.view(conv.weight.shape[0], -1))
            nn.init.zeros_(conv.bias)
        for seq in (self.text_embedding, self.time_embedding):
            for m in seq:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(self.head.head.weight)
        if self.cfg.has_vace:
            for block in self.vace_blocks:
                for proj in (block.before_proj, block.after_proj):
                    if proj is not None:
                        nn.init.zeros_(proj.weight)
                        nn.init.zeros_(proj.bias)

    def _patchify(self, conv: nn.Conv3d, x: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        """Conv3d patch embedding, then [N, dim, f, h, w] -> tokens [N, f*h*w, dim] (t-major order)."""
        pt, ph, pw = self.cfg.patch_size
        if x.shape[2] % pt or x.shape[3] % ph or x.shape[4] % pw:
            raise ModelError(f"DiT input {tuple(x.shape)} is not divisible by the patch {tuple(self.cfg.patch_size)}")
        y = conv(x.to(conv.weight.dtype))
        return y.flatten(2).transpose(1, 2), tuple(y.shape[2:])

    def _unpatchify(self, tokens: Tensor, grid: tuple[int, int, int]) -> Tensor:
        """Tokens [N, L, out_dim * prod(patch)] -> latents [N, out_dim, T, H, W] (Wan's per-token layout)."""
        f, h, w = grid
        pt, ph, pw = self.cfg.patch_size
        n = tokens.shape[0]
        u = tokens.reshape(n, f, h, w, pt, ph, pw, self.cfg.out_dim)
        u = torch.einsum("nfhwpqrc->ncfphqwr", u)
        return u.reshape(n, self.cfg.out_dim, f * pt, h * ph, w * pw)

    def _run(self, block: nn.Module, *args) -> Tensor:
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(block, *args, use_reentrant=False)
        return block(*args)

    def forward(self, x: Tensor, t: Tensor | float, context: Tensor, vace_context: Tensor | None = None,
                context_scale: float = 1.0) -> Tensor:
        """Predict the velocity (noise - data) of latents at timestep t.

        Args:
            x: latents [N, in_dim, T, H, W]; T, H, W divisible by the patch.
            t: timesteps in model units (1000 * flow time), a scalar or [N].
            context: cross-attention context [N or 1, Lc, text_dim] (see `pad_context`).
            vace_context: adapter input [N, vace_in_dim, T, H, W]; None skips the adapter.
            context_scale: weight of the adapter hints.

        Returns:
            float32 velocity [N, out_dim, T, H, W].
        """
        cfg, n = self.cfg, x.shape[0]
        tokens, grid = self._patchify(self.patch_embedding, x)
        rope = rope_angles(grid, cfg.head_dim, device=x.device)
        dtype = tokens.dtype
        t = torch.as_tensor(t, device=x.device).reshape(-1).expand(n)
        e = self.time_embedding(sinusoidal_embedding(t, cfg.freq_dim).to(dtype)).float()
        e0 = self.time_projection(e.to(dtype)).float().unflatten(1, (6, cfg.dim))
        ctx = self.text_embedding(context.to(dtype))
        if ctx.shape[0] != n:
            ctx = ctx.expand(n, -1, -1)
        hints: list[Tensor] = []
        if cfg.has_vace and vace_context is not None:
            if vace_context.shape[2:] != x.shape[2:]:
                raise ModelError(f"adapter input {tuple(vace_context.shape)} and latents {tuple(x.shape)} "
                                 "differ in size")
            c, _ = self._patchify(self.vace_patch_embedding, vace_context)
            hints = vace_hints(self.vace_blocks, c, tokens, e0, ctx, rope, self.attention_chunk)
        slot = hint_schedule(cfg.vace_layers) if hints else {}
        for i, block in enumerate(self.blocks):
            tokens = self._run(block, tokens, e0, ctx, rope, self.attention_chunk)
            if i in slot:
                tokens = tokens + hints[slot[i]] * context_scale
        return self._unpatchify(self.head(tokens, e), grid).float()


def build_dit(cfg: DitConfig, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> VideoDiT:
    """Build a VideoDiT, e.g. on the meta device (shapes only) for paper-size checks.

    Args:
        cfg: the size.
        device: where to allocate ("meta" allocates nothing).
        dtype: parameter dtype (default: torch's default).

    Returns:
        The model.
    """
    with torch.device(device or "cpu"):
        model = VideoDiT(cfg)
    return model.to(dtype) if dtype is not None else model


def fixed_context(cfg: DitConfig, seed: int, batch: int = 1) -> Tensor:
    """A deterministic stand-in for the text context, for configs trained by us.

    Drawn from N(0, 1) with a CPU generator in float32, so it is bit-identical on every machine;
    move it to the model's device afterwards. (Public Wan weights expect a real umT5 embedding.)

    Args:
        cfg: gives text_len and text_dim.
        seed: generator seed.
        batch: leading size (1 broadcasts over any batch in `VideoDiT.forward`).

    Returns:
        float32 [batch, text_len, text_dim] on CPU.
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(batch, cfg.text_len, cfg.text_dim, generator=gen, dtype=torch.float32)


def pad_context(context: Tensor, text_len: int) -> Tensor:
    """Zero-pad (or reject) a context to `text_len` tokens, as Wan pads umT5 outputs.

    Wan attends to all text_len context tokens, padding included (the padded rows become
    text_embedding(0), not nothing), so a shorter embedding must be padded to match public weights.

    Args:
        context: [N, L, text_dim] with L <= text_len.
        text_len: target length.

    Returns:
        [N, text_len, text_dim].
    """
    extra = text_len - context.shape[1]
    if extra < 0:
        raise ModelError(f"context has {context.shape[1]} tokens, more than text_len {text_len}")
    return torch.nn.functional.pad(context, (0, 0, 0, extra)) if extra else context
