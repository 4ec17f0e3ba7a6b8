"""Flow-matching latent refinement with the VideoDiT (inference) and its training loss.

Convention (Wan2.1, rectified flow): at flow time t in [0, 1] a sample is
x_t = (1 - t) * x0 + t * noise, the model predicts the velocity v = dx_t/dt = noise - x0, and it
is called with timestep 1000 * t. Sampling integrates dx/dt = v from t0 down to 0.

Refinement does not start from pure noise: the decoded latents are taken as a noisy x0 estimate
and mixed with fresh noise, x_t0 = start_mix * latents + (1 - start_mix) * noise, i.e. the point
t0 = 1 - start_mix of the straight path from the latents to that noise.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# (x, timestep [N] in 0..1000, context, cond) -> velocity; a VideoDiT is one.
VelocityModel = Callable[[Tensor, Tensor, Tensor, Tensor | None], Tensor]


def flow_timesteps(steps: int, start_mix: float) -> list[float]:
    """Flow times of the refinement: linear from t0 = 1 - start_mix down to 0.

    t_i = t0 * (1 - i / steps) for i = 0..steps; step i evaluates the velocity at t_i and moves to
    t_{i+1}. Python floats (float64), so the schedule is the same on every machine.

    Args:
        steps: Euler steps (model calls), at least 1.
        start_mix: weight of the decoded latents in the start point, in [0, 1]
            (0 = start from pure noise, 1 = no noise).

    Returns:
        steps + 1 flow times, first t0, last 0.
    """
    if steps < 1:
        raise ValueError(f"refinement needs at least one step, got {steps}")
    if not 0.0 <= start_mix <= 1.0:
        raise ValueError(f"start_mix must lie in [0, 1], got {start_mix}")
    t0 = 1.0 - start_mix
    return [t0 * (1.0 - i / steps) for i in range(steps)] + [0.0]


def seeded_noise(shape: torch.Size | tuple[int, ...], seed: int, device: torch.device | str | None = None) -> Tensor:
    """Standard normal noise drawn on CPU in float32 from `seed`, then moved: identical on every machine.

    Args:
        shape: noise shape.
        seed: generator seed (carried in the bitstream by the engine).
        device: where to move it.

    Returns:
        float32 noise on `device`.
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32).to(device)


@torch.no_grad()
def refine(dit: VelocityModel, latents: Tensor, context: Tensor, cond: Tensor | None, steps: int = 5,
           start_mix: float = 0.7, seed: int = 0) -> Tensor:
    """Refine decoded latents with deterministic Euler steps of the DiT's velocity field.

    Starts at x = start_mix * latents + (1 - start_mix) * noise (flow time t0 = 1 - start_mix),
    then for the times t_0 > t_1 > ... > t_steps = 0 of `flow_timesteps` does
    x <- x + (t_{i+1} - t_i) * dit(x, 1000 * t_i, context, cond). Exactly `steps` model calls;
    runs without autograd.

    Args:
        dit: the velocity model, e.g. a VideoDiT.
        latents: decoded latents [N, C, T, H, W] (DiT space).
        context: cross-attention context [N or 1, Lc, text_dim].
        cond: adapter input [N, vace_in_dim, T, H, W], or None.
        steps: Euler steps.
        start_mix: weight of the decoded latents in the start point.
        seed: noise seed.

    Returns:
        Refined float32 latents, shape of `latents`.
    """
    times = flow_timesteps(steps, start_mix)
    noise = seeded_noise(latents.shape, seed, latents.device)
    x = start_mix * latents.float() + (1.0 - start_mix) * noise
    n = latents.shape[0]
    for t_now, t_next in zip(times[:-1], times[1:]):
        timestep = torch.full((n,), 1000.0 * t_now, dtype=torch.float32, device=latents.device)
        x = x + (t_next - t_now) * dit(x, timestep, context, cond).float()
    return x


def flow_matching_loss(dit: VelocityModel, x0: Tensor, context: Tensor, cond: Tensor | None,
                       t: Tensor | float, noise: Tensor | None = None,
                       generator: torch.Generator | None = None) -> Tensor:
    """Rectified-flow training loss: mean squared error of the predicted velocity.

    x_t = (1 - t) * x0 + t * noise and the target is noise - x0 (Wan's convention).

    Args:
        dit: the velocity model.
        x0: clean latents [N, C, T, H, W].
        context: cross-attention context [N or 1, Lc, text_dim].
        cond: adapter input, or None.
        t: flow times in [0, 1], a scalar or [N].
        noise: the noise to use; drawn with `generator` when None.
        generator: generator for the noise (on x0's device).

    Returns:
        Scalar float32 loss.
    """
    n = x0.shape[0]
    t = torch.as_tensor(t, dtype=torch.float32, device=x0.device).reshape(-1).expand(n)
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, dtype=torch.float32, device=x0.device)
    tt = t.view(n, *([1] * (x0.dim() - 1)))
    x_t = (1.0 - tt) * x0.float() + tt * noise.float()
    pred = dit(x_t, 1000.0 * t, context, cond)
    return F.mse_loss(pred.float(), noise.float() - x0.float())
