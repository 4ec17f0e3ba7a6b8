"""Flow-matching refiner: schedule, seeded determinism, call count, exactness with the true velocity, loss."""

from __future__ import annotations

import pytest
import torch

from gvcodec.models.gnvc_vd.dit.model import VideoDiT, fixed_context
from gvcodec.models.gnvc_vd.dit.config import DitConfig
from gvcodec.models.gnvc_vd.flow import flow_matching_loss, flow_timesteps, refine, seeded_noise


class ExactVelocity:
    """Velocity toward a known x0 along the straight path: x_t = (1-t) x0 + t n  =>  v = n - x0 = (x - x0) / t."""

    def __init__(self, x0: torch.Tensor) -> None:
        self.x0 = x0
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __call__(self, x, timestep, context, cond):
        self.calls.append((x.clone(), timestep.clone()))
        t = (timestep / 1000.0).view(-1, *([1] * (x.dim() - 1)))
        return (x - self.x0) / t


def test_schedule_is_linear_from_one_minus_start_mix():
    assert flow_timesteps(5, 0.7) == pytest.approx([0.3, 0.24, 0.18, 0.12, 0.06, 0.0])
    assert flow_timesteps(1, 0.0) == [1.0, 0.0]
    with pytest.raises(ValueError):
        flow_timesteps(0, 0.7)
    with pytest.raises(ValueError):
        flow_timesteps(3, 1.5)


def test_exact_velocity_returns_x0_in_exactly_steps_calls():
    torch.manual_seed(0)
    x0, decoded = torch.randn(2, 16, 3, 4, 4), torch.randn(2, 16, 3, 4, 4)
    for steps in (1, 3, 5):
        oracle = ExactVelocity(x0)
        out = refine(oracle, decoded, torch.zeros(1, 2, 8), None, steps=steps, start_mix=0.7, seed=11)
        assert len(oracle.calls) == steps
        assert torch.allclose(out, x0, atol=1e-5)
        # first call: the start mixture at timestep 1000 * (1 - start_mix)
        start, timestep = oracle.calls[0]
        assert torch.allclose(start, 0.7 * decoded + 0.3 * seeded_noise(decoded.shape, 11))
        assert torch.allclose(timestep, torch.full((2,), 300.0))


def test_refine_is_deterministic_for_a_seed_with_a_tiny_dit():
    cfg = DitConfig(dim=32, ffn_dim=64, freq_dim=16, num_heads=2, num_layers=2, text_len=2, text_dim=8,
                    vace_layers=(0,), vace_in_dim=24)
    torch.manual_seed(0)
    dit = VideoDiT(cfg).eval()
    torch.nn.init.normal_(dit.head.head.weight, std=0.1)
    lat, cond, ctx = torch.randn(1, 16, 2, 4, 4), torch.randn(1, 24, 2, 4, 4), fixed_context(cfg, 0)
    a = refine(dit, lat, ctx, cond, steps=3, start_mix=0.7, seed=5)
    b = refine(dit, lat, ctx, cond, steps=3, start_mix=0.7, seed=5)
    c = refine(dit, lat, ctx, cond, steps=3, start_mix=0.7, seed=6)
    assert a.shape == lat.shape and torch.equal(a, b) and not torch.equal(a, c)


def test_seeded_noise_is_float32_cpu_draw():
    gen = torch.Generator().manual_seed(3)
    assert torch.equal(seeded_noise((2, 3), 3), torch.randn(2, 3, generator=gen))


def test_flow_matching_loss_zero_for_true_velocity_and_trains_dit():
    torch.manual_seed(0)
    x0, noise = torch.randn(2, 16, 1, 4, 4), torch.randn(2, 16, 1, 4, 4)
    t = torch.tensor([0.25, 0.8])
    loss = flow_matching_loss(ExactVelocity(x0), x0, torch.zeros(1, 1, 8), None, t, noise=noise)
    assert loss.item() < 1e-10
    cfg = DitConfig(dim=32, ffn_dim=64, freq_dim=16, num_heads=2, num_layers=1, text_len=1, text_dim=8,
                    vace_layers=())
    dit = VideoDiT(cfg)
    loss = flow_matching_loss(dit, x0, fixed_context(cfg, 0), None, t, generator=torch.Generator().manual_seed(1))
    loss.backward()
    assert loss.ndim == 0 and dit.head.head.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("steps, start_mix", [(5, 0.7), (3, 0.5), (1, 0.0)])
def test_refine_is_diffusers_flow_match_euler_without_shift(steps, start_mix):
    # Our refinement = Diffusers' FlowMatchEulerDiscreteScheduler with shift 1, started part-way
    # (scale_noise at sigma_0 = 1 - start_mix) on the uniform sigmas of flow_timesteps. Wan's
    # sampling shift s would map every sigma to s*sigma / (1 + (s - 1)*sigma): docs/gnvc-vd.md.
    diffusers = pytest.importorskip("diffusers", reason="diffusers (test extra) holds the reference scheduler")
    cfg = DitConfig(dim=32, ffn_dim=64, freq_dim=16, num_heads=2, num_layers=2, text_len=2, text_dim=8,
                    vace_layers=(0,), vace_in_dim=24)
    torch.manual_seed(0)
    dit = VideoDiT(cfg).eval()
    torch.nn.init.normal_(dit.head.head.weight, std=0.1)
    lat, cond, ctx = torch.randn(1, 16, 2, 4, 4), torch.randn(1, 24, 2, 4, 4), fixed_context(cfg, 0)
    ours = refine(dit, lat, ctx, cond, steps=steps, start_mix=start_mix, seed=5)

    sched = diffusers.FlowMatchEulerDiscreteScheduler(shift=1.0)
    sched.set_timesteps(sigmas=flow_timesteps(steps, start_mix)[:-1])
    assert sched.sigmas[-1] == 0 and len(sched.timesteps) == steps
    x = sched.scale_noise(lat, sched.timesteps[:1], seeded_noise(lat.shape, 5))
    with torch.no_grad():
        for t in sched.timesteps:
            x = sched.step(dit(x, t.expand(1), ctx, cond), t, x, return_dict=False)[0]
    torch.testing.assert_close(ours, x, atol=1e-6, rtol=1e-6)
