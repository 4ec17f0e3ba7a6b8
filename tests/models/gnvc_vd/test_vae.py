"""Causal 3D VAE: Wan2.1 key layout and sizes, frame <-> latent mapping, streaming and causality."""

from __future__ import annotations

import pytest
import torch

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into
from gvcodec.models.configs import read_model_section
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig, load_vae_config
from gvcodec.models.summary import count_parameters
from gvcodec.models.gnvc_vd.vae.model import Vae3d

WAN_TOTAL = 126_892_531


@pytest.fixture(scope="module")
def wan_shapes(public_keys):
    return dict(public_keys("wan21_vae_state_dict.tsv"))


def meta_vae(name: str) -> Vae3d:
    with torch.device("meta"):
        return Vae3d(load_vae_config(name))


@pytest.fixture(scope="module")
def tiny() -> Vae3d:
    """The tiny VAE with non-trivial norm gains and attention outputs (fresh ones are identities)."""
    torch.manual_seed(0)
    model = Vae3d(load_vae_config("gnvc-vd-tiny")).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.uniform_(0.7, 1.3)
            elif ".proj." in name:
                p.normal_(0.0, 0.05)
    return model


def clip(frames: int, size: int = 8, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, frames, size, size, generator=g) * 2 - 1


def test_paper_config_has_wan21_keys_shapes_and_order(wan_shapes):
    model = meta_vae("gnvc-vd-paper")
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert list(got) == list(wan_shapes)
    assert got == wan_shapes
    assert sum(p.numel() for p in model.parameters()) == WAN_TOTAL


def test_paper_counts_per_component():
    assert count_parameters(meta_vae("gnvc-vd-paper")) == {
        "encoder": 53_595_872, "conv1": 1_056, "conv2": 272, "decoder": 73_295_331, "total": WAN_TOTAL}


def test_wan21_named_state_dict_loads_strictly_into_paper_model(wan_shapes):
    model = meta_vae("gnvc-vd-paper")
    state = {name: torch.empty(shape, device="meta") for name, shape in wan_shapes.items()}
    load_into(model, state, "Wan2.1 VAE (TSV names)", assign=True)
    with pytest.raises(ModelError, match="missing key `decoder.head.2.bias`"):
        load_into(meta_vae("gnvc-vd-paper"), {k: v for k, v in state.items() if k != "decoder.head.2.bias"}, "x")


def test_paper_latent_normalisation_is_the_public_table():
    cfg = load_vae_config("gnvc-vd-paper")
    assert cfg.latent_mean[0] == -0.7571 and cfg.latent_mean[15] == -0.2921
    assert cfg.latent_std[0] == 2.8184 and cfg.latent_std[15] == 1.9160
    assert (cfg.spatial_stride, cfg.temporal_stride) == (8, 4)


@pytest.mark.parametrize("dim, total", [(8, 924_491), (16, 3_602_371), (32, 14_222_387)])
def test_scaled_layouts_match_the_counted_sizes(dim, total):
    with torch.device("meta"):
        assert count_parameters(Vae3d(Vae3dConfig(dim=dim)))["total"] == total


def test_tiny_and_small_yaml_sizes():
    assert load_vae_config("gnvc-vd-tiny").dim == 16 and load_vae_config("gnvc-vd-small").dim == 32
    assert count_parameters(meta_vae("gnvc-vd-tiny"))["total"] == 3_602_371
    assert count_parameters(meta_vae("gnvc-vd-small"))["total"] == 14_222_387


def test_loader_reads_only_the_vae_section(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("codec: {channels: 3}\ndit: {layers: 2}\nvae:\n  dim: 8\n  dim_mult: [1, 2]\n"
                    "  temporal_downsample: [true]\n")
    cfg = load_vae_config(path)
    assert (cfg.dim, cfg.dim_mult, cfg.temporal_downsample) == (8, (1, 2), (True,))
    assert (cfg.spatial_stride, cfg.temporal_stride) == (2, 2)
    assert read_model_section(path, "dit") == {"layers": 2}


@pytest.mark.parametrize("text, message", [
    ("codec: {}\n", "no `vae` section"),
    ("vae: {dim: 8, width: 3}\n", "unknown vae key `width`"),
    ("vae: {dim: 8, temporal_downsample: [true]}\n", "needs 3 flags"),
    ("vae: {dim: 8, latent_std: [1.0, 2.0]}\n", "latent_std has 2 values"),
])
def test_bad_vae_configs_raise_model_error(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ModelError, match=message):
        load_vae_config(path)


@torch.no_grad()
@pytest.mark.parametrize("frames, latents", [(1, 1), (5, 2), (9, 3), (25, 7), (21, 6)])
def test_frames_map_to_one_plus_k_latents_and_back(tiny, frames, latents):
    z = tiny.encode(clip(frames))
    assert tuple(z.shape) == (1, 16, latents, 1, 1)
    video = tiny.decode(z)
    assert tuple(video.shape) == (1, 3, frames, 8, 8)
    assert video.abs().max() <= 1.0


@pytest.mark.parametrize("shape, message", [
    ((1, 3, 11, 16, 16), "11 frames; the VAE needs 1 \\+ 4k frames \\(e.g. 9 or 13\\)"),
    ((1, 3, 4, 16, 16), "4 frames"),
    ((1, 3, 5, 12, 16), "not a multiple of 8"),
    ((1, 1, 5, 16, 16), "N x 3 x T x H x W"),
])
def test_bad_clips_raise_value_error(tiny, shape, message):
    with pytest.raises(ValueError, match=message):
        tiny.encode(torch.zeros(shape))


@torch.no_grad()
def test_chunked_encoding_equals_one_shot(tiny):
    video = clip(9, size=16)
    chunked = tiny.encode(video)  # chunks of 1, 4, 4 frames
    one_shot = tiny.encode(video, one_pass=True)  # what training runs
    mixed = torch.cat(list(tiny.encode_chunks([video[:, :, :5], video[:, :, 5:]])), dim=2)
    torch.testing.assert_close(chunked, one_shot, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mixed, one_shot, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="multiple of 4"):
        list(tiny.encode_chunks([video[:, :, :1], video[:, :, 1:4]]))


@torch.no_grad()
def test_cached_per_latent_decoding_equals_one_shot(tiny):
    z = torch.randn(1, 16, 3, 2, 2, generator=torch.Generator().manual_seed(3))
    chunks = list(tiny.decode_iter(z, clamp=False))
    assert [c.shape[2] for c in chunks] == [1, 4, 4]
    one_shot = tiny.decode(z, clamp=False, one_pass=True)  # what training runs
    assert one_shot.shape[2] == 9
    torch.testing.assert_close(torch.cat(chunks, dim=2), one_shot, atol=1e-5, rtol=1e-4)
    assert one_shot.abs().max() > 0  # not a degenerate all-zero output


@torch.no_grad()
def test_encoder_and_decoder_are_causal(tiny):
    video = clip(9)
    changed = video.clone()
    changed[:, :, 8] = -changed[:, :, 8]
    z, z_changed = tiny.encode(video), tiny.encode(changed)
    torch.testing.assert_close(z[:, :, :2], z_changed[:, :, :2], atol=0, rtol=0)
    assert not torch.allclose(z[:, :, 2], z_changed[:, :, 2])
    # Decoding a prefix of the latents gives a prefix of the frames.
    torch.testing.assert_close(tiny.decode(z[:, :, :2]), tiny.decode(z)[:, :, :5], atol=1e-6, rtol=1e-5)


@torch.no_grad()
def test_normalisation_is_applied_on_encode_and_inverted_on_decode(tiny):
    mean, std = tuple(float(c) / 10 for c in range(16)), tuple(1.0 + c / 8 for c in range(16))
    shifted = Vae3d(Vae3dConfig(**{**tiny.cfg.__dict__, "latent_mean": mean, "latent_std": std})).eval()
    shifted.load_state_dict(tiny.state_dict())
    video = clip(1)
    z, z_shifted = tiny.encode(video), shifted.encode(video)
    m, s = torch.tensor(mean).view(1, 16, 1, 1, 1), torch.tensor(std).view(1, 16, 1, 1, 1)
    torch.testing.assert_close(z_shifted, (z - m) / s, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(shifted.decode(z_shifted), tiny.decode(z), atol=1e-5, rtol=1e-4)


def test_chunks_must_continue_the_clip(tiny):
    video = clip(5)
    with pytest.raises(ValueError, match="does not continue a clip"):
        list(tiny.encode_chunks([video[:, :, :1], clip(4, size=16)]))
    with pytest.raises(ValueError, match="no frames to encode"):
        list(tiny.encode_chunks([]))


def test_gradients_flow_through_streamed_encode_and_decode():
    torch.manual_seed(0)
    model = Vae3d(Vae3dConfig(dim=4, z_dim=4, dim_mult=(1, 2), num_res_blocks=1, temporal_downsample=(True,)))
    video = clip(5, size=4)
    loss = model.decode(model.encode(video), clamp=False).square().mean()
    loss.backward()
    assert model.encoder.conv1.weight.grad.abs().sum() > 0
    assert model.decoder.head[2].weight.grad.abs().sum() > 0
