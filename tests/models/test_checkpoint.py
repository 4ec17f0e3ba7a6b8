"""Weight files: formats, wrappers, and strict loading whose errors name the first bad key."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into, load_state_file
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig
from gvcodec.models.gnvc_vd.vae.model import Vae3d


@pytest.fixture(scope="module")
def model() -> Vae3d:
    """A two-stage VAE with a few thousand parameters: same code and key scheme as the real sizes."""
    torch.manual_seed(0)
    return Vae3d(Vae3dConfig(dim=4, z_dim=4, dim_mult=(1, 2), num_res_blocks=1, temporal_downsample=(True,)))


@pytest.fixture
def state(model) -> dict[str, torch.Tensor]:
    return {k: torch.randn_like(v) for k, v in model.state_dict().items()}


def fresh(model: Vae3d) -> Vae3d:
    return Vae3d(model.cfg)


def test_safetensors_round_trip(tmp_path, model, state):
    path = tmp_path / "vae.safetensors"
    save_file(state, str(path))
    loaded = load_into(fresh(model), load_state_file(path), f"VAE checkpoint {path.name}")
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, state[k]), k


@pytest.mark.parametrize("wrap", [
    lambda s: s,
    lambda s: {"state_dict": s, "epoch": 3},
    lambda s: {"model": s, "optimizer": {"lr": 1e-4}},
    lambda s: {"state_dict": {f"module.{k}": v for k, v in s.items()}},
])
def test_pth_wrappers_are_unwrapped(tmp_path, model, state, wrap):
    path = tmp_path / "vae.pth"
    torch.save(wrap(state), path)
    loaded = load_state_file(path)
    assert list(loaded) == list(state)
    load_into(fresh(model), loaded, "VAE checkpoint vae.pth")


def test_missing_key_is_named(model, state):
    del state["decoder.head.2.bias"]
    with pytest.raises(ModelError, match=r"^VAE x\.pth: missing key `decoder\.head\.2\.bias` \(1 missing;"):
        load_into(fresh(model), state, "VAE x.pth")


def test_first_missing_key_in_model_order_is_named(model, state):
    for k in ("decoder.conv1.weight", "encoder.conv1.bias"):
        del state[k]
    with pytest.raises(ModelError, match="missing key `encoder.conv1.bias` \\(2 missing"):
        load_into(fresh(model), state, "VAE")


def test_unexpected_key_is_named(model, state):
    state["foo.bar"] = torch.zeros(1)
    with pytest.raises(ModelError, match=r"^Wan2\.1 VAE checkpoint x\.pth: unexpected key `foo\.bar`"):
        load_into(fresh(model), state, "Wan2.1 VAE checkpoint x.pth")


def test_wrong_shape_is_named_with_both_shapes(model, state):
    state["decoder.head.2.weight"] = torch.zeros(3, 5, 3, 3, 3)
    with pytest.raises(ModelError, match=r"shape of `decoder\.head\.2\.weight` is \[3, 5, 3, 3, 3\], "
                                         r"model expects \[3, 4, 3, 3, 3\]"):
        load_into(fresh(model), state, "VAE")


def test_failed_load_leaves_no_partial_weights(model, state):
    target = fresh(model)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    state["extra"] = torch.zeros(1)
    with pytest.raises(ModelError):
        load_into(target, state, "VAE")
    assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())


@pytest.mark.parametrize("name, content, message", [
    ("notes.pth", b"this is not a pickle", "is not a readable checkpoint"),
    ("notes.safetensors", b"\x00\x01garbage", "is not a readable checkpoint"),
    ("weights.onnx", b"", "unknown format"),
])
def test_non_checkpoint_files_raise_model_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        load_state_file(path)


def test_pickle_without_tensors_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "config.pth"
    torch.save({"lr": 1e-4, "steps": [1, 2]}, path)
    with pytest.raises(ModelError, match="not a checkpoint: no mapping of parameter names to tensors"):
        load_state_file(path)


def test_missing_file_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_state_file(tmp_path / "absent.safetensors")
