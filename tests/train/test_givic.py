"""GIViC pretraining (stage P): native 4:2:0 samples, the RD loss falls on a fixed real batch, bit-for-bit
resume, and weights written by `gvcodec train` code and decode a real clip in the engine."""

import csv
import json
import re

import numpy as np
import pytest
import torch

from gvcodec.errors import OptionError
from gvcodec.models.checkpoint import load_state_file
from gvcodec.models.givic.yuv420 import unpack420
from gvcodec.train.checkpoint import read_metadata, sidecar
from gvcodec.train.clips import Window, open_video
from gvcodec.train.families import GivicFamily, family_of
from gvcodec.train.givic import GivicStageModel
from gvcodec.train.manifest import MediaEntry
from gvcodec.train.optim import make_optimizer
from gvcodec.train.options import parse_train_args
from gvcodec.train.run import run_train

from .conftest import BUS

W, H = 352, 288
MD5_OK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]")


@pytest.fixture
def givic_argv(tmp_path, sequence):
    """givic_argv(*extra) -> argv of a tiny givic-tiny run on the bus clip (32x32, 4 frames, batch 1)."""
    bus = sequence(BUS)

    def make(*extra: str) -> list[str]:
        return ["-c", "cfg/train/givic-tiny.yaml", f"--RunDir={tmp_path / 'run'}", f"--Data={bus}", "--Frames=4",
                "--Crop=32", "--BatchSize=1", "--Workers=0", "--LogEvery=1", "--CheckpointEvery=100", "--Progress=0",
                "--Verbosity=0", "--WarmupSteps=0", "--EmaDecay=0.9", "--ConvertClips=1", "--CacheDir=", *extra]

    return make


def _raw_planes(path, t, x, y, size):
    fb = W * H * 3 // 2
    f = np.fromfile(path, np.uint8)[t * fb:(t + 1) * fb]
    luma = f[:W * H].reshape(H, W)[y:y + size, x:x + size]
    u = f[W * H:W * H + fb // 6].reshape(H // 2, W // 2)[y // 2:(y + size) // 2, x // 2:(x + size) // 2]
    v = f[W * H + fb // 6:].reshape(H // 2, W // 2)[y // 2:(y + size) // 2, x // 2:(x + size) // 2]
    return [torch.from_numpy(p.astype(np.float32)) / 255 * 2 - 1 for p in (luma, u, v)]


def test_native_420_samples_are_the_lossless_pack_of_the_code_values(sequence):
    path = sequence(BUS)
    video = open_video(MediaEntry(str(path)))
    for flip in (False, True):
        clip = video.read(Window(3, 2, 2, 120, 100, 32, 32), yuv420=True, flip=flip)
        assert clip.shape == (2, 2, 32, 32)
        y, u, v = unpack420(clip.permute(1, 0, 2, 3))
        for i, t in enumerate((3, 5)):
            want = _raw_planes(path, t, 120, 100, 32)
            if flip:
                want = [p.flip(-1) for p in want]
            assert all(torch.equal(a, b) for a, b in zip((y[i], u[i], v[i]), want))


@pytest.mark.parametrize("objective, inner", [("denoise", 0), ("sample", 1)])
def test_a_few_steps_reduce_the_loss_of_a_fixed_batch(sequence, objective, inner):
    opts = parse_train_args(["-c", "cfg/train/givic-tiny.yaml", f"--Objective={objective}",
                             f"--InnerSteps={inner}"]).resolve("P")
    frames = 4 if objective == "denoise" else 2
    batch = open_video(MediaEntry(str(sequence(BUS)))).read(Window(2, frames, 1, 120, 100, 32, 32),
                                                            yuv420=True).unsqueeze(0)
    family = family_of("givic-tiny")
    model = family.build(opts)
    stage = family.stage_model(model, "P", opts, None)
    assert isinstance(stage, GivicStageModel) and family.default_modules("P", model) == "denoiser,encoder,state_init"
    lam = 1000.0

    def loss_now():
        torch.manual_seed(123)  # the same noise and diffusion times for every evaluation
        return float(stage(batch, 32, lam, False)["loss"].detach())

    optimizer = make_optimizer(model, 2e-3, 0.0, (0.9, 0.99))
    before = loss_now()
    for _ in range(4):
        torch.manual_seed(123)
        out = stage(batch, 32, lam, True)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    after = loss_now()
    assert after < 0.9 * before, (objective, before, after)
    assert set(out["terms"]) == {"bpp", "mse", "coarse_mse"} and 0 < out["psnr"] < 100
    assert any(h.weight.abs().sum() > 0 for h in model.encoder.heads)  # the grid encoder learns (zero-init heads)


def test_resume_continues_bit_for_bit(givic_argv, tmp_path):
    common = ["--Stage=P", "--Steps=4", "--InnerSteps=1"]
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    run_train(parse_train_args(givic_argv(*common, f"--RunDir={straight}")))
    assert run_train(parse_train_args(givic_argv(*common, f"--RunDir={halves}", "--StopAfter=2"))) is None
    run_train(parse_train_args(givic_argv(*common, f"--RunDir={halves}", "--Resume=1")))
    ckpt_a, ckpt_b = (d / "stage-P" / "ckpt-00000004.safetensors" for d in (straight, halves))
    a, b = load_state_file(ckpt_a), load_state_file(ckpt_b)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    side_a, side_b = (torch.load(sidecar(p), weights_only=True) for p in (ckpt_a, ckpt_b))
    assert all(torch.equal(side_a["ema"]["shadow"][k], side_b["ema"]["shadow"][k]) for k in side_a["ema"]["shadow"])
    rows_a, rows_b = (list(csv.DictReader(open(d / "stage-P" / "log.csv"))) for d in (straight, halves))
    assert [r["step"] for r in rows_b] == ["1", "2", "3", "4"]
    assert [(r["qp"], r["loss"], r["psnr"]) for r in rows_a] == [(r["qp"], r["loss"], r["psnr"]) for r in rows_b]
    assert all(22 <= int(r["qp"]) <= 42 and float(r["bpp"]) > 0 and r["coarse_mse"] for r in rows_a)
    meta = read_metadata(ckpt_a)
    assert meta["gvcodec.stage"] == "P" and meta["gvcodec_model"] == "givic-tiny" and meta["gop_frames"] == "4"


def test_stages_follow_the_model_family(givic_argv, fast_argv):
    with pytest.raises(OptionError, match="Stage 0 does not train givic-tiny"):
        run_train(parse_train_args(givic_argv("--Stage=0")))
    with pytest.raises(OptionError, match="Stage P does not train gnvc-vd-tiny"):
        run_train(parse_train_args(fast_argv("--Stage=P")))
    with pytest.raises(OptionError, match="Crop 36x36 must be a multiple of 16"):
        run_train(parse_train_args(givic_argv("--Stage=P", "--Crop=36")))
    assert isinstance(family_of("givic-s"), GivicFamily) and family_of("gnvc-vd-tiny").stages == ("0", "I", "II")


def test_trained_weights_code_a_real_clip_in_the_engine(givic_argv, sequence, run_cli, tmp_path):
    from gvcodec.models.givic.config import load_givic_config
    from gvcodec.models.givic.loading import load_model

    final = run_train(parse_train_args(givic_argv("--Steps=2", "--Fp16=1")))  # Stage=all: P, then conversion
    assert final == tmp_path / "run" / "final.safetensors"
    meta = read_metadata(final)
    report = json.loads(meta["gvcodec.conversion"])
    assert meta["gvcodec.stage"] == "final" and report["clips"] == 1 and report["psnr_no_overfit"] > 0
    assert final.stat().st_size < 0.6 * (tmp_path / "run" / "stage-P.safetensors").stat().st_size  # float16
    crop = tmp_path / "crop.yuv"
    with open(crop, "wb") as f:
        for t in range(3):
            for p in _raw_planes(sequence(BUS), t, 144, 112, 32):
                f.write(((p + 1) / 2 * 255).round().numpy().astype(np.uint8).tobytes())
    weights = f"--ModelWeights={final}"
    enc = run_cli("encode", "-i", crop, "-wdt", 32, "-hgt", 32, "--Model=givic-tiny",
                  "--OverfitSteps=1", weights, "-b", "s.gvc", "-o", "rec.yuv", check_rc=0)
    assert "POC" in enc.stdout
    info = run_cli("info", "s.gvc", check_rc=0).stdout
    model, digest, _ = load_model("givic-tiny", load_givic_config("givic-tiny"), str(final), 4)
    assert "'init': 'checkpoint'" in info and digest.hex() in info
    assert re.search(r"GOP frames\s*:?\s*4\b", info)  # no GOPFrames given: the weights' own GOP length
    assert all(p.dtype == torch.float32 for p in model.parameters())
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", weights, check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 3
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    bad = run_cli("decode", "-b", "s.gvc", "-o", "d.yuv", check_rc=1)  # without the weights: one line
    assert "weights sha256" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_two_gloo_processes_train_givic_in_step(givic_argv, tmp_path):
    from .test_distributed import run_two_ranks

    argv = givic_argv("--Stage=P", "--Steps=2", "--InnerSteps=1", "--Device=cpu")
    a, b = run_two_ranks(tmp_path, argv)
    seeded = GivicFamily().build(parse_train_args(argv).resolve("P")).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], seeded[k]) for k in a)  # they trained, and in step
