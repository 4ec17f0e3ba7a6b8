"""GIViC: latent grids + an HGLA diffusion decoder over a coarse-to-fine spatio-temporal pyramid.

Per GOP the stream carries multi-resolution spatio-temporal latent grids (integers), the
initial hidden states S0 of the HGLA layers, and optionally quantized updates of a subset of
the model's parameters. The decoder samples the pyramid from the coarsest level (small enough
to be one or a few tokens: "full-sequence" diffusion) to the full-size level (many tokens:
"per-token" diffusion); every level is conditioned on the grids (trilinearly resampled to the
level) and on the up-sampled prediction of the coarser level, and its hidden states start from
the coarser level's end states (scale axis) and the previous token's (sequence axis).

Diffusion: rectified flow x_t = (1 - t) x0 + t eps with an x0-predicting denoiser and a
deterministic DDIM-style sampler on t_s = 1 - s / steps; the noise comes from a seed carried in
the stream, so the encoder reproduces exactly what the decoder computes.

Signals are in [-1, 1]. Video tensors are (1, C, T, H, W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gvcodec.errors import ModelError
from gvcodec.models.givic.config import GivicConfig
from gvcodec.models.givic.hgla import HglaDenoiser
from gvcodec.models.givic.yuv420 import (
    demux, downsample_chroma, level_shape, level_target, pack420, resample, to444,
)


@dataclass
class GopVideo:
    """One GOP as the model sees it: planes in [-1, 1], shapes (1, 1, T, H, W) and (1, 1, T, H/2, W/2).

    Attributes:
        valid: frames that belong to the sequence (the rest is temporal padding, not in the loss).
    """

    y: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor
    valid: int
    x444: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.x444 = to444(self.y, self.u, self.v)

    @property
    def size(self) -> tuple[int, int, int]:
        return tuple(self.y.shape[-3:])


def _tokens(x: torch.Tensor, token, patch) -> tuple[torch.Tensor, tuple]:
    """(1, C, T, H, W) -> (J, N, C * patch voxels), zero-padded to whole tokens; returns the grid."""
    _, c, t, h, w = x.shape
    tt, th, tw = token
    pad = [(-s) % z for s, z in zip((t, h, w), token)]
    x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
    gt, gh, gw = (t + pad[0]) // tt, (h + pad[1]) // th, (w + pad[2]) // tw
    pt, ph, pw = patch
    x = x.reshape(c, gt, tt // pt, pt, gh, th // ph, ph, gw, tw // pw, pw)
    x = x.permute(1, 4, 7, 2, 5, 8, 0, 3, 6, 9)
    return x.reshape(gt * gh * gw, (tt // pt) * (th // ph) * (tw // pw), c * pt * ph * pw), (gt, gh, gw)


def _untokens(x: torch.Tensor, grid, token, patch, c: int, size) -> torch.Tensor:
    """Inverse of ``_tokens`` (cropped to `size`)."""
    gt, gh, gw = grid
    tt, th, tw = token
    pt, ph, pw = patch
    x = x.reshape(gt, gh, gw, tt // pt, th // ph, tw // pw, c, pt, ph, pw)
    x = x.permute(6, 0, 3, 7, 1, 4, 8, 2, 5, 9).reshape(1, c, gt * tt, gh * th, gw * tw)
    return x[:, :, :size[0], :size[1], :size[2]]


def parent_index(grid, parent_grid, token, size, parent_size) -> torch.Tensor:
    """Index of the coarser-level token holding the centre of each token (integer arithmetic)."""
    gt, gh, gw = grid
    pt, ph, pw = parent_grid
    idx = []
    for a in range(gt):
        for b in range(gh):
            for c in range(gw):
                centre = [(i * z + z // 2) for i, z in zip((a, b, c), token)]
                p = [min(cz * ps // max(s, 1) // z, g - 1)
                     for cz, ps, s, z, g in zip(centre, parent_size, size, token, (pt, ph, pw))]
                idx.append((p[0] * ph + p[1]) * pw + p[2])
    return torch.tensor(idx, dtype=torch.long)


class GridEncoder(nn.Module):
    """Amortized grid initialization: strided 3D convolutions from the 4:4:4 GOP to every grid."""

    def __init__(self, cfg: GivicConfig):
        super().__init__()
        e = cfg.encoder_dim
        self.stem = nn.Conv3d(3, e, 3, padding=1)
        self.stages = nn.ModuleList(nn.Conv3d(e, e, 3, stride=(1, 2, 2), padding=1) for _ in range(cfg.encoder_stages))
        self.heads = nn.ModuleList(nn.Conv3d(e, cfg.grid_channels, 3, padding=1) for _ in cfg.grid_strides)
        self.strides = cfg.grid_strides
        for head in self.heads:  # untrained (seeded) models start from all-zero grids: no random rate
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        for st, sh, sw in cfg.grid_strides:
            if sh != sw or sh & (sh - 1) or sh > 2 ** cfg.encoder_stages:
                raise ModelError(f"givic config: grid stride {sh}x{sw} must be a power of two <= "
                                 f"2^encoder_stages = {2 ** cfg.encoder_stages}")

    def forward(self, x444: torch.Tensor) -> list[torch.Tensor]:
        feats = [F.gelu(self.stem(x444))]
        for stage in self.stages:
            feats.append(F.gelu(stage(feats[-1])))
        grids = []
        for head, (st, sh, _) in zip(self.heads, self.strides):
            f = feats[int(math.log2(sh))]
            if st > 1:
                f = F.adaptive_avg_pool3d(f, (-(-f.shape[2] // st), f.shape[3], f.shape[4]))
            grids.append(head(f)[0])
        return grids


class Givic(nn.Module):
    """The GIViC model of one config (grid encoder, HGLA denoiser, default S0, optional chroma layer)."""

    def __init__(self, cfg: GivicConfig):
        super().__init__()
        self.cfg = cfg
        oc = cfg.out_channels
        in_ch = 2 * oc + len(cfg.grid_strides) * cfg.grid_channels
        self.encoder = GridEncoder(cfg)
        self.denoiser = HglaDenoiser(cfg, in_ch)
        self.state_init = nn.Parameter(torch.zeros(self.denoiser.state_shape()))
        if cfg.chroma_mode == "444_learned":
            self.chroma_down = nn.Conv2d(2, 2, 2, stride=2, groups=2)
            with torch.no_grad():
                self.chroma_down.weight.fill_(0.25)
                self.chroma_down.bias.zero_()
        else:
            self.chroma_down = None

    def forward(self, method: str, *args):
        """Dispatch to a method (so torch.func.functional_call can run any of them with new parameters)."""
        return getattr(self, method)(*args)

    # -- shapes ---------------------------------------------------------------------------------
    def grid_shapes(self, size) -> list[tuple[int, ...]]:
        """(C, T, H, W) of each latent grid for a full-size GOP (T, H, W)."""
        return [(self.cfg.grid_channels, -(-size[0] // st), -(-size[1] // sh), -(-size[2] // sw))
                for st, sh, sw in self.cfg.grid_strides]

    def level_sizes(self, size) -> list[tuple[int, int, int]]:
        return [level_shape(size, k, self.cfg.levels, self.cfg.temporal_pyramid) for k in range(self.cfg.levels)]

    def check_size(self, size) -> None:
        a = self.cfg.alignment
        if size[1] % a or size[2] % a:
            raise ModelError(f"givic: coded size {size[2]}x{size[1]} is not a multiple of {a}")

    # -- decoding --------------------------------------------------------------------------------
    def grid_features(self, grids: list[torch.Tensor], size) -> torch.Tensor:
        return torch.cat([resample(g.unsqueeze(0), size) for g in grids], dim=1)

    def denoise_level(self, level: int, x_t, t, feats, coarse_up, s0, parents):
        """One denoiser call on a whole level. parents: (per-layer end states, parent index) or None.
        Returns (x0 prediction (1, oc, T, H, W), per-layer end states)."""
        cfg = self.cfg
        size = tuple(x_t.shape[-3:])
        inp = torch.cat([x_t, coarse_up, feats], dim=1)
        tok, grid = _tokens(inp, cfg.token_size, cfg.patch_size)
        states, pidx = parents if parents is not None else (None, None)
        out, ends = self.denoiser(tok, t, level, s0, states, pidx)
        return coarse_up + _untokens(out, grid, cfg.token_size, cfg.patch_size, cfg.out_channels, size), ends

    def _parents(self, level, sizes, ends):
        if level == 0:
            return None
        cfg = self.cfg
        grid = [-(-s // z) for s, z in zip(sizes[level], cfg.token_size)]
        pgrid = [-(-s // z) for s, z in zip(sizes[level - 1], cfg.token_size)]
        pidx = parent_index(grid, pgrid, cfg.token_size, sizes[level], sizes[level - 1])
        return ends, pidx.to(self.state_init.device)

    def sample(self, grids, s0, size, steps: int, seed: int) -> list[torch.Tensor]:
        """Coarse-to-fine sampling; returns the final prediction of every level (coarsest first)."""
        cfg = self.cfg
        sizes = self.level_sizes(size)
        outs, ends = [], None
        coarse = None
        for k, sz in enumerate(sizes):
            gen = torch.Generator().manual_seed(int(seed) * 131 + k)
            x = torch.randn((1, cfg.out_channels, *sz), generator=gen).to(s0.device)
            feats = self.grid_features(grids, sz)
            coarse_up = torch.zeros_like(x) if coarse is None else self._up_level(coarse, sz)
            parents = self._parents(k, sizes, ends)
            for s in range(steps):
                t = 1.0 - s / steps
                x0, new_ends = self.denoise_level(k, x, torch.tensor(t, device=x.device), feats, coarse_up, s0, parents)
                t_next = 1.0 - (s + 1) / steps
                x = x0 + (t_next / t) * (x - x0) if s + 1 < steps else x0
            ends, coarse = new_ends, x
            outs.append(x)
        return outs

    def denoise_loss_levels(self, grids, s0, video: GopVideo, gen: torch.Generator) -> list[torch.Tensor]:
        """Training pass of the denoising objective: each level at a random t, conditioned on the
        (detached) prediction of the coarser level. Returns the x0 prediction of every level."""
        sizes = self.level_sizes(video.size)
        outs, ends, coarse = [], None, None
        for k, sz in enumerate(sizes):
            x0 = self.target(video, k, sz)
            t = float(torch.rand((), generator=gen)) * 0.98 + 0.02
            eps = torch.randn(x0.shape, generator=gen).to(x0.device)
            x_t = (1 - t) * x0 + t * eps
            coarse_up = torch.zeros_like(x0) if coarse is None else self._up_level(coarse.detach(), sz)
            parents = self._parents(k, sizes, [e.detach() for e in ends] if ends is not None else None)
            pred, ends = self.denoise_level(k, x_t, torch.tensor(t, device=x0.device), self.grid_features(grids, sz),
                                            coarse_up, s0, parents)
            outs.append(pred)
            coarse = pred
        return outs

    def _up_level(self, x, size):
        return resample(x, size)

    # -- targets and reconstruction --------------------------------------------------------------
    def target(self, video: GopVideo, level: int, size) -> torch.Tensor:
        """Clean signal of a level; the full-size 4:2:0 level is the lossless pack of the planes."""
        if level == self.cfg.levels - 1 and self.cfg.chroma_mode == "420":
            return pack420(video.y[:, 0], video.u[:, 0], video.v[:, 0]).permute(0, 2, 1, 3, 4)
        return level_target(video.x444, size, self.cfg.chroma_mode)

    def planes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Full-size prediction (1, oc, T, H, W) -> 4:2:0 (Y, U, V), each (1, 1, T, h, w)."""
        if self.cfg.chroma_mode == "420":
            u, v = demux(x[:, 1:2])
            return x[:, :1], u, v
        uv = x[:, 1:3]
        if self.chroma_down is not None:
            n, c, t, h, w = uv.shape
            flat = uv.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
            uv = self.chroma_down(flat).reshape(n, t, c, h // 2, w // 2).permute(0, 2, 1, 3, 4)
        else:
            uv = downsample_chroma(uv)
        return x[:, :1], uv[:, :1], uv[:, 1:2]

    def distortion(self, x: torch.Tensor, video: GopVideo, loss_space: str | None = None) -> torch.Tensor:
        """MSE on [0, 1] over the valid frames: (4 Y + U + V) / 6 in 4:2:0, or the 4:4:4 mean (mode 444)."""
        n = video.valid
        space = loss_space or ("444" if self.cfg.chroma_mode == "444" else "420")
        if space == "444":
            return F.mse_loss(x[:, :, :n], video.x444[:, :, :n]) / 4
        y, u, v = self.planes(x)
        my = F.mse_loss(y[:, :, :n], video.y[:, :, :n])
        mu = F.mse_loss(u[:, :, :n], video.u[:, :, :n])
        mv = F.mse_loss(v[:, :, :n], video.v[:, :, :n])
        return (4 * my + mu + mv) / 6 / 4
