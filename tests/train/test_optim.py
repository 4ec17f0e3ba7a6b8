"""Learning-rate schedule, EMA and the optimizer's parameter groups."""

import pytest
import torch
from torch import nn

from gvcodec.errors import OptionError
from gvcodec.models.gnvc_vd.codec.layers import QpGain
from gvcodec.train.optim import Ema, learning_rate, make_optimizer, parse_betas


def test_warmup_then_cosine_to_the_floor():
    lr = [learning_rate(s, 1e-3, 100, 10, 0.1) for s in range(100)]
    assert lr[0] == pytest.approx(1e-4) and lr[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lr[9:], lr[10:]))  # non-increasing after warm-up
    assert learning_rate(100, 1e-3, 100, 10, 0.1) == pytest.approx(1e-4)
    assert learning_rate(55, 1e-3, 100, 10, 0.1) == pytest.approx(0.55e-3)  # half way down the cosine


def test_ema_follows_the_weights_and_round_trips():
    model = nn.Linear(3, 2)
    ema = Ema(model, 0.5)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)  # effective decay min(0.5, 2/11)
    d = 2 / 11
    assert torch.allclose(ema.shadow["weight"], model.weight - 1.0 + (1 - d))
    other = Ema(model, 0.5)
    other.load_state_dict(ema.state_dict())
    assert torch.equal(other.shadow["weight"], ema.shadow["weight"]) and other.updates == 1
    assert torch.equal(ema.averaged_state(model)["weight"], ema.shadow["weight"])


def test_gains_and_biases_are_not_decayed():
    model = nn.Sequential(nn.Conv2d(2, 2, 1), QpGain(4, 2))
    opt = make_optimizer(model, 1e-3, 0.1, (0.9, 0.99))
    decayed = [g for g in opt.param_groups if g["weight_decay"] > 0][0]["params"]
    assert len(decayed) == 1 and decayed[0] is model[0].weight
    with pytest.raises(OptionError):
        parse_betas("0.9")
