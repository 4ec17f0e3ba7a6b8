"""GNVC-VD's VAE and DiT against the public Wan2.1 reference modules (Diffusers), by measurement.

The reference is Diffusers' `AutoencoderKLWan`, `WanTransformer3DModel` and
`WanVACETransformer3DModel` (pinned in the `test` extra; gvcodec itself never imports diffusers).
No weights are downloaded: both sides are built from configs, our modules get random weights
(norm gains included), and the weights go to the reference through Diffusers' own converters from
Wan's original key names (`convert_wan_vae_to_diffusers`, `convert_wan_transformer_to_diffusers`),
which are the names our modules use. Float32 on the CPU must agree to 1e-5 (measured: about 1e-7 on
latents, 3e-6 on pixels); a bf16 variant runs only on CUDA.

The one difference found: the DiT's sinusoidal timestep embedding. Wan's original code (which
trained the public weights) computes it in float64 and casts to float32; Diffusers computes it in
float32, whose phase error at t = 999 is about 6e-5 rad. Ours follows Wan (float64). With
Diffusers' own embedding function swapped into our model the velocities are bit-identical (0.0
measured, tested to 1e-6); as shipped they differ by at most 3e-6 of the output's peak (1.5e-5 on
|v| up to 5.6 with random weights), tested as 1e-5 relative to the peak.

Latent normalisation: Diffusers' VAE returns and takes raw latents (its pipelines apply
`latents_mean` / `latents_std`); ours returns (mu - mean) / std and decodes z * std + mean, so the
comparison normalises the reference side with the same table.
"""

from __future__ import annotations

import math

import pytest
import torch

diffusers = pytest.importorskip(
    "diffusers", reason="diffusers (the `test` extra pins diffusers==0.42.1) is needed for the Wan reference tests")

from diffusers import AutoencoderKLWan, WanTransformer3DModel, WanVACETransformer3DModel  # noqa: E402
from diffusers.loaders.single_file_utils import (  # noqa: E402
    convert_wan_transformer_to_diffusers, convert_wan_vae_to_diffusers)

from gvcodec.models.gnvc_vd.dit.config import DitConfig, load_dit_config  # noqa: E402
from gvcodec.models.gnvc_vd.dit.model import VideoDiT, build_dit  # noqa: E402
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig, load_vae_config  # noqa: E402
from gvcodec.models.gnvc_vd.vae.model import Vae3d  # noqa: E402

TOL = dict(atol=1e-5, rtol=1e-5)          # float32, CPU
EXACT = dict(atol=1e-6, rtol=1e-6)        # float32, CPU, DiT with the reference's own timestep sinusoid


# -- helpers -------------------------------------------------------------------------------------
def randomise(module: torch.nn.Module, seed: int) -> None:
    """Random weights everywhere: no zero projections, norm gains around 1, biases non-zero."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "gamma" or "norm" in name:
                p.copy_(1 + 0.25 * torch.randn(p.shape, generator=gen))
            elif leaf == "modulation":
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
            elif p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def wan_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def reference_vae(cfg: Vae3dConfig, device: str | None = None) -> AutoencoderKLWan:
    kw = dict(base_dim=cfg.dim, z_dim=cfg.z_dim, dim_mult=list(cfg.dim_mult), num_res_blocks=cfg.num_res_blocks,
              attn_scales=list(cfg.attn_scales), temperal_downsample=list(cfg.temporal_downsample),
              dropout=cfg.dropout)
    if cfg.latent_mean is not None:
        kw.update(latents_mean=list(cfg.latent_mean), latents_std=list(cfg.latent_std))
    with torch.device(device or "cpu"):
        return AutoencoderKLWan(**kw)


def dit_kwargs(cfg: DitConfig) -> dict:
    return dict(patch_size=tuple(cfg.patch_size), num_attention_heads=cfg.num_heads, attention_head_dim=cfg.head_dim,
                in_channels=cfg.in_dim, out_channels=cfg.out_dim, text_dim=cfg.text_dim, freq_dim=cfg.freq_dim,
                ffn_dim=cfg.ffn_dim, num_layers=cfg.num_layers, cross_attn_norm=cfg.cross_attn_norm,
                qk_norm="rms_norm_across_heads" if cfg.qk_norm else None, eps=cfg.eps)


def reference_dit(cfg: DitConfig, device: str | None = None) -> torch.nn.Module:
    with torch.device(device or "cpu"):
        if cfg.has_vace:
            return WanVACETransformer3DModel(**dit_kwargs(cfg), vace_layers=list(cfg.vace_layers),
                                             vace_in_channels=cfg.vace_in_dim)
        return WanTransformer3DModel(**dit_kwargs(cfg))


def vae_pair(size: str, seed: int = 0) -> tuple[Vae3d, AutoencoderKLWan]:
    cfg = load_vae_config(size)
    torch.manual_seed(seed)
    ours = Vae3d(cfg).eval()
    randomise(ours, seed)
    ref = reference_vae(cfg).eval()
    ref.load_state_dict(convert_wan_vae_to_diffusers(wan_state(ours)), strict=True)
    return ours, ref


def dit_pair(cfg: DitConfig, seed: int = 0) -> tuple[VideoDiT, torch.nn.Module]:
    torch.manual_seed(seed)
    ours = VideoDiT(cfg).eval()
    randomise(ours, seed)
    ref = reference_dit(cfg).eval()
    ref.load_state_dict(convert_wan_transformer_to_diffusers(wan_state(ours)), strict=True)
    return ours, ref


def normalise(mu: torch.Tensor, cfg: Vae3dConfig) -> torch.Tensor:
    z = cfg.z_dim
    mean = torch.tensor(cfg.latent_mean or (0.0,) * z).view(1, z, 1, 1, 1).to(mu)
    std = torch.tensor(cfg.latent_std or (1.0,) * z).view(1, z, 1, 1, 1).to(mu)
    return (mu - mean) / std


def denormalise(z: torch.Tensor, cfg: Vae3dConfig) -> torch.Tensor:
    c = cfg.z_dim
    mean = torch.tensor(cfg.latent_mean or (0.0,) * c).view(1, c, 1, 1, 1).to(z)
    std = torch.tensor(cfg.latent_std or (1.0,) * c).view(1, c, 1, 1, 1).to(z)
    return z * std + mean


def clip(frames: int, height: int = 40, width: int = 56, seed: int = 1, batch: int = 1) -> torch.Tensor:
    """Smooth picture content plus noise in [-1, 1] (40 x 56: multiples of 8, not of 64)."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(frames).view(1, 1, frames, 1, 1)
    y = torch.arange(height).view(1, 1, 1, height, 1)
    x = torch.arange(width).view(1, 1, 1, 1, width)
    c = torch.arange(3).view(1, 3, 1, 1, 1)
    base = torch.sin((x + 2 * t + 5 * c) / 6.0) * torch.cos((y - t) / 5.0)
    return (0.7 * base + 0.3 * torch.randn(batch, 3, frames, height, width, generator=gen)).clamp(-1, 1)


@pytest.fixture(scope="module")
def tiny_vae():
    return vae_pair("gnvc-vd-tiny")


@pytest.fixture(scope="module")
def paper_normalised_tiny_vae():
    """The tiny VAE with the paper's latent normalisation table, so mean/std handling is exercised."""
    cfg = load_vae_config("gnvc-vd-paper")
    from dataclasses import replace

    cfg = replace(load_vae_config("gnvc-vd-tiny"), latent_mean=cfg.latent_mean, latent_std=cfg.latent_std)
    torch.manual_seed(3)
    ours = Vae3d(cfg).eval()
    randomise(ours, 3)
    ref = reference_vae(cfg).eval()
    ref.load_state_dict(convert_wan_vae_to_diffusers(wan_state(ours)), strict=True)
    return ours, ref


# -- VAE -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("frames", [1, 5, 9, 13])
def test_vae_tiny_encode_and_decode_equal_diffusers(tiny_vae, frames):
    ours, ref = tiny_vae
    cfg = ours.cfg
    video = clip(frames)
    with torch.no_grad():
        mu_ref = ref.encode(video).latent_dist.mean
        z = ours.encode(video)
        torch.testing.assert_close(z, normalise(mu_ref, cfg), **TOL)
        # Streaming encode in other chunkings: 1 + 4a first, then multiples of 4.
        if frames > 1:
            chunks = [video[:, :, :5]] + (list(video[:, :, 5:].split(8, dim=2)) if frames > 5 else [])
            torch.testing.assert_close(torch.cat(list(ours.encode_chunks(chunks)), dim=2), z, **TOL)
        pixels_ref = ref.decode(mu_ref).sample  # clamped to [-1, 1] like ours
        torch.testing.assert_close(ours.decode(z), pixels_ref, **TOL)
        torch.testing.assert_close(torch.cat(list(ours.decode_iter(z)), dim=2), pixels_ref, **TOL)
        torch.testing.assert_close(torch.cat(list(ours.decode_chunks(z.split(2, dim=2))), dim=2), pixels_ref, **TOL)


def test_vae_latent_normalisation_equals_the_pipeline_convention(paper_normalised_tiny_vae):
    # Diffusers' Wan pipelines: z = (mu - latents_mean) / latents_std on encode, mu = z * std + mean on decode.
    ours, ref = paper_normalised_tiny_vae
    video = clip(5, seed=4)
    with torch.no_grad():
        mu_ref = ref.encode(video).latent_dist.mean
        z = ours.encode(video)
        torch.testing.assert_close(z, normalise(mu_ref, ours.cfg), **TOL)
        torch.testing.assert_close(denormalise(z, ours.cfg), mu_ref, **TOL)
        torch.testing.assert_close(ours.decode(z), ref.decode(mu_ref).sample, **TOL)
    assert ref.config.latents_mean == list(ours.cfg.latent_mean)
    assert ref.config.latents_std == list(ours.cfg.latent_std)


def test_vae_small_encode_and_decode_equal_diffusers():
    ours, ref = vae_pair("gnvc-vd-small", seed=5)
    video = clip(5, height=24, width=40, seed=6)
    with torch.no_grad():
        mu_ref = ref.encode(video).latent_dist.mean
        z = ours.encode(video)
        torch.testing.assert_close(z, normalise(mu_ref, ours.cfg), **TOL)
        torch.testing.assert_close(torch.cat(list(ours.decode_iter(z)), dim=2), ref.decode(mu_ref).sample, **TOL)


# -- DiT -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_dit():
    return dit_pair(load_dit_config("gnvc-vd-tiny"), seed=7)


@pytest.fixture
def reference_sinusoid(monkeypatch):
    """Give our DiT Diffusers' float32 timestep embedding (ours is Wan's float64 one)."""
    from diffusers.models.embeddings import get_timestep_embedding

    import gvcodec.models.gnvc_vd.dit.model as dit_model

    monkeypatch.setattr(dit_model, "sinusoidal_embedding", lambda t, dim: get_timestep_embedding(
        t, dim, flip_sin_to_cos=True, downscale_freq_shift=0))


def assert_close_to_peak(got: torch.Tensor, expect: torch.Tensor, rel: float = 1e-5) -> None:
    """Max |got - expect| within rel x max |expect| (float32 rounding differences scale with the output)."""
    err, peak = (got - expect).abs().max().item(), expect.abs().max().item()
    assert got.shape == expect.shape and err <= rel * peak, f"max error {err:.3g} > {rel:g} x peak {peak:.3g}"


def dit_inputs(cfg: DitConfig, batch: int = 2, grid: tuple[int, int, int] = (3, 6, 10), seed: int = 8):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, cfg.in_dim, *grid, generator=gen)
    context = torch.randn(batch, cfg.text_len, cfg.text_dim, generator=gen)
    vace = torch.randn(batch, cfg.vace_in_dim, *grid, generator=gen)
    return x, context, vace


TIMESTEPS = [[999.0, 0.0], [700.0, 250.5], [1.0, 500.0]]


def tiny_vace_outputs(tiny_dit, t):
    ours, ref = tiny_dit
    cfg = ours.cfg
    x, context, vace = dit_inputs(cfg)
    scale = 0.7
    with torch.no_grad():
        expect = ref(x, torch.tensor(t), context, control_hidden_states=vace,
                     control_hidden_states_scale=torch.full((len(cfg.vace_layers),), scale), return_dict=False)[0]
        got = ours(x, torch.tensor(t), context, vace_context=vace, context_scale=scale)
    return got, expect


@pytest.mark.parametrize("t", TIMESTEPS)
def test_dit_tiny_with_vace_equals_diffusers(tiny_dit, t):
    assert_close_to_peak(*tiny_vace_outputs(tiny_dit, t))


@pytest.mark.parametrize("t", TIMESTEPS)
def test_dit_tiny_with_the_reference_sinusoid_is_exact(tiny_dit, t, reference_sinusoid):
    torch.testing.assert_close(*tiny_vace_outputs(tiny_dit, t), **EXACT)


def test_timestep_sinusoid_is_wan_float64_not_diffusers_float32():
    from diffusers.models.embeddings import get_timestep_embedding

    from gvcodec.models.gnvc_vd.dit.layers import sinusoidal_embedding

    t = torch.tensor([0.0, 1.0, 250.5, 999.0])
    ours = sinusoidal_embedding(t, 256)
    theirs = get_timestep_embedding(t, 256, flip_sin_to_cos=True, downscale_freq_shift=0)
    half = 128
    exact = torch.outer(t.double(), 10000.0 ** (-torch.arange(half, dtype=torch.float64) / half))
    exact = torch.cat([exact.cos(), exact.sin()], dim=1)
    assert (ours.double() - exact).abs().max() < 1e-7  # float64 phase, float32 rounding only
    assert 1e-6 < (theirs.double() - exact).abs().max() < 2e-4  # float32 phase error at t = 999


def test_dit_tiny_timesteps_change_the_output(tiny_dit):
    # Guard against a vacuous comparison: the random weights make the timestep matter.
    ours, _ = tiny_dit
    x, context, vace = dit_inputs(ours.cfg, batch=1)
    with torch.no_grad():
        a = ours(x, torch.tensor([999.0]), context, vace_context=vace)
        b = ours(x, torch.tensor([250.0]), context, vace_context=vace)
    assert (a - b).abs().max() > 1e-2


def test_dit_tiny_without_adapter_equals_diffusers_t2v(tiny_dit):
    # The same base weights in Diffusers' plain WanTransformer3DModel; ours with vace_context=None,
    # and our T2V-layout model (no adapter keys) loaded from the base keys alone.
    ours, _ = tiny_dit
    cfg = ours.cfg.without_vace()
    base = {k: v for k, v in wan_state(ours).items() if not k.startswith("vace_")}
    ref = reference_dit(cfg).eval()
    ref.load_state_dict(convert_wan_transformer_to_diffusers(dict(base)), strict=True)
    t2v = VideoDiT(cfg).eval()
    t2v.load_state_dict(base, strict=True)
    x, context, _ = dit_inputs(cfg, grid=(2, 4, 6))
    t = torch.tensor([900.0, 120.0])
    with torch.no_grad():
        expect = ref(x, t, context, return_dict=False)[0]
        assert_close_to_peak(t2v(x, t, context), expect)
        assert_close_to_peak(ours(x, t, context, vace_context=None), expect)


def test_dit_small_with_vace_equals_diffusers():
    ours, ref = dit_pair(load_dit_config("gnvc-vd-small"), seed=9)
    cfg = ours.cfg
    x, context, vace = dit_inputs(cfg, batch=1, grid=(2, 4, 6))
    t = torch.tensor([640.0])
    with torch.no_grad():
        expect = ref(x, t, context, control_hidden_states=vace, return_dict=False)[0]
        got = ours(x, t, context, vace_context=vace)
    assert_close_to_peak(got, expect)


# -- bf16 on CUDA --------------------------------------------------------------------------------
def bf16_errors(device: str) -> dict[str, tuple[float, float]]:
    """Peak error of ours and of the reference under bf16 autocast, each against the float32 result.

    Both sides keep float32 weights under bf16 autocast, as our engine runs on CUDA (--Precision=auto).
    Returns {stage: (ours, reference)} errors relative to the float32 peak.
    """
    def rel(a: torch.Tensor, b: torch.Tensor) -> float:
        return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()

    out = {}
    autocast = torch.autocast(device, dtype=torch.bfloat16)
    ours, ref = dit_pair(load_dit_config("gnvc-vd-small"), seed=10)
    ours, ref = ours.to(device), ref.to(device)
    x, context, vace = (u.to(device) for u in dit_inputs(ours.cfg, batch=1, grid=(3, 8, 8)))
    t = torch.tensor([500.0], device=device)
    with torch.no_grad():
        exact = ref(x, t, context, control_hidden_states=vace, return_dict=False)[0]
        with autocast:
            theirs = ref(x, t, context, control_hidden_states=vace, return_dict=False)[0]
            got = ours(x, t, context, vace_context=vace)
    out["dit"] = rel(got, exact), rel(theirs, exact)
    vae, vref = vae_pair("gnvc-vd-small", seed=11)
    vae, vref = vae.to(device), vref.to(device)
    video = clip(5, height=32, width=48).to(device)
    with torch.no_grad():
        mu = vref.encode(video).latent_dist.mean
        pixels = vref.decode(mu).sample
        z = normalise(mu, vae.cfg)
        with autocast:
            out["encode"] = rel(vae.encode(video), z), rel(normalise(vref.encode(video).latent_dist.mean, vae.cfg), z)
            out["decode"] = rel(vae.decode(z), pixels), rel(vref.decode(mu).sample, pixels)
    return out


def bf16_comparison(device: str) -> None:
    for stage, (ours, theirs) in bf16_errors(device).items():
        # bf16 keeps 8 bits: ours may be no further from float32 than twice the reference's own error.
        assert ours <= max(2 * theirs, 1e-2), f"{stage}: bf16 error {ours:.3g} vs the reference's {theirs:.3g}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the bf16 comparison needs CUDA (no GPU here)")
def test_bf16_on_cuda_stays_close_to_diffusers():
    bf16_comparison("cuda")


# -- paper size on the meta device ---------------------------------------------------------------
def shapes(state: dict) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def test_paper_vae_config_and_key_map_equal_the_public_model(public_keys):
    cfg = load_vae_config("gnvc-vd-paper")
    ref = reference_vae(Vae3dConfig(), device="meta")  # Diffusers' defaults are the Wan2.1 VAE
    c = ref.config
    assert (c.base_dim, c.z_dim, c.dim_mult, c.num_res_blocks, c.attn_scales, c.temperal_downsample, c.dropout) == (
        cfg.dim, cfg.z_dim, list(cfg.dim_mult), cfg.num_res_blocks, list(cfg.attn_scales),
        list(cfg.temporal_downsample), cfg.dropout)
    assert (c.latents_mean, c.latents_std) == (list(cfg.latent_mean), list(cfg.latent_std))
    with torch.device("meta"):
        ours = Vae3d(cfg)
    public = dict(public_keys("wan21_vae_state_dict.tsv"))
    assert shapes(ours.state_dict()) == public
    converted = convert_wan_vae_to_diffusers(dict(ours.state_dict()))
    assert len(converted) == len(public)  # no two Wan keys collapse onto one Diffusers key
    assert shapes(converted) == shapes(ref.state_dict())  # every Diffusers key is hit, with its shape


@pytest.mark.parametrize("tsv, vace", [("wan21_t2v_1.3b_state_dict.tsv", False),
                                       ("wan21_vace_1.3b_state_dict.tsv", True)])
def test_paper_dit_config_and_key_map_equal_the_public_model(public_keys, tsv, vace):
    cfg = load_dit_config("gnvc-vd-paper")
    cfg = cfg if vace else cfg.without_vace()
    # The public Wan2.1-T2V-1.3B-Diffusers / VACE-1.3B-diffusers transformer configs.
    public_cfg = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                      out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30,
                      cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6)
    assert dit_kwargs(cfg) == public_cfg
    if vace:
        assert (list(cfg.vace_layers), cfg.vace_in_dim) == (list(range(0, 30, 2)), 96)
    ref = reference_dit(cfg, device="meta")
    ours = build_dit(cfg, device="meta")
    public = dict(public_keys(tsv))
    assert shapes(ours.state_dict()) == public
    converted = convert_wan_transformer_to_diffusers(dict(ours.state_dict()))
    assert len(converted) == len(public)
    assert shapes(converted) == shapes(ref.state_dict())


# -- our Diffusers name maps (gvcodec import) equal Diffusers' converters --------------------------
@pytest.mark.parametrize("size", ["gnvc-vd-tiny", "gnvc-vd-small", "gnvc-vd-paper"])
def test_import_name_maps_equal_diffusers_converters(size):
    from gvcodec.models.gnvc_vd.public import dit_key_map, vae_key_map

    with torch.device("meta"):
        vae = Vae3d(load_vae_config(size))
    dit = build_dit(load_dit_config(size), device="meta")
    for module, ours, convert in ((vae, vae_key_map(vae), convert_wan_vae_to_diffusers),
                                  (dit, dit_key_map(dit), convert_wan_transformer_to_diffusers)):
        state = module.state_dict()
        # Diffusers converts tensor by tensor; a one-key dict gives each key's Diffusers name.
        theirs = {k: next(iter(convert({k: v}))) for k, v in state.items()}
        assert ours == theirs
        assert len(set(ours.values())) == len(ours)  # one-to-one, so it reads backwards
