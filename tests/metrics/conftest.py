"""Small random backbones written in the public key layouts the learned metrics read.

They are narrow (few channels) so the tests run fast, but every key, kernel size and stride is
the one of the real files (torchvision AlexNet/VGG16, LPIPS v0.1 heads, DISTS alpha/beta,
OpenAI CLIP ViT, pytorch_i3d), so loading them exercises the same code as the real weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from gvcodec.metrics.backbones import ALEXNET_LAYERS, VGG16_LAYERS

ALEX_WIDTHS = (8, 12, 16, 12, 12)
VGG_WIDTHS = (4, 4, 8, 8, 8, 8, 8, 12, 12, 12, 12, 12, 12)


def trunk_state(layers, widths, seed: int = 0) -> dict:
    """features.N.weight/bias of a torchvision-layout trunk (plus a classifier key, ignored)."""
    gen = torch.Generator().manual_seed(seed)
    state, cin = {}, 3
    for (index, k, *_), cout in zip(layers, widths):
        state[f"features.{index}.weight"] = torch.randn(cout, cin, k, k, generator=gen) * (2.0 / (cin * k * k)) ** 0.5
        state[f"features.{index}.bias"] = torch.randn(cout, generator=gen) * 0.01
        cin = cout
    state["classifier.1.weight"] = torch.randn(10, 4, generator=gen)
    return state


def tap_widths(layers, widths) -> list[int]:
    return [w for (*_, tap), w in zip(layers, widths) if tap]


def heads_state(widths, seed: int = 1) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {f"lin{i}.model.1.weight": torch.rand(1, w, 1, 1, generator=gen) for i, w in enumerate(widths)}


def clip_state(width=64, patch=8, grid=4, layers=2, mlp=128, embed=16, prefix="visual.", seed: int = 2) -> dict:
    """An OpenAI-CLIP-layout ViT image tower plus two text-tower keys (ignored by the loader)."""
    gen = torch.Generator().manual_seed(seed)
    r = lambda *shape, s=0.05: torch.randn(*shape, generator=gen) * s  # noqa: E731
    state = {"conv1.weight": r(width, 3, patch, patch), "class_embedding": r(width),
             "positional_embedding": r(grid * grid + 1, width), "ln_pre.weight": 1 + r(width),
             "ln_pre.bias": r(width), "ln_post.weight": 1 + r(width), "ln_post.bias": r(width),
             "proj": r(width, embed)}
    for i in range(layers):
        b = f"transformer.resblocks.{i}."
        state.update({b + "ln_1.weight": 1 + r(width), b + "ln_1.bias": r(width),
                      b + "attn.in_proj_weight": r(3 * width, width), b + "attn.in_proj_bias": r(3 * width),
                      b + "attn.out_proj.weight": r(width, width), b + "attn.out_proj.bias": r(width),
                      b + "ln_2.weight": 1 + r(width), b + "ln_2.bias": r(width),
                      b + "mlp.c_fc.weight": r(mlp, width), b + "mlp.c_fc.bias": r(mlp),
                      b + "mlp.c_proj.weight": r(width, mlp), b + "mlp.c_proj.bias": r(width)})
    state = {prefix + k: v for k, v in state.items()}
    if prefix:
        state["token_embedding.weight"] = r(10, 8)
        state["transformer.resblocks.0.attn.in_proj_weight"] = r(24, 8)
    return state


I3D_UNITS = {"Conv3d_1a_7x7": (7, 7, 7), "Conv3d_2b_1x1": (1, 1, 1), "Conv3d_2c_3x3": (3, 3, 3)}
MIXED = ("Mixed_3b", "Mixed_3c", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f", "Mixed_5b", "Mixed_5c")


def i3d_state(width: int = 4, classes: int = 10, seed: int = 3) -> dict:
    """A narrow pytorch_i3d-layout I3D: every branch `width` channels, `classes` logits."""
    gen = torch.Generator().manual_seed(seed)
    state = {}

    def unit(name, cin, cout, kernel):
        fan = cin * int(np.prod(kernel))
        state[f"{name}.conv3d.weight"] = torch.randn(cout, cin, *kernel, generator=gen) * (2.0 / fan) ** 0.5
        state[f"{name}.bn.weight"] = 1 + 0.1 * torch.randn(cout, generator=gen)
        state[f"{name}.bn.bias"] = 0.01 * torch.randn(cout, generator=gen)
        state[f"{name}.bn.running_mean"] = 0.01 * torch.randn(cout, generator=gen)
        # small variances keep the signal alive through 11 random units (real I3D stats are learned)
        state[f"{name}.bn.running_var"] = 0.1 * (1 + torch.rand(cout, generator=gen))
        state[f"{name}.bn.num_batches_tracked"] = torch.tensor(0)
        return cout

    cin = 3
    for name, kernel in I3D_UNITS.items():
        cin = unit(name, cin, width, kernel)
    for name in MIXED:
        one, three = (1, 1, 1), (3, 3, 3)
        unit(f"{name}.b0", cin, width, one)
        unit(f"{name}.b1b", unit(f"{name}.b1a", cin, width, one), width, three)
        unit(f"{name}.b2b", unit(f"{name}.b2a", cin, width, one), width, three)
        unit(f"{name}.b3b", cin, width, one)
        cin = 4 * width
    state["logits.conv3d.weight"] = torch.randn(classes, cin, 1, 1, 1, generator=gen) * 0.1
    state["logits.conv3d.bias"] = torch.randn(classes, generator=gen) * 0.1
    return state


@pytest.fixture(name="trunk_state")
def trunk_state_fixture():
    """trunk_state(layers, widths) -> a torchvision-layout state dict of random convs."""
    return trunk_state


@pytest.fixture(name="clip_state")
def clip_state_fixture():
    """clip_state(prefix="visual.", ...) -> an OpenAI-CLIP-layout state dict."""
    return clip_state


@pytest.fixture(name="i3d_state")
def i3d_state_fixture():
    """i3d_state(width, classes) -> a pytorch_i3d-layout state dict."""
    return i3d_state


@dataclass
class TinyWeights:
    alexnet: Path
    vgg16: Path
    heads_dir: Path
    dists: Path
    clip: Path
    i3d: Path


@pytest.fixture
def tiny_weights(tmp_path) -> TinyWeights:
    """Paths of every metric's weight file, small and random, in the expected layouts."""
    heads = tmp_path / "lpips"
    heads.mkdir()
    out = TinyWeights(tmp_path / "alexnet.pth", tmp_path / "vgg16.pth", heads, tmp_path / "dists.pt",
                      tmp_path / "clip.pt", tmp_path / "i3d.pt")
    torch.save(trunk_state(ALEXNET_LAYERS, ALEX_WIDTHS), out.alexnet)
    torch.save(trunk_state(VGG16_LAYERS, VGG_WIDTHS), out.vgg16)
    torch.save(heads_state(tap_widths(ALEXNET_LAYERS, ALEX_WIDTHS)), heads / "alex.pth")
    torch.save(heads_state(tap_widths(VGG16_LAYERS, VGG_WIDTHS)), heads / "vgg.pth")
    n = 3 + sum(tap_widths(VGG16_LAYERS, VGG_WIDTHS))
    gen = torch.Generator().manual_seed(4)
    torch.save({"alpha": torch.rand(1, n, 1, 1, generator=gen), "beta": torch.rand(1, n, 1, 1, generator=gen)},
               out.dists)
    torch.save(clip_state(), out.clip)
    torch.save(i3d_state(), out.i3d)
    return out


@pytest.fixture(scope="module")
def bus_rgb(sequence):
    """Five real frames (bus, CIF) as RGB [3, 144, 176] crops in [0, 1], with their 8-bit luma crops."""
    from gvcodec.io.colour import frame_to_rgb
    from gvcodec.io.source import open_source

    src = open_source(str(sequence("bus_352x288_17f_yuv420p.yuv")), width=352, height=288, count=5)
    frames = list(src.frames())
    rgb = [frame_to_rgb(f)[:, 72:216, 88:264].copy() for f in frames]
    gray = [np.ascontiguousarray(f.planes[0][72:216, 88:264]).astype(np.uint8) for f in frames]
    return rgb, gray
