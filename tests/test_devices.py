"""Device placement: every path that runs on an accelerator keeps its tensors on it (issue #18).

Runs on the CPU with `devicecheck.VirtualDevice`: the device ``meta`` stands for a GPU whose
tensors hold real values, and any op that meets one of them together with a plain CPU tensor
(of more than one element) raises `DeviceMix`, as CUDA does. Covered: each training stage's loss
with backward (GNVC-VD 0, I, II; GIViC P), the metric used as a loss (MS-SSIM), the refinement,
the GNVC-VD latent codec's exact prior path (encode and decode, symbols identical to the CPU's),
and both neural engines' encode and decode through the CLI (`--Device=meta`, decoded on the CPU
with matching MD5s: the pretend device computes on the CPU).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gvcodec.testing.devicecheck import DEV, DeviceMix, DevTensor, VirtualDevice


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


def _video(b=1, t=5, h=64, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, t, h, w, generator=g) * 2 - 1


def test_the_pretend_device_catches_what_cuda_refuses():
    with VirtualDevice():
        x = torch.ones(4, 4).to(DEV)
        assert isinstance(x, DevTensor) and x.device == DEV
        assert float((x * torch.tensor(2.0)).sum()) == 32.0  # a CPU scalar mixes, as on CUDA
        with pytest.raises(DeviceMix):
            x + torch.from_numpy(np.ones((4, 4), np.float32))
        with pytest.raises(DeviceMix):
            torch.searchsorted(torch.arange(3.0), x)
        with pytest.raises(DeviceMix):
            torch.randn(3, generator=torch.Generator().manual_seed(0), device=DEV)
        assert x.cpu().numpy().sum() == 16.0


# -- training losses -------------------------------------------------------------------------------


@pytest.mark.parametrize("stage, extra", [
    ("0", ["--MsssimWeight=0.1"]),
    ("I", []),
    ("II", ["--TrainRefineSteps=1", "--MsssimWeight=0.1"]),
])
def test_gnvc_vd_stage_loss_and_backward_stay_on_the_device(stage, extra):
    from gvcodec.models.gnvc_vd.model import GnvcVd
    from gvcodec.train.options import parse_train_args
    from gvcodec.train.stages import DEFAULT_MODULES, StageModel, select_trainable

    opts = parse_train_args(["-c", "cfg/train/gnvc-vd-tiny.yaml", *extra]).resolve(stage)
    model = GnvcVd.from_config("gnvc-vd-tiny", seed=0)
    select_trainable(model, DEFAULT_MODULES[stage])
    video = _video(t=1 if stage == "0" else 5)
    with VirtualDevice():
        stage_model = StageModel(model, stage, opts).to(DEV)
        out = stage_model(video.to(DEV), 3, 1.0, True)
        assert out["loss"].device == DEV
        out["loss"].backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]
        assert grads and all(g.device == DEV for g in grads)
        assert np.isfinite(float(out["loss"])) and (out["psnr"] is None or out["psnr"] > 0)


def test_givic_stage_p_loss_and_backward_stay_on_the_device():
    from gvcodec.train.families import family_of
    from gvcodec.train.options import parse_train_args

    opts = parse_train_args(["-c", "cfg/train/givic-tiny.yaml", "--InnerSteps=1"]).resolve("P")
    family = family_of("givic-tiny")
    model = family.build(opts)
    batch = torch.rand(1, 2, 2, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with VirtualDevice():
        stage = family.stage_model(model, "P", opts, None).to(DEV)
        out = stage(batch.to(DEV), 32, 1000.0, True)
        out["loss"].backward()
        assert out["loss"].device == DEV and np.isfinite(float(out["loss"])) and out["psnr"] > 0
        assert any(p.grad is not None and p.grad.device == DEV for p in model.parameters())


def test_msssim_loss_and_refinement_stay_on_the_device():
    from gvcodec.models.gnvc_vd.flow import refine
    from gvcodec.models.gnvc_vd.model import GnvcVd
    from gvcodec.train.losses import msssim_loss

    a, b = _video(t=2, seed=1), _video(t=2, seed=2)
    model = GnvcVd.from_config("gnvc-vd-tiny", seed=0).eval()
    lat = torch.randn(1, 16, 2, 8, 8)
    cond = torch.randn(1, model.dit.cfg.vace_in_dim, 2, 8, 8)
    want = refine(model.dit, lat, model.context(3), cond, 2, 0.7, 5)
    with VirtualDevice():
        da = a.to(DEV).requires_grad_()
        loss = msssim_loss(da, b.to(DEV))
        loss.backward()
        assert da.grad.device == DEV and 0 <= float(loss) <= 1
        dit = model.dit.to(DEV)
        got = refine(dit, lat.to(DEV), model.context(3), cond.to(DEV), 2, 0.7, 5)
        assert got.device == DEV
        assert torch.equal(got.cpu(), want)


# -- the exact prior path ----------------------------------------------------------------------------


def test_latent_codec_prior_path_runs_on_the_device_with_the_cpu_symbols():
    """Encode (IntConv2d's device path, integer twins, index search) and decode (symbols from the
    coder reaching the device) give the CPU's payload, symbols and latents exactly."""
    from gvcodec.models.gnvc_vd.model import GnvcVd

    model = GnvcVd.from_config("gnvc-vd-tiny", seed=0).eval().requires_grad_(False)
    model.finish_tables()
    lat = torch.randn(1, 16, 2, 16, 16, generator=torch.Generator().manual_seed(4))
    codec = model.codec
    ref = codec.compress(lat, 3)  # integer twins built on the CPU, then moved with the module
    with VirtualDevice():
        codec.to(DEV)
        assert all(b.device == DEV for b in codec.anchor._twins()["h_s"].buffers())
        enc = codec.compress(lat.to(DEV), 3, check_decode=True)
        dec, ctx, symbols = codec.decompress_with_symbols(enc.payload, lat.shape, 3)
        assert dec.device == DEV and ctx.device == DEV
        assert enc.payload == ref.payload
        got = [s.cpu() for latent in symbols for s in latent]
        want = [s.cpu() for latent in ref.symbols for s in latent]
        assert all(torch.equal(a, b) for a, b in zip(got, want)) and len(got) == len(want)
        assert torch.equal(dec.cpu(), ref.latents)
        codec.to("cpu")
    assert all(b.device.type == "cpu" for b in codec.anchor._twins()["h_s"].buffers())


def test_twins_built_on_the_device_match_the_cpu_twins():
    from gvcodec.models.gnvc_vd.model import GnvcVd

    model = GnvcVd.from_config("gnvc-vd-tiny", seed=0).eval().requires_grad_(False)
    model.finish_tables()
    lat = torch.randn(1, 16, 1, 16, 16, generator=torch.Generator().manual_seed(5))
    ref = model.codec.compress(lat, 2)
    fresh = GnvcVd.from_config("gnvc-vd-tiny", seed=0).eval().requires_grad_(False)
    fresh.finish_tables()
    with VirtualDevice():
        fresh.codec.to(DEV)  # no twins yet: they are built from device weights
        assert fresh.codec.compress(lat.to(DEV), 2).payload == ref.payload


# -- engines through the CLI ---------------------------------------------------------------------------


def _cli(*args):
    from gvcodec.cli.app import app

    return app([str(a) for a in args], standalone_mode=False)


@pytest.mark.parametrize("model, extra", [
    ("gnvc-vd-tiny", ["--GOPFrames=5", "--FlowSteps=1", "-c", "cfg/lowdelay.cfg"]),
    ("givic-tiny", ["--OverfitSteps=1", "--GOPFrames=4", "-c", "cfg/randomaccess.cfg"]),
])
def test_engines_encode_and_decode_on_the_device(model, extra, make_yuv, tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    clip, _ = make_yuv(64, 64, 5)
    stream, dec_dev, dec_cpu = tmp_path / "s.gvc", tmp_path / "d1.yuv", tmp_path / "d2.yuv"
    with VirtualDevice():
        _cli("encode", *extra, f"--Model={model}", "-i", clip, "-wdt", 64, "-hgt", 64, "-fr", 25, "-f", 5,
             "-q", 37, "-b", stream, "--Device=meta")
        _cli("decode", "-b", stream, "-o", dec_dev, "--Device=meta")
    _cli("decode", "-b", stream, "-o", dec_cpu, "--Device=cpu")  # MD5s checked against the encoder's
    assert dec_dev.read_bytes() == dec_cpu.read_bytes() and dec_cpu.stat().st_size == 64 * 64 * 3 // 2 * 5


def test_gpu_bench_runs_on_the_device():
    """bench/gnvc_vd_gpu.py's build on the device, anchor codec, DiT steps and VAE (issue #18 (c))."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "gnvc_vd_gpu.py"
    spec = importlib.util.spec_from_file_location("gnvc_vd_gpu_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with VirtualDevice():
        rows = bench.main(["--device", "meta", "--config", "gnvc-vd-tiny", "--sizes", "64x64", "--frames", "5",
                           "--repeat", "1", "--flow-steps", "1", "--max-seconds", "60"])
    assert rows[0]["runs"] == 1 and rows[0]["bytes"] > 0 and "dit step 0" in rows[0]["stages_ms"]


@pytest.mark.parametrize("cfg, extra", [
    ("gnvc-vd-tiny", ["--Frames=5", "--Crop=64", "--AdvWeight=0.1", "--MsssimWeight=0.1"]),
    ("givic-tiny", ["--Frames=4", "--Crop=32", "--InnerSteps=1"]),
])
def test_training_loop_and_conversion_run_on_the_device(cfg, extra, make_yuv, tmp_path):
    """`gvcodec train` (every stage, the loop with EMA, adversarial term, clipping, checkpoints, then the
    conversion) on the pretend device, through `gvcodec.testing.vrun` as bin/gpu-run.sh --dry-run does."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    clip, _ = make_yuv(64, 64, 9, name="clip_64x64.yuv")
    (tmp_path / "MANIFEST.tsv").write_text(f"file\twidth\theight\tframes\tpix_fmt\n{clip.name}\t64\t64\t9\tyuv420p\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gvcodec.testing.vrun", "train", "-c", f"cfg/train/{cfg}.yaml",
         f"--RunDir={tmp_path / 'run'}", f"--Data={tmp_path / 'MANIFEST.tsv'}", "--Images=", "--CacheDir=",
         "--Device=meta", "--Workers=0", "--Progress=0", "--LogEvery=1", "--Steps=1", "--BatchSize=1",
         "--MaxStride=1", "--WarmupSteps=1", "--ConvertClips=1", "--Threads=1", *extra],
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "run" / "final.safetensors").is_file()
