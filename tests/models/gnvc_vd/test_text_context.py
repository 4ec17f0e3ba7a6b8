"""A stored DiT cross-attention context (`dit.text_context`, written by `gvcodec import --TextContext`)."""

import pytest
import torch
from safetensors.torch import save_file

from gvcodec.errors import ModelError
from gvcodec.models.gnvc_vd.dit.model import fixed_context
from gvcodec.models.gnvc_vd.model import GnvcVd


@pytest.fixture(scope="module")
def model():
    return GnvcVd.from_config("gnvc-vd-tiny", seed=0)


def test_without_a_stored_context_the_seeded_one_is_used(model):
    assert model.text_context is None and "dit.text_context" not in model.state_dict()
    assert torch.equal(model.context(3), fixed_context(model.dit.cfg, 3))


def test_stored_context_round_trips_changes_the_digest_and_reaches_training(model, tmp_path):
    from gvcodec.train.checkpoint import load_training_weights

    model.finish_tables()
    before = model.weights_digest()
    ctx = torch.randn(2, model.dit.cfg.text_dim)
    model.set_text_context(ctx)
    try:
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        assert torch.equal(state["dit.text_context"], ctx) and model.weights_digest() != before
        save_file(state, str(tmp_path / "w.safetensors"))
    finally:
        model.set_text_context(None)
    assert model.weights_digest() == before  # dropping it restores the model
    loaded = GnvcVd.from_config("gnvc-vd-tiny", seed=1).load_weights(tmp_path / "w.safetensors")
    used = loaded.context(seed=99)  # the seed no longer matters
    assert used.shape == (1, 4, 32) and torch.equal(used[0, :2], ctx) and not used[0, 2:].any()
    fresh = GnvcVd.from_config("gnvc-vd-tiny", seed=1)
    load_training_weights(fresh, state, "weights")  # training starts from an imported file too
    assert torch.equal(fresh.context(0), used)


def test_bad_contexts_are_refused(model, tmp_path):
    for bad in (torch.zeros(5, 32), torch.zeros(2, 31), torch.zeros(2, 32, dtype=torch.int32)):
        with pytest.raises(ModelError):
            model.set_text_context(bad)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["dit.text_context"] = torch.zeros(9, 32)
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ModelError, match=r"bad.safetensors: text context of shape \[9, 32\]"):
        GnvcVd.from_config("gnvc-vd-tiny").load_weights(tmp_path / "bad.safetensors")
