"""CLIP-F: mean cosine similarity of consecutive decoded frames' CLIP image embeddings.

CLIP-F = 1/(T-1) * sum_{t=1}^{T-1} cos(E(D_{t-1}), E(D_t)), E = the CLIP image encoder, D = the
decoded frames. It needs no reference; 1 means consecutive frames look the same to CLIP, so
higher is better (a frozen video scores 1; typical natural video 0.9..0.99).

The image encoder is our own ViT (Dosovitskiy et al. 2021, as in Radford et al. 2021):
patch conv (no bias) -> [class token, patches] + positional embedding -> ln_pre ->
pre-norm residual blocks (x + attn(ln_1 x), x + mlp(ln_2 x), mlp = c_fc -> GELU -> c_proj) ->
ln_post of the class token -> projection. Sizes come from the weight shapes: width, patch and
input resolution from ``conv1`` and ``positional_embedding``, depth from the block count,
heads = width / 64 (the CLIP convention).

Weights: a local file in the OpenAI CLIP / open_clip state-dict layout (``visual.conv1.weight``,
``visual.class_embedding``, ``visual.positional_embedding``, ``visual.ln_pre.*``,
``visual.transformer.resblocks.N.{ln_1,attn.in_proj_*,attn.out_proj.*,ln_2,mlp.c_fc.*,mlp.c_proj.*}``,
``visual.ln_post.*``, ``visual.proj``); the text tower's keys are ignored, the ``visual.``
prefix may be absent, OpenAI's TorchScript ``.pt`` archives load too. OpenAI models use
QuickGELU (x * sigmoid(1.702 x)); open_clip models trained with exact GELU need --ClipActivation=gelu.

Preprocessing as CLIP: bicubic resize of the shorter side to the input resolution, centre crop,
normalisation by mean (0.48145466, 0.4578275, 0.40821073) and std (0.26862954, 0.26130258, 0.27577711).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.metrics.weight_files import WeightsUnavailable, read_state_dict, required_path, take

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
HEAD_WIDTH = 64
ACTIVATIONS = ("quickgelu", "gelu")


class ResidualBlock(nn.Module):
    def __init__(self, width: int, mlp: int, heads: int, activation: str) -> None:
        super().__init__()
        self.heads = heads
        self.activation = activation
        self.ln_1 = nn.LayerNorm(width)
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, mlp)
        self.c_proj = nn.Linear(mlp, width)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        q, k, v = self.in_proj(x).view(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).reshape(n, length, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x))
        h = self.c_fc(self.ln_2(x))
        h = h * torch.sigmoid(1.702 * h) if self.activation == "quickgelu" else F.gelu(h)
        return x + self.c_proj(h)


class ClipImageEncoder(nn.Module):
    """CLIP's ViT image tower; `forward` maps RGB [N, 3, H, W] in [0, 1] to embeddings [N, E]."""

    def __init__(self, width: int, patch: int, grid: int, layers: int, mlp: int, embed: int,
                 activation: str = "quickgelu") -> None:
        super().__init__()
        if width % HEAD_WIDTH:
            raise WeightsUnavailable(f"CLIP width {width} is not a multiple of the head width {HEAD_WIDTH}")
        self.patch, self.resolution = patch, patch * grid
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList(ResidualBlock(width, mlp, width // HEAD_WIDTH, activation) for _ in range(layers))
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, embed))
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Resize the shorter side to the input resolution (bicubic), centre-crop, normalise."""
        h, w = x.shape[-2:]
        r = self.resolution
        scale = r / min(h, w)
        size = (max(r, round(h * scale)), max(r, round(w * scale)))
        if size != (h, w):
            x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        top, left = (size[0] - r) // 2, (size[1] - r) // 2
        x = x[..., top:top + r, left:left + r]
        return (x - self.mean) / self.std

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.preprocess(x)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], 1) + self.positional_embedding)
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x[:, 0]) @ self.proj


def _visual(state: dict) -> dict:
    """The image tower's tensors without the `visual.` prefix."""
    if any(k.startswith("visual.") for k in state):
        return {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
    return dict(state)


def load_clip(state: dict, path: Path, activation: str = "quickgelu") -> ClipImageEncoder:
    """Build the image encoder from an OpenAI-CLIP / open_clip state dict.

    Raises:
        WeightsUnavailable: missing, misshaped or unsupported tensors (e.g. a ResNet CLIP).
    """
    what = "CLIP image encoder"
    v = _visual(state)
    conv = take(v, "conv1.weight", (None, 3, None, None), what, path)
    width, patch = conv.shape[0], conv.shape[2]
    pos = take(v, "positional_embedding", (None, width), what, path)
    grid = math.isqrt(pos.shape[0] - 1)
    if grid * grid + 1 != pos.shape[0]:
        raise WeightsUnavailable(f"{what}: {path} positional_embedding has {pos.shape[0]} rows, not grid^2 + 1")
    layers = 0
    while f"transformer.resblocks.{layers}.ln_1.weight" in v:
        layers += 1
    if layers == 0:
        raise WeightsUnavailable(f"{what}: {path} has no transformer.resblocks (not a ViT CLIP?)")
    mlp = take(v, "transformer.resblocks.0.mlp.c_fc.weight", (None, width), what, path).shape[0]
    embed = take(v, "proj", (width, None), what, path).shape[1]
    model = ClipImageEncoder(width, patch, grid, layers, mlp, embed, activation)
    mapping = {"conv1.weight": "conv1.weight", "class_embedding": "class_embedding",
               "positional_embedding": "positional_embedding", "proj": "proj"}
    for norm in ("ln_pre", "ln_post"):
        mapping.update({f"{norm}.weight": f"{norm}.weight", f"{norm}.bias": f"{norm}.bias"})
    for i in range(layers):
        src, dst = f"transformer.resblocks.{i}.", f"blocks.{i}."
        for a, b in (("ln_1.weight", "ln_1.weight"), ("ln_1.bias", "ln_1.bias"), ("ln_2.weight", "ln_2.weight"),
                     ("ln_2.bias", "ln_2.bias"), ("attn.in_proj_weight", "in_proj.weight"),
                     ("attn.in_proj_bias", "in_proj.bias"), ("attn.out_proj.weight", "out_proj.weight"),
                     ("attn.out_proj.bias", "out_proj.bias"), ("mlp.c_fc.weight", "c_fc.weight"),
                     ("mlp.c_fc.bias", "c_fc.bias"), ("mlp.c_proj.weight", "c_proj.weight"),
                     ("mlp.c_proj.bias", "c_proj.bias")):
            mapping[src + a] = dst + b
    unused = sorted(set(v) - set(mapping))
    if unused:
        raise WeightsUnavailable(f"{what}: {path} has tensors a plain ViT CLIP does not (first: {unused[0]})")
    own = model.state_dict()
    with torch.no_grad():
        for key, target in mapping.items():
            own_t = own[target]
            own_t.copy_(take(v, key, tuple(own_t.shape), what, path))
    return model.eval().requires_grad_(False)


def build_clip(weights_file: str, activation: str = "quickgelu") -> ClipImageEncoder:
    """The CLIP image encoder of a local weight file (--ClipWeights).

    Raises:
        WeightsUnavailable: no file given, or it does not fit (one line naming it).
    """
    if activation not in ACTIVATIONS:
        raise WeightsUnavailable(f"ClipActivation must be one of {', '.join(ACTIVATIONS)}")
    path = required_path(weights_file, "ClipWeights", "CLIP-F")
    return load_clip(read_state_dict(path, "CLIP image encoder"), path, activation)


def consecutive_cosines(embeddings: torch.Tensor) -> torch.Tensor:
    """cos(e_{t-1}, e_t) for t = 1..T-1 of embeddings [T, E] (float64)."""
    e = embeddings.double()
    e = e / e.norm(dim=1, keepdim=True)
    return (e[1:] * e[:-1]).sum(1)
