"""CLIP-F: our ViT image encoder on OpenAI-CLIP-layout weights, and the exact cosine similarity."""

import numpy as np
import pytest
import torch

from gvcodec.metrics.clip import build_clip, consecutive_cosines, load_clip
from gvcodec.metrics.weight_files import WeightsUnavailable


def test_embeddings_have_the_projection_width_and_identical_frames_score_one(tiny_weights, bus_rgb):
    model = build_clip(str(tiny_weights.clip))
    rgb, _ = bus_rgb
    frames = torch.from_numpy(np.stack([rgb[0], rgb[0], rgb[3]]))  # 144x176: resized and centre-cropped
    emb = model(frames)
    assert emb.shape == (3, 16) and model.resolution == 32
    cos = consecutive_cosines(emb)
    assert cos.dtype == torch.float64 and float(cos[0]) == pytest.approx(1.0, abs=1e-12)
    e = emb.double().numpy()
    want = (e[1] @ e[2]) / np.linalg.norm(e[1]) / np.linalg.norm(e[2])
    assert float(cos[1]) == pytest.approx(want, abs=1e-12) and float(cos[1]) < 1.0


def test_attention_follows_the_in_proj_layout_of_torch_multihead_attention(tmp_path, clip_state):
    state = clip_state()
    block = load_clip(state, tmp_path / "x.pt").blocks[1]
    reference = torch.nn.MultiheadAttention(64, 1, batch_first=True)
    p = "visual.transformer.resblocks.1.attn."
    reference.load_state_dict({"in_proj_weight": state[p + "in_proj_weight"], "in_proj_bias": state[p + "in_proj_bias"],
                               "out_proj.weight": state[p + "out_proj.weight"], "out_proj.bias": state[p + "out_proj.bias"]})
    x = torch.randn(2, 17, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(block.attention(x), reference(x, x, x, need_weights=False)[0], atol=1e-5)


def test_prefixless_files_give_the_same_embeddings_and_text_keys_are_ignored(tmp_path, clip_state, bus_rgb):
    torch.save(clip_state(prefix=""), tmp_path / "bare.pt")
    torch.save(clip_state(), tmp_path / "full.pt")
    x = torch.from_numpy(bus_rgb[0][1])[None]
    assert torch.equal(build_clip(str(tmp_path / "bare.pt"))(x), build_clip(str(tmp_path / "full.pt"))(x))
    gelu = build_clip(str(tmp_path / "full.pt"), "gelu")(x)
    assert not torch.equal(gelu, build_clip(str(tmp_path / "full.pt"))(x))


def test_missing_or_foreign_clip_files_are_one_clear_error(tmp_path, clip_state):
    with pytest.raises(WeightsUnavailable, match="CLIP-F needs its weights: give --ClipWeights=FILE"):
        build_clip("")
    with pytest.raises(WeightsUnavailable, match="ClipWeights: no file"):
        build_clip(str(tmp_path / "none.pt"))
    state = clip_state()
    state["visual.attnpool.c_proj.weight"] = torch.zeros(2, 2)  # a ResNet tower's key
    with pytest.raises(WeightsUnavailable, match="tensors a plain ViT CLIP does not .*attnpool"):
        load_clip(state, tmp_path / "x.pt")
    state = clip_state()
    state["visual.positional_embedding"] = torch.zeros(15, 64)
    with pytest.raises(WeightsUnavailable, match="not grid\\^2 \\+ 1"):
        load_clip(state, tmp_path / "x.pt")
