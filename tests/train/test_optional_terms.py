"""Optional loss terms: the VGG perceptual term (local weights only) and the adversarial term."""

import pytest
import torch

from gvcodec.errors import ModelError, OptionError
from gvcodec.train.checkpoint import list_checkpoints, save_weights, sidecar
from gvcodec.train.options import parse_train_args
from gvcodec.train.perceptual import PerceptualLoss, vgg16_features
from gvcodec.train.run import run_train


def test_perceptual_term_from_a_local_file(tmp_path):
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg16_features().state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # other keys of a torchvision file are ignored
    path = tmp_path / "vgg16.safetensors"
    save_weights(path, state, {})
    loss = PerceptualLoss(str(path))
    a = torch.rand(1, 3, 2, 32, 32) * 2 - 1
    b = (a + 0.2 * torch.randn_like(a)).clamp(-1, 1).requires_grad_(True)
    assert float(loss(a, a)) == 0.0
    d = loss(b, a)
    d.backward()
    assert float(d.detach()) > 0 and b.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss.parameters())
    save_weights(tmp_path / "bad.safetensors", {"x": torch.zeros(1)}, {})
    with pytest.raises(ModelError, match="no `features.N.weight' keys"):
        PerceptualLoss(str(tmp_path / "bad.safetensors"))


def test_perceptual_weight_without_a_file_is_one_line(fast_argv):
    with pytest.raises(OptionError, match="gvcodec never downloads weights"):
        run_train(parse_train_args(fast_argv("--Stage=0", "--Steps=1", "--PerceptualWeight=0.1")))


def test_adversarial_stage0_steps_keep_the_discriminator_in_checkpoints(fast_argv, tmp_path):
    run_train(parse_train_args(fast_argv("--Stage=0", "--Steps=2", "--Frames=1", "--AdvWeight=0.1",
                                         "--AdvChannels=4")))
    ckpt = list_checkpoints(tmp_path / "run" / "stage-0")[-1]
    side = torch.load(sidecar(ckpt), weights_only=True)
    assert "disc" in side and "disc_opt" in side
    rows = (tmp_path / "run" / "stage-0" / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    last = dict(zip(header, rows[-1].split(",")))
    assert last["adv_g"] and last["adv_d"]
