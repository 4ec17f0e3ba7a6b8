"""Contextual latent codec: paper parameter calibration, exact round trips, portability, errors."""

from __future__ import annotations

import pytest
import torch

from gvcodec.entropy import symbol_hash
from gvcodec.entropy.fixedpoint import QFormat, to_fixed, to_real
from gvcodec.errors import BitstreamError, GvcodecError, MismatchError, ModelError
from gvcodec.models.gnvc_vd.codec.coding import unpack_parts
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig, load_codec_config
from gvcodec.models.gnvc_vd.codec.integer import to_int
from gvcodec.models.gnvc_vd.codec.layers import AttentionBlock, DCBlock, DownBlock, ResidualBottleneckBlock, UpBlock
from gvcodec.models.configs import read_model_section
from gvcodec.models.gnvc_vd.codec.model import LatentCodec
from gvcodec.models.summary import count_parameters

ELIC_16CH = 32_199_013          # CompressAI Elic2022Official layout, 16-ch in/out
ELIC_Z_BOTTLENECK = 11_712      # its EntropyBottleneck(192): 61 parameters per channel
DCVC_RT_P_16CH = 20_544_848     # DCVC-RT DMC on 16-ch latents
CONTEXT_HEAD = 368_800          # 3x3 conv 256 -> 160 (the seed calibration's f_t width)
CALIBRATION = ELIC_16CH + DCVC_RT_P_16CH + CONTEXT_HEAD  # 53,112,661
PAPER_CONTEXT_HEAD = 184_400    # 3x3 conv 256 -> 80: adapter input 16 + 80 = public VACE vace_in_dim 96


@pytest.fixture(scope="module")
def codec() -> LatentCodec:
    torch.manual_seed(0)
    m = LatentCodec(load_codec_config("gnvc-vd-tiny")).eval()
    m.update()
    return m


def latents(t: int, h: int, w: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(1, 16, t, h, w, generator=torch.Generator().manual_seed(seed))


def test_paper_parameter_breakdown_on_meta():
    with torch.device("meta"):
        m = LatentCodec(load_codec_config("gnvc-vd-paper"))
    a = count_parameters(m.anchor)
    elic_layout = sum(a[k] for k in ("g_a", "g_s", "h_a", "h_s", "channel_context", "spatial_context",
                                     "param_aggregation"))
    assert elic_layout == ELIC_16CH - ELIC_Z_BOTTLENECK
    assert a["z_prior"] == 64 * 192 * 11 and a["gain_enc"] + a["gain_dec"] == 2 * 64 * 320
    assert a["total"] == 32_363_429
    assert count_parameters(m.predictive)["total"] == DCVC_RT_P_16CH
    assert count_parameters(m.context_head)["total"] == PAPER_CONTEXT_HEAD
    total = count_parameters(m)["total"]
    assert total == 53_092_677
    assert abs(total - 53.1e6) / 53.1e6 < 0.005 and abs(total - CALIBRATION) / CALIBRATION < 0.005


def test_tiny_and_small_sizes_and_dit_context_width():
    for name, lo, hi in (("gnvc-vd-tiny", 3e5, 2e6), ("gnvc-vd-small", 5e6, 2e7), ("gnvc-vd-paper", 5e7, 6e7)):
        cfg = load_codec_config(name)
        with torch.device("meta"):
            total = count_parameters(LatentCodec(cfg))["total"]
        assert lo < total < hi
        # The DiT adapter reads cat(decoded latent, f_t).
        assert read_model_section(name, "dit")["vace_in_dim"] == cfg.latent_channels + cfg.context_channels


def test_config_validation():
    with pytest.raises(ModelError, match="anchor_groups"):
        LatentCodecConfig(anchor_m=48, anchor_groups=(4, 4))
    with pytest.raises(ModelError, match="unknown codec key"):
        LatentCodecConfig.from_dict({"anchor_width": 3})


@pytest.mark.parametrize("shape", [(3, 8, 8), (2, 6, 10)])
def test_round_trip_is_bit_exact(codec, shape):
    x = latents(*shape)
    enc = codec.compress(x, 5, check_decode=True)
    assert len(enc.payload) > 0 and sum(enc.latent_bytes) < len(enc.payload) <= sum(enc.latent_bytes) + 2
    out, ctx, syms = codec.decompress_with_symbols(enc.payload, x.shape, 5)
    assert out.shape == x.shape and ctx.shape == (1, codec.cfg.context_channels, *shape)
    assert torch.equal(out, enc.latents) and torch.equal(ctx, enc.context)
    for a, b in zip(syms, enc.symbols, strict=True):
        assert symbol_hash(*a) == symbol_hash(*b)


def test_decode_with_one_thread_matches_encode_with_two(codec):
    x = latents(2, 8, 8, seed=3)
    torch.set_num_threads(2)
    enc = codec.compress(x, 2)
    torch.set_num_threads(1)
    out, _, syms = codec.decompress_with_symbols(enc.payload, x.shape, 2)
    assert [symbol_hash(*s) for s in syms] == [symbol_hash(*s) for s in enc.symbols]
    assert torch.equal(out, enc.latents)


def test_qp_changes_the_payload(codec):
    x = latents(2, 8, 8, seed=4)
    low, high = codec.compress(x, 0), codec.compress(x, codec.cfg.qp_levels - 1)
    assert len(low.payload) > 0 and low.payload != high.payload
    # Untrained weights, but the initial gains already make the finest QP cost more.
    assert len(high.payload) > len(low.payload)


def test_corrupted_payloads_are_refused(codec):
    x = latents(2, 8, 8, seed=5)
    p = codec.compress(x, 3).payload
    with pytest.raises(BitstreamError):
        codec.decompress(p[:-1], x.shape, 3)
    with pytest.raises(BitstreamError):
        codec.decompress(p + b"\0", x.shape, 3)
    with pytest.raises(BitstreamError):
        codec.decompress(p, (1, 16, 3, 8, 8), 3)
    # Flip the table-hash prefix (bytes 2..5) of latent 0's z payload: a foreign-table payload.
    parts, _ = unpack_parts(p, 1)
    start = p.index(parts[0])
    bad = bytearray(p)
    bad[start + 3] ^= 0xFF
    with pytest.raises(MismatchError):
        codec.decompress(bytes(bad), x.shape, 3)
    caught = 0
    for pos in range(8, len(p), max(1, len(p) // 25)):
        bad = bytearray(p)
        bad[pos] ^= 0x5A
        try:
            out, _ = codec.decompress(bytes(bad), x.shape, 3)
        except GvcodecError:
            caught += 1
    assert caught > 0


def test_training_pass_gives_rate_and_gradients(codec):
    x = latents(2, 6, 10, seed=6)
    codec.train()
    try:
        out = codec(x, 4, mode="noise")
    finally:
        codec.eval()
    assert out["latents"].shape == x.shape and out["context"].shape[2:] == x.shape[2:]
    bits = sum(out["bits"])
    assert torch.isfinite(bits) and bits > 0
    (bits + out["latents"].pow(2).mean()).backward()
    assert codec.anchor.g_a[0].weight.grad is not None and codec.predictive.enc_in.weight.grad is not None
    codec.zero_grad(set_to_none=True)


@pytest.mark.parametrize("block", [
    lambda: DCBlock(8, 12, shortcut=True), lambda: DownBlock(8, 8), lambda: UpBlock(8, 4),
    lambda: ResidualBottleneckBlock(8), lambda: AttentionBlock(8),
])
def test_integer_twins_follow_the_float_blocks(block):
    torch.manual_seed(7)
    m, q = block().double(), QFormat()
    x = torch.randn(1, 8, 8, 8, dtype=torch.float64)
    ref = m(x)
    got = to_real(to_int(m, q)(to_fixed(x, q.act_frac)), q.act_frac)
    assert (got - ref).abs().max() < 0.05
