"""VideoDiT: public key layout and counts of the paper size (meta device), RoPE, tiny-model behaviour."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from gvcodec.errors import ModelError
from gvcodec.models.gnvc_vd.dit.model import VideoDiT, build_dit, fixed_context, pad_context
from gvcodec.models.summary import count_parameters
from gvcodec.models.gnvc_vd.dit.config import DitConfig, load_dit_config
from gvcodec.models.gnvc_vd.dit.layers import attention, sinusoidal_embedding
from gvcodec.models.gnvc_vd.dit.rope import apply_rope, rope_angles, rope_split

T2V_TOTAL, VACE_TOTAL = 1_418_996_800, 2_153_972_032


def tiny_cfg(**changes) -> DitConfig:
    base = DitConfig(dim=64, ffn_dim=128, freq_dim=32, num_heads=2, num_layers=4, text_len=3, text_dim=24,
                     vace_layers=(0, 2), vace_in_dim=20)
    return replace(base, **changes)


def tiny_model(cfg: DitConfig, seed: int = 0) -> VideoDiT:
    """A tiny model whose head is not zero, so outputs carry information."""
    torch.manual_seed(seed)
    model = VideoDiT(cfg).eval()
    torch.nn.init.normal_(model.head.head.weight, std=0.1)
    return model


@pytest.fixture(scope="module")
def paper() -> DitConfig:
    return load_dit_config("gnvc-vd-paper")


@pytest.mark.parametrize("tsv, vace", [("wan21_t2v_1.3b_state_dict.tsv", False),
                                       ("wan21_vace_1.3b_state_dict.tsv", True)])
def test_paper_keys_and_shapes_equal_public_lists(paper, tsv, vace, public_keys):
    cfg = paper if vace else paper.without_vace()
    model = build_dit(cfg, device="meta")
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert ours == public_keys(tsv)  # same names, shapes and order; no buffers


def test_paper_parameter_counts(paper):
    assert paper == DitConfig()  # the YAML spells out the defaults: public VACE-1.3B
    full = count_parameters(build_dit(paper, device="meta"))
    assert full == {"patch_embedding": 99_840, "text_embedding": 8_653_824, "time_embedding": 2_755_584,
                    "time_projection": 14_164_992, "blocks": 30 * 46_440_704, "head": 101_440,
                    "vace_blocks": 51_162_368 + 14 * 48_801_536, "vace_patch_embedding": 591_360,
                    "total": VACE_TOTAL}
    assert count_parameters(build_dit(paper.without_vace(), device="meta"))["total"] == T2V_TOTAL
    assert abs(VACE_TOTAL / 2154.5e6 - 1) < 0.005  # the seed's VideoDiT size


def test_strict_load_of_public_names_on_meta(paper, public_keys):
    model = build_dit(paper, device="meta")
    state = {k: torch.empty(shape, device="meta") for k, shape in public_keys("wan21_vace_1.3b_state_dict.tsv")}
    model.load_state_dict(state, strict=True, assign=True)
    state["head.head.weight"] = torch.empty(65, 1536, device="meta")
    with pytest.raises(RuntimeError, match="head.head.weight"):
        model.load_state_dict(state, strict=True, assign=True)


def test_yaml_sizes_load_and_count():
    tiny, small = load_dit_config("gnvc-vd-tiny"), load_dit_config("gnvc-vd-small")
    assert tiny.dim <= 128 and tiny.num_layers <= 4 and tiny.has_vace
    assert count_parameters(build_dit(tiny, device="meta"))["total"] < 2_000_000
    assert count_parameters(build_dit(tiny, device="meta"))["total"] < count_parameters(
        build_dit(small, device="meta"))["total"] < T2V_TOTAL


def test_config_validation():
    with pytest.raises(ModelError, match="heads"):
        tiny_cfg(num_heads=3)
    with pytest.raises(ModelError, match="vace_layers"):
        tiny_cfg(vace_layers=(2, 0))
    with pytest.raises(ModelError, match="unknown dit key"):
        DitConfig.from_dict({"dims": 3})
    assert DitConfig.from_dict({"vace_layers": [0, 4], "patch_size": [1, 2, 2]}).vace_layers == (0, 4)


def test_rope_split_and_angles():
    assert rope_split(128) == (44, 42, 42)
    assert rope_split(32) == (12, 10, 10)
    cos, sin = rope_angles((3, 4, 5), 32)
    assert cos.shape == sin.shape == (60, 16)
    # Token (f, y, x) = (2, 1, 3) is row 2*20 + 1*5 + 3; its first pair rotates by f, h pairs by y, w by x.
    row = 2 * 20 + 1 * 5 + 3
    angles = torch.atan2(sin[row], cos[row])
    assert torch.allclose(angles[[0, 6, 11]], torch.tensor([2.0, 1.0, 3.0]))


def test_rope_matches_complex_rotation_and_is_relative():
    """Adjacent pairs as complex numbers times exp(i angle), and q.k depends only on the offset."""
    torch.manual_seed(0)
    grid, d = (4, 3, 2), 12
    cos, sin = rope_angles(grid, d)
    x = torch.randn(1, 24, 2, d)
    ref = torch.view_as_real(torch.view_as_complex(x.reshape(1, 24, 2, d // 2, 2))
                             * torch.polar(torch.ones_like(cos), torch.atan2(sin, cos))[None, :, None]).flatten(3)
    assert torch.allclose(apply_rope(x, cos, sin), ref, atol=1e-6)
    q, k = torch.randn(d), torch.randn(d)
    rot = lambda v: apply_rope(v.expand(1, 24, 1, d), cos, sin)[0, :, 0]  # noqa: E731
    rq, rk = rot(q), rot(k)
    # tokens 0 -> 6 and 6 -> 12 are both one step in t (6 tokens per frame): same score.
    assert torch.allclose(rq[0] @ rk[6], rq[6] @ rk[12], atol=1e-5)


def test_timestep_embedding_is_cos_first():
    emb = sinusoidal_embedding(torch.tensor([0.0, 1000.0]), 8)
    assert torch.equal(emb[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    assert torch.allclose(emb[1, 0], torch.cos(torch.tensor(1000.0)))


def test_chunked_attention_equals_full():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 37, 2, 8), torch.randn(2, 11, 2, 8), torch.randn(2, 11, 2, 8)
    assert torch.allclose(attention(q, k, v, chunk=5), attention(q, k, v), atol=1e-6)


def test_tiny_forward_shape_and_batch_invariance():
    cfg = tiny_cfg()
    model = tiny_model(cfg)
    torch.manual_seed(1)
    x, cond = torch.randn(2, 16, 3, 4, 6), torch.randn(2, cfg.vace_in_dim, 3, 4, 6)
    ctx = fixed_context(cfg, seed=3)
    t = torch.tensor([300.0, 700.0])
    with torch.no_grad():
        both = model(x, t, ctx, cond)
        first = model(x[:1], t[:1], ctx, cond[:1])
        second = model(x[1:], t[1:], ctx, cond[1:])
    assert both.shape == x.shape and both.dtype == torch.float32
    assert both.abs().mean() > 1e-3
    assert torch.allclose(both[:1], first, atol=1e-5) and torch.allclose(both[1:], second, atol=1e-5)
    with pytest.raises(ModelError, match="patch"):
        model(torch.randn(1, 16, 3, 5, 6), 0.0, ctx)


def test_zero_init_adapter_equals_base_dit_then_conditions():
    cfg = tiny_cfg()
    full = tiny_model(cfg)
    base = VideoDiT(cfg.without_vace()).eval()
    base.load_state_dict({k: v for k, v in full.state_dict().items() if not k.startswith("vace_")}, strict=True)
    torch.manual_seed(2)
    x, cond, ctx = torch.randn(1, 16, 2, 4, 4), torch.randn(1, cfg.vace_in_dim, 2, 4, 4), fixed_context(cfg, 0)
    with torch.no_grad():
        ref = base(x, 500.0, ctx)
        assert torch.equal(full(x, 500.0, ctx, cond), ref)
        for block in full.vace_blocks:  # once the projections are trained the hints matter
            torch.nn.init.normal_(block.after_proj.weight, std=0.1)
        full.vace_blocks[0].before_proj.weight.normal_(std=0.1)
        assert not torch.allclose(full(x, 500.0, ctx, cond), ref, atol=1e-4)
        assert torch.equal(full(x, 500.0, ctx, None), ref)


def test_fixed_context_is_deterministic():
    cfg = tiny_cfg()
    a, b = fixed_context(cfg, 7), fixed_context(cfg, 7)
    assert a.shape == (1, cfg.text_len, cfg.text_dim) and torch.equal(a, b)
    assert not torch.equal(a, fixed_context(cfg, 8))
    padded = pad_context(a[:, :2], cfg.text_len)
    assert padded.shape == a.shape and torch.equal(padded[:, :2], a[:, :2]) and not padded[:, 2:].any()
    with pytest.raises(ModelError, match="text_len"):
        pad_context(a, cfg.text_len - 1)


def test_gradient_checkpointing_gives_same_gradients():
    cfg = tiny_cfg(num_layers=2, vace_layers=(0,))
    model = tiny_model(cfg).train()
    x, ctx = torch.randn(1, 16, 1, 4, 4), fixed_context(cfg, 0)
    model(x, 100.0, ctx).square().mean().backward()
    ref = [p.grad.clone() for p in model.blocks.parameters()]
    model.zero_grad()
    model.gradient_checkpointing = True
    model(x, 100.0, ctx).square().mean().backward()
    assert all(torch.allclose(g, p.grad, atol=1e-6) for g, p in zip(ref, model.blocks.parameters()))
