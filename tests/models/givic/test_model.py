"""GIViC model pieces: parameter counts, 4:2:0 packing, the chunked GLA scan, payload round trip."""

import dataclasses

import numpy as np
import pytest
import torch

from gvcodec.errors import BitstreamError, ModelError
from gvcodec.models.givic.coding import GopParams, decode_gop, encode_gop, make_prior
from gvcodec.models.givic.config import GivicConfig, load_givic_config
from gvcodec.models.givic.hgla import gla_tokens
from gvcodec.models.givic.model import Givic, GopVideo
from gvcodec.models.givic.yuv420 import pack420, pack420_int, unpack420, unpack420_int


@pytest.mark.parametrize("name,millions", [("givic-s", 79), ("givic-m", 135), ("givic-original", 226)])
def test_parameter_counts_match_the_seed_within_one_percent(name, millions):
    with torch.device("meta"):
        model = Givic(load_givic_config(name))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - millions * 1e6) / (millions * 1e6) < 0.01, n


def test_tiny_is_cpu_sized():
    with torch.device("meta"):
        n = sum(p.numel() for p in Givic(load_givic_config("givic-tiny")).parameters())
    assert 1e6 <= n <= 3e6


@pytest.mark.parametrize("bit_depth", [8, 10, 16])
def test_420_packing_is_lossless_on_integer_planes(bit_depth):
    rng = np.random.default_rng(bit_depth)
    top = (1 << bit_depth) - 1
    y = rng.integers(0, top + 1, (6, 10))
    u, v = rng.integers(0, top + 1, (3, 5)), rng.integers(0, top + 1, (3, 5))
    packed = pack420_int(y, u, v)
    assert packed.shape == (2, 6, 10) and packed.min() >= 0 and packed.max() <= top
    y2, u2, v2 = unpack420_int(packed)
    assert np.array_equal(y, y2) and np.array_equal(u, u2) and np.array_equal(v, v2)
    # the float de-multiplexer (what the model's output goes through) is exact on packed planes too
    t = lambda a: torch.from_numpy(a.astype(np.float64))  # noqa: E731
    yf, uf, vf = unpack420(pack420(t(y), t(u), t(v)))
    assert torch.equal(uf, t(u)) and torch.equal(vf, t(v)) and torch.equal(yf, t(y))


def test_chunked_gla_equals_the_plain_recurrence():
    torch.manual_seed(0)
    m, h, n, dk, dv = 3, 2, 13, 4, 5
    q, k = torch.randn(m, h, n, dk, dtype=torch.float64), torch.randn(m, h, n, dk, dtype=torch.float64)
    v = torch.randn(m, h, n, dv, dtype=torch.float64)
    log_a = -torch.rand(m, h, n, dk, dtype=torch.float64) * 2
    s_init = torch.randn(m, h, dk, dv, dtype=torch.float64)
    o0, q_dec, decay, u = gla_tokens(q, k, v, log_a, chunk=4)
    out = o0 + q_dec @ s_init
    end = decay[..., None] * s_init + u
    s = s_init.clone()
    ref = torch.empty(m, h, n, dv, dtype=torch.float64)
    for i in range(n):
        s = torch.exp(log_a[:, :, i])[..., None] * s + k[:, :, i, :, None] * v[:, :, i, None, :]
        ref[:, :, i] = (q[:, :, i, None, :] @ s)[:, :, 0]
    assert torch.allclose(out, ref, atol=1e-10) and torch.allclose(end, s, atol=1e-10)


def _micro(**kw) -> GivicConfig:
    base = dict(gop_frames=2, levels=2, token_size=(2, 8, 8), patch_size=(1, 4, 4), dim=16, num_layers=1,
                num_heads=2, ffn_dim=32, freq_dim=16, grid_channels=1, grid_strides=((1, 4, 4), (2, 8, 8)),
                encoder_dim=4, encoder_stages=3, sample_steps=2)
    base.update(kw)
    return GivicConfig(**base)


@pytest.mark.parametrize("mode,channels", [("420", 2), ("444", 3), ("444_learned", 3)])
def test_chroma_modes_sample_and_measure_in_420(mode, channels):
    torch.manual_seed(0)
    model = Givic(_micro(chroma_mode=mode))
    y, u, v = torch.rand(1, 1, 2, 16, 16) * 2 - 1, torch.rand(1, 1, 2, 8, 8) * 2 - 1, torch.rand(1, 1, 2, 8, 8) * 2 - 1
    video = GopVideo(y, u, v, valid=2)
    grids = [torch.zeros(s) for s in model.grid_shapes(video.size)]
    s0 = torch.zeros(model.denoiser.state_shape())
    out = model.sample(grids, s0, video.size, 2, seed=3)
    assert [tuple(o.shape[1:3]) for o in out] == [(channels, 1), (channels, 2)]
    py, pu, pv = model.planes(out[-1])
    assert py.shape == (1, 1, 2, 16, 16) and pu.shape == pv.shape == (1, 1, 2, 8, 8)
    assert torch.isfinite(model.distortion(out[-1], video))
    assert torch.equal(out[-1], model.sample(grids, s0, video.size, 2, seed=3)[-1])  # seeded: reproducible
    assert (model.chroma_down is not None) == (mode == "444_learned")


def test_bad_configs_fail_with_one_line():
    with pytest.raises(ModelError, match="chroma_mode"):
        _micro(chroma_mode="422")
    with pytest.raises(ModelError, match="multiple of patch_size"):
        _micro(token_size=(2, 6, 8))


def test_payload_round_trip_and_corruption():
    prior = make_prior(load_givic_config("givic-tiny"))
    rng = np.random.default_rng(1)
    t = lambda *s, sc=3: torch.from_numpy(np.round(rng.normal(0, sc, s)).astype(np.float32))  # noqa: E731
    params = GopParams([t(2, 2, 4, 4), torch.zeros(2, 1, 2, 2)], t(2, 2, 3, 3, sc=0.7),
                       {"a.bias": t(5, sc=20), "b.weight": torch.zeros(3, 2)})
    payload, digest = encode_gop(prior, params, valid=2, seed=77)
    zeros = GopParams([torch.zeros(2, 2, 4, 4), torch.zeros(2, 1, 2, 2)], torch.zeros(2, 2, 3, 3),
                      {"a.bias": torch.zeros(5), "b.weight": torch.zeros(3, 2)})
    dec = decode_gop(prior, payload, zeros, "test")
    assert dec.valid == 2 and dec.seed == 77 and dec.symbol_hash == digest
    for (_, a), (_, b) in zip(dec.params.items(), params.items()):
        assert torch.equal(a, b)
    with pytest.raises(BitstreamError):
        decode_gop(prior, payload[:-3], zeros, "test")
    with pytest.raises(BitstreamError):
        decode_gop(prior, payload[:10], zeros, "test")


def test_config_dataclass_round_trip_through_yaml_names():
    cfg = load_givic_config("givic-tiny")
    assert cfg.out_channels == 2 and cfg.alignment == 8
    assert dataclasses.replace(cfg, chroma_mode="444").out_channels == 3


def test_info_table_rows_add_up():
    from gvcodec.models.givic.summary import parameter_table
    from gvcodec.models.summary import format_table

    rows, seed = parameter_table("givic-m")
    total = rows[-1][2]
    assert rows[-1][0] == "total" and total == sum(n for m, part, n in rows[:-1] if not part)
    assert seed == {"total": 135_000_000} and "135.0" in format_table("givic-m", rows, seed)
