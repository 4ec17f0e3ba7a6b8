"""Each stage's loss falls on a fixed real batch; the lambda table and module selection."""

import pytest
import torch

from gvcodec.errors import OptionError
from gvcodec.models.gnvc_vd.model import GnvcVd
from gvcodec.train.clips import Window, open_video
from gvcodec.train.manifest import MediaEntry
from gvcodec.train.optim import make_optimizer
from gvcodec.train.options import parse_train_args
from gvcodec.train.stages import DEFAULT_MODULES, StageModel, draw_qp, lambda_table, select_trainable

from .conftest import BUS


@pytest.fixture(scope="module")
def batch(shared):
    path = shared / "sequences" / BUS
    if not path.is_file():
        pytest.skip(f"no {BUS}")
    return open_video(MediaEntry(str(path))).read(Window(2, 5, 1, 120, 100, 64, 64)).unsqueeze(0)


def loss_of(stage_model, video, qp, lam):
    torch.manual_seed(123)  # the same noise and flow times for every evaluation
    with torch.no_grad():
        return float(stage_model(video, qp, lam, False)["loss"])


@pytest.mark.parametrize("stage, extra", [
    ("0", []),
    ("I", []),
    ("II", ["--TrainRefineSteps=2", "--MsssimWeight=0.1"]),
])
def test_a_few_steps_reduce_the_loss_of_a_fixed_batch(batch, stage, extra):
    opts = parse_train_args(["-c", "cfg/train/gnvc-vd-tiny.yaml", *extra]).resolve(stage)
    model = GnvcVd.from_config("gnvc-vd-tiny", seed=0)
    trained = select_trainable(model, DEFAULT_MODULES[stage])
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if n not in trained}
    stage_model = StageModel(model, stage, opts)
    video = batch if stage != "0" else batch[:, :, :1]  # stage 0 on one frame keeps the test fast
    qp, lam = 5, lambda_table(opts.lambda_min, opts.lambda_max, model.codec.cfg.qp_levels)[5]
    optimizer = make_optimizer(model, 1e-3, 0.0, (0.9, 0.99))
    before = loss_of(stage_model, video, qp, lam)
    for _ in range(4):
        torch.manual_seed(123)
        out = stage_model(video, qp, lam, False)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    after = loss_of(stage_model, video, qp, lam)
    assert after < 0.97 * before, (stage, before, after)
    assert set(out["terms"]) >= ({"l1", "mse", "latent_reg"} if stage == "0" else {"bpp", "codec_mse", "refine_mse"})
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)  # others frozen
    assert out["psnr"] is None  # with_psnr=False: no host sync for it
    if stage != "I":
        with torch.no_grad():
            quality = stage_model(video, qp, lam, True)["psnr"]
        assert quality is not None and 0 < quality < 100


def test_lambda_table_is_geometric_from_coarsest():
    lams = lambda_table(0.1, 4.0, 8)
    assert lams[0] == pytest.approx(0.1) and lams[-1] == pytest.approx(4.0)
    ratios = [b / a for a, b in zip(lams, lams[1:])]
    assert all(r == pytest.approx(ratios[0]) for r in ratios) and ratios[0] > 1
    assert lambda_table(0.1, 4.0, 1) == [4.0]


def test_qp_draws_cover_the_range_and_repeat():
    draws = [draw_qp(0, s, 0, 8) for s in range(200)]
    assert set(draws) == set(range(8)) and draws == [draw_qp(0, s, 0, 8) for s in range(200)]
    assert draws != [draw_qp(0, s, 1, 8) for s in range(200)]  # ranks draw differently


def test_module_selection():
    model = GnvcVd.from_config("gnvc-vd-tiny")
    names = select_trainable(model, "vae.decoder,dit.vace_")
    assert names and all(n.startswith(("vae.decoder", "dit.vace_")) for n in names)
    assert not model.codec.anchor.g_a[0].weight.requires_grad
    with pytest.raises(OptionError, match="no parameter name starts with `nothing'"):
        select_trainable(model, "nothing")
