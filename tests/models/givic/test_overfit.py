"""GIViC per-GOP overfitting on a real clip: it lowers the RD cost, and a warm start converges sooner."""

import copy
import dataclasses

import pytest
import torch

from gvcodec.models.givic.codec import GivicCodec, planes_to_video
from gvcodec.models.givic.config import OverfitConfig, load_givic_config
from gvcodec.models.givic.loading import seeded_model

@pytest.fixture(scope="module")
def codec():
    cfg = dataclasses.replace(load_givic_config("givic-tiny"), gop_frames=2, levels=2, token_size=(2, 16, 16),
                              dim=32, num_layers=2, ffn_dim=64, freq_dim=32, sample_steps=2)
    torch.set_num_threads(1)
    return GivicCodec(seeded_model(cfg), OverfitConfig(lr_grids=0.1, lr_params=3e-3, hard_fraction=0.2), 2)


def test_overfitting_lowers_the_rd_cost_of_a_real_gop(sequence, bus_crop, codec):
    video = planes_to_video(bus_crop(sequence("bus_352x288_17f_yuv420p.yuv"), 0, 2), 8, 2)
    cold = codec.fit(video, 0, 1000.0, seed=0)
    fitted = codec.fit(video, 40, 1000.0, seed=0)
    before, after = codec.rd_cost(cold, video, 0), codec.rd_cost(fitted, video, 0)
    assert after["cost"] < 0.5 * before["cost"], (before, after)
    assert after["mse"] < before["mse"]
    assert fitted.deltas and any(d.abs().sum() > 0 for d in fitted.deltas.values())  # updates really coded
    # the costs are measured on the real payload: decode it and get the same reconstruction
    payload, digest = codec.encode(fitted, 2, 0)
    dec, x = codec.decode(payload, video.size, "test")
    assert dec.symbol_hash == digest and torch.equal(x, codec.reconstruct(fitted, video.size, 0))
    assert after["bits"] == len(payload) * 8


def test_init_from_previous_gop_converges_in_fewer_steps(sequence, bus_crop, codec):
    clip = sequence("bus_352x288_17f_yuv420p.yuv")
    gop0 = planes_to_video(bus_crop(clip, 0, 2), 8, 2)
    gop1 = planes_to_video(bus_crop(clip, 2, 2), 8, 2)
    previous = codec.fit(gop0, 40, 1000.0, seed=0)
    cold, warm = [], []
    codec.fit(gop1, 30, 1000.0, seed=2, history=cold)
    codec.fit(gop1, 30, 1000.0, seed=2, init=previous, history=warm)
    target = min(cold)
    reached = next(i for i, v in enumerate(warm + [target]) if v <= target)
    assert reached < len(cold) - 1 - cold[::-1].index(target), (cold, warm)
    assert warm[0] < 0.5 * cold[0]


def test_block_checkpointing_keeps_the_overfit_gradients(codec):
    """Recomputed blocks under functional_call (the coded parameter updates) give the very same
    gradients as kept activations."""
    m, size = codec.model, (2, 32, 32)
    gen = torch.Generator().manual_seed(0)
    start = codec.template(size)
    start.grids = [torch.randn(g.shape, generator=gen) for g in start.grids]
    start.deltas = {n: torch.randn(d.shape, generator=gen) for n, d in start.deltas.items()}
    grads = []
    for on in (False, True):
        var = start.clone()
        leaves = [*var.grids, *var.deltas.values()]
        for t in leaves:
            t.requires_grad_(True)
        with codec._checkpointing(on):
            assert m.denoiser.checkpoint_blocks is on
            x = codec._call(var, "sample", size, 2, 0)[-1]
            grads.append(torch.autograd.grad((x ** 2).mean(), leaves))
    assert m.denoiser.checkpoint_blocks is False
    assert all(torch.equal(a, b) for a, b in zip(*grads)) and any(g.abs().sum() > 0 for g in grads[0])


def test_the_qp_grid_step_moves_the_rate_without_overfitting(sequence, bus_crop, codec):
    video = planes_to_video(bus_crop(sequence("bus_352x288_17f_yuv420p.yuv"), 0, 2), 8, 2)
    ocfg = codec.ocfg
    assert ocfg.grid_step_for_qp(32) == 1.0 and ocfg.grid_step_for_qp(38) == 2.0
    model = copy.deepcopy(codec.model)  # the seeded grid encoder's heads are zero: give them weights
    gen = torch.Generator().manual_seed(1)
    for name, p in model.encoder.named_parameters():
        if p.abs().sum() == 0:
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    bits = {}
    for qp in (26, 38):
        c = GivicCodec(model, ocfg, 2, grid_step=ocfg.grid_step_for_qp(qp))
        params = c.fit(video, 0, 1000.0, seed=0)
        payload, digest = c.encode(params, 2, 0)
        dec, x = c.decode(payload, video.size, "test")
        assert dec.symbol_hash == digest and torch.equal(x, c.reconstruct(params, video.size, 0))
        bits[qp] = len(payload) * 8
    assert bits[38] < bits[26]
