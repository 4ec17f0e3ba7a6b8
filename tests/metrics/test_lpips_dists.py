"""LPIPS (alex, vgg) and DISTS: our trunks and heads, loaded from files in the public key layouts."""

import importlib.util
import sys

import pytest
import torch

from gvcodec.metrics.backbones import ALEXNET_LAYERS, load_trunk
from gvcodec.metrics.dists import L2Pool, build_dists, dists_weights_path
from gvcodec.metrics.lpips import build_lpips, load_heads
from gvcodec.metrics.weight_files import WeightsUnavailable, lpips_heads_path


def pictures(bus_rgb):
    rgb, _ = bus_rgb
    a = torch.from_numpy(rgb[0][:, :64, :64])[None]
    b = torch.from_numpy(rgb[2][:, :64, :64])[None]
    return a, b


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_is_zero_for_identical_pictures_symmetric_and_batched(net, tiny_weights, bus_rgb):
    trunk = tiny_weights.alexnet if net == "alex" else tiny_weights.vgg16
    model = build_lpips(net, str(trunk), str(tiny_weights.heads_dir))
    a, b = pictures(bus_rgb)
    assert model(a, a).shape == (1,) and float(model(a, a)) == 0.0
    ab, ba = float(model(a, b)), float(model(b, a))
    assert ab > 0 and ab == pytest.approx(ba, rel=1e-6)
    both = model(torch.cat([a, b]), torch.cat([b, b]))
    assert both.shape == (2,) and float(both[0]) == pytest.approx(ab, rel=1e-5) and float(both[1]) == 0.0


def test_dists_is_zero_for_identical_pictures_and_symmetric(tiny_weights, bus_rgb):
    model = build_dists(str(tiny_weights.vgg16), str(tiny_weights.dists))
    a, b = pictures(bus_rgb)
    assert float(model(a, a)) == pytest.approx(0.0, abs=1e-6)
    ab = float(model(a, b))
    assert 0 < ab < 1 and ab == pytest.approx(float(model(b, a)), rel=1e-6)
    assert model(torch.cat([a, b]), torch.cat([b, a])).shape == (2,)


def test_l2_pooling_keeps_a_constant_picture_and_halves_the_size():
    x = torch.full((1, 2, 8, 10), 0.3)
    out = L2Pool(2)(x)
    assert out.shape == (1, 2, 4, 5)
    assert torch.allclose(out[..., 1:, 1:], torch.full_like(out[..., 1:, 1:], 0.3), atol=1e-6)


def test_missing_trunk_names_the_file_to_provide(tmp_path, monkeypatch, tiny_weights):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(WeightsUnavailable, match=r"alexnet-owt-7be5be79\.pth.*--AlexNetWeights"):
        build_lpips("alex", "", str(tiny_weights.heads_dir))
    with pytest.raises(WeightsUnavailable, match="Vgg16Weights: no file"):
        build_dists(str(tmp_path / "nope.pth"), str(tiny_weights.dists))
    # the file where torchvision would have stored it is found
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    (cache / "alexnet-owt-7be5be79.pth").write_bytes(tiny_weights.alexnet.read_bytes())
    assert build_lpips("alex", "", str(tiny_weights.heads_dir)) is not None


def test_wrong_files_are_one_clear_error(tmp_path, tiny_weights):
    wrong = r"features.0.weight has shape \(4, 3, 3, 3\), expected \*x3x11x11 \(wrong file\?\)"
    with pytest.raises(WeightsUnavailable, match=wrong):
        build_lpips("alex", str(tiny_weights.vgg16), str(tiny_weights.heads_dir))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailable, match="cannot read .*junk.pth"):
        build_lpips("vgg", str(junk), str(tiny_weights.heads_dir))
    with pytest.raises(WeightsUnavailable, match="lin0.model.1.weight has shape"):
        load_heads(tiny_weights.heads_dir / "alex.pth", (4, 4, 8, 12, 12))
    with pytest.raises(WeightsUnavailable, match="no vgg.pth in"):
        lpips_heads_path(str(tmp_path), "vgg")
    torch.save({"alpha": torch.rand(5), "beta": torch.rand(5)}, tmp_path / "short.pt")
    with pytest.raises(WeightsUnavailable, match="alpha/beta hold 5/5 values"):
        build_dists(str(tiny_weights.vgg16), str(tmp_path / "short.pt"))


def test_real_lpips_heads_fit_the_torchvision_alexnet_widths(shared, tmp_path, trunk_state):
    heads = shared / "weights" / "lpips_v0.1"
    if not (heads / "alex.pth").is_file():
        pytest.skip(f"no LPIPS heads in {heads}")
    trunk = load_trunk("alexnet", trunk_state(ALEXNET_LAYERS, (64, 192, 384, 256, 256)), tmp_path / "random")
    assert trunk.tap_widths == (64, 192, 384, 256, 256)
    weights = load_heads(heads / "alex.pth", trunk.tap_widths)
    assert [w.shape[1] for w in weights] == [64, 192, 384, 256, 256] and all((w >= 0).all() for w in weights)
    vgg = load_heads(heads / "vgg.pth", (64, 128, 256, 512, 512))
    assert [w.shape[1] for w in vgg] == [64, 128, 256, 512, 512]


def test_installed_packages_data_files_are_found_without_importing_them():
    if importlib.util.find_spec("lpips") is None:
        pytest.skip("the lpips package is not installed (pip install --no-deps lpips)")
    assert lpips_heads_path("", "alex").name == "alex.pth" and "lpips" not in sys.modules
    if importlib.util.find_spec("DISTS_pytorch") is not None:
        path = dists_weights_path("")
        state = torch.load(path, map_location="cpu", weights_only=True)
        assert state["alpha"].numel() == state["beta"].numel() == 1475 and "DISTS_pytorch" not in sys.modules
