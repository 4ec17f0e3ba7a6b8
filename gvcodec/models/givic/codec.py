"""Per-GOP coding with a GIViC model: amortized grids, the overfit loop, payload round trip.

The overfit loop (Cool-chic/C3 style, on top of a pretrained model) fine-tunes, per GOP, the
latent grids, the initial hidden states S0 and a documented subset of the model's parameters
(``OverfitConfig.params``) to minimize

    rate (bits per luma pixel of everything coded) + lambda x distortion (MSE on [0, 1], 4:2:0)

with additive uniform noise as the quantization proxy, then straight-through rounding for the
last ``hard_fraction`` of the steps. The rate proxy is a per-channel zero-mean Gaussian with a
learned scale (the same family the entropy coder uses). ``steps = 0`` is the seed's
"w/o overfit": the grid encoder's output, the pretrained model, no parameter update coded.
Starting from a previous GOP's variables (``init``) is InitFromPreviousGOP.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
from torch.func import functional_call

from gvcodec.models.givic.coding import (
    DecodedGop, GopParams, decode_gop, encode_gop, make_prior, overfit_names, rate_bits,
)
from gvcodec.models.givic.config import OverfitConfig
from gvcodec.models.givic.model import Givic, GopVideo
from gvcodec.models.heap import release_large_blocks


def planes_to_video(frames: list[tuple[np.ndarray, ...]], bit_depth: int, valid: int, device="cpu") -> GopVideo:
    """Integer 4:2:0 planes of T frames -> GopVideo in [-1, 1]."""
    top = float((1 << bit_depth) - 1)
    stack = lambda i: torch.from_numpy(np.stack([f[i] for f in frames]).astype(np.float32))  # noqa: E731
    y, u, v = (stack(i)[None, None].to(device) / top * 2 - 1 for i in range(3))
    return GopVideo(y, u, v, valid)


def video_to_planes(y, u, v, bit_depth: int) -> list[tuple[np.ndarray, ...]]:
    """(1, 1, T, h, w) planes in [-1, 1] -> per-frame integer planes (rounded, clipped)."""
    top = (1 << bit_depth) - 1
    conv = lambda p: torch.clamp(torch.round((p[0, 0].detach().float().cpu() + 1) / 2 * top), 0, top)  # noqa: E731
    py, pu, pv = (conv(p).numpy().astype(np.uint16) for p in (y, u, v))
    return [(py[t], pu[t], pv[t]) for t in range(py.shape[0])]


class GivicCodec:
    """A model bound to its coding settings.

    Args:
        model: the pretrained (or seeded) Givic model; never modified.
        overfit: overfitting settings (steps, rates, subset).
        diffusion_steps: sampling steps of the decoder.
        subsets: fine-tuned parameter subsets (default: overfit.params).
    """

    def __init__(self, model: Givic, overfit: OverfitConfig, diffusion_steps: int, subsets=None,
                 grid_step: float = 1.0):
        self.model = model.eval()
        self.grid_step = grid_step  # the decoder sees symbols x grid_step (OverfitConfig.grid_step_for_qp)
        self.cfg = model.cfg
        self.ocfg = overfit
        self.steps = diffusion_steps
        self.prior = make_prior(self.cfg)
        self.subsets = tuple(subsets if subsets is not None else overfit.params)
        self.names = overfit_names(model, self.subsets)
        self.base = {n: p.detach() for n, p in model.named_parameters()}
        for p in model.parameters():
            p.requires_grad_(False)

    @property
    def device(self):
        return self.model.state_init.device

    def template(self, size, with_deltas: bool = True) -> GopParams:
        """Zero-valued coded variables for a full-size GOP (T, H, W)."""
        z = lambda s: torch.zeros(s, device=self.device)  # noqa: E731
        deltas = {n: z(self.base[n].shape) for n in self.names} if with_deltas else {}
        return GopParams([z(s) for s in self.model.grid_shapes(size)], z(self.model.denoiser.state_shape()), deltas)

    def _call(self, params: GopParams, method: str, *args):
        """Run a model method with S0 and the parameter updates of `params` applied."""
        s0 = self.model.state_init.detach() + params.state * self.cfg.state_step
        over = {n: self.base[n] + d * self.cfg.param_step for n, d in params.deltas.items()}
        grids = [g * self.grid_step for g in params.grids] if self.grid_step != 1.0 else params.grids
        if not over:
            return getattr(self.model, method)(grids, s0, *args)
        return functional_call(self.model, over, (method, grids, s0, *args))

    @torch.no_grad()
    def reconstruct(self, params: GopParams, size, seed: int) -> torch.Tensor:
        """The decoder's full-size prediction (1, oc, T, H, W) from integer variables."""
        return self._call(params, "sample", size, self.steps, seed)[-1]

    def rd_cost(self, params: GopParams, video: GopVideo, seed: int, bits: float | None = None) -> dict:
        """Actual RD numbers of rounded variables: bits (payload if given, else the ideal code length
        of the integer tables), bpp, distortion and cost = bpp + lambda x MSE (lambda at QP 32)."""
        x = self.reconstruct(params, video.size, seed)
        d = float(self.model.distortion(x, video, "420"))
        if bits is None:
            payload, _ = encode_gop(self.prior, params, video.valid, seed)
            bits = len(payload) * 8
        px = video.valid * video.size[1] * video.size[2]
        return {"bits": bits, "bpp": bits / px, "mse": d, "cost": bits / px + self.ocfg.lambda_ref * d}

    def initial(self, video: GopVideo) -> GopParams:
        """Cold start: grids from the grid encoder, default states, no parameter updates."""
        with torch.no_grad():
            grids = [g.detach() / self.grid_step for g in self.model.encoder(video.x444)]
        p = self.template(video.size)
        p.grids = grids
        return p

    def fit(self, video: GopVideo, steps: int, lam: float, seed: int, init: GopParams | None = None,
            history: list | None = None) -> GopParams:
        """Overfit the GOP's coded variables; returns them rounded (integers).

        Args:
            video: the GOP.
            steps: optimizer steps (0: the cold or warm start, rounded).
            lam: lambda of rate + lambda x distortion.
            seed: sampler noise seed (the one written in the payload).
            init: start from these variables (InitFromPreviousGOP) instead of the grid encoder.
            history: if a list, receives the loss of every step.
        """
        start = init.clone() if init is not None else self.initial(video)
        if steps <= 0:
            out = start.rounded()
            if not self.names:
                out.deltas = {}
            return out
        o = self.ocfg
        var = start.clone()
        for t in [*var.grids, var.state, *var.deltas.values()]:
            t.requires_grad_(True)
        log_scales = []
        for _, t in var.items():
            std = t.detach().float().std(dim=1, unbiased=False) if t.shape[1] > 1 else t.detach().abs()[:, 0]
            log_scales.append(torch.log(std.clamp(min=0.5)).requires_grad_(True))
        opt = torch.optim.Adam([
            {"params": [*var.grids, var.state, *log_scales], "lr": o.lr_grids},
            {"params": list(var.deltas.values()), "lr": o.lr_params / self.cfg.param_step},
        ])
        px = video.valid * video.size[1] * video.size[2]
        gen = torch.Generator().manual_seed(int(seed) + 7)
        hard_from = int(math.ceil(steps * (1 - o.hard_fraction)))
        with self._checkpointing(o.checkpoint_blocks):
            for i in range(steps):
                mode_noise = i < hard_from
                q = (lambda t: t + torch.empty_like(t).uniform_(-0.5, 0.5)) if mode_noise else \
                    (lambda t: t + (torch.round(t) - t).detach())
                hat = GopParams([q(g) for g in var.grids], q(var.state), {k: q(v) for k, v in var.deltas.items()})
                bits = sum(rate_bits(t, ls, self.cfg.scale_min) for (_, t), ls in zip(hat.items(), log_scales))
                if o.objective == "sample":
                    x = self._call(hat, "sample", video.size, self.steps, seed)[-1]
                    dist = self.model.distortion(x, video)
                else:
                    preds = self._call(hat, "denoise_loss_levels", video, gen)
                    dist = self.model.distortion(preds[-1], video)
                loss = bits / px + lam * dist
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if history is not None:
                    history.append(float(loss.detach()))
        out = var.rounded()
        if not self.names:
            out.deltas = {}
        return out

    @contextmanager
    def _checkpointing(self, on: bool):
        """Recompute the denoiser's blocks in backward passes while the overfit loop runs (and keep
        the freed activations from fragmenting the heap: gvcodec.models.heap)."""
        if on:
            release_large_blocks()
        self.model.denoiser.checkpoint_blocks = on
        try:
            yield
        finally:
            self.model.denoiser.checkpoint_blocks = False

    def encode(self, params: GopParams, valid: int, seed: int) -> tuple[bytes, bytes]:
        """Payload and symbol hash of rounded variables."""
        return encode_gop(self.prior, params, valid, seed)

    def decode(self, payload: bytes, size, where: str) -> tuple[DecodedGop, torch.Tensor]:
        """Parse a payload and sample the GOP: (decoded variables, full-size prediction)."""
        dec = decode_gop(self.prior, payload, self.template(size), where)
        dec.params = GopParams([g.to(self.device) for g in dec.params.grids], dec.params.state.to(self.device),
                               {k: v.to(self.device) for k, v in dec.params.deltas.items()})
        return dec, self.reconstruct(dec.params, size, dec.seed)
