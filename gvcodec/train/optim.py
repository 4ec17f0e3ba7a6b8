"""AdamW over the trained parameters, warm-up + cosine learning rate, EMA of the weights."""

from __future__ import annotations

import math

import torch
from torch import nn

from gvcodec.errors import OptionError


def parse_betas(text: str) -> tuple[float, float]:
    try:
        b1, b2 = (float(x) for x in text.split(","))
    except ValueError:
        raise OptionError(f"Betas: expected two numbers like 0.9,0.99, got `{text}'") from None
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise OptionError(f"Betas: both must lie in [0, 1), got `{text}'")
    return b1, b2


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, betas: tuple[float, float],
                   fused: bool = False) -> torch.optim.AdamW:
    """AdamW over the parameters that require grad; decay only on conv and linear weights.

    Per-QP gain vectors, prior densities, biases and norms are not decayed: decaying the gains
    towards zero would shrink the rate ladder.
    """
    kernels = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)
    decayed = {id(m.weight) for m in model.modules() if isinstance(m, kernels)}
    decay, plain = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if id(p) in decayed else plain).append(p)
    if not decay and not plain:
        raise OptionError("Modules selects no trainable parameter")
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]
    # fused (one kernel for every tensor) on CUDA; the default (foreach) elsewhere
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=betas, fused=fused or None)


def learning_rate(step: int, peak: float, steps: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up from peak/warmup to peak over `warmup` steps, then cosine to min_ratio * peak.

    A pure function of the step, so a resumed run needs no scheduler state.
    """
    if warmup and step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    return peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


class Ema:
    """Exponential moving average of the trained parameters (float32 copies).

    Args:
        model: the model; only parameters that require grad are tracked.
        decay: e.g. 0.999; the effective decay ramps up as min(decay, (1 + n) / (10 + n)).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.shadow = {n: p.detach().float().clone() for n, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        params = dict(model.named_parameters())
        shadows = list(self.shadow.values())
        # the same two elementwise ops as s.mul_(d).add_(p, alpha=1-d), batched over tensors
        torch._foreach_mul_(shadows, d)
        torch._foreach_add_(shadows, [params[n].detach().float() for n in self.shadow], alpha=1.0 - d)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict) -> None:
        missing = set(self.shadow) - set(state["shadow"])
        if missing:
            raise OptionError(f"checkpoint EMA lacks `{sorted(missing)[0]}' (trained modules changed?)")
        self.updates = int(state["updates"])
        for n in self.shadow:
            self.shadow[n].copy_(state["shadow"][n])

    def averaged_state(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The model's state dict with the EMA values in place of the trained parameters."""
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for n, s in self.shadow.items():
            state[n] = s.to(state[n].dtype)
        return state
