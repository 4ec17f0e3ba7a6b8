"""The training loop: bit-for-bit resume, checkpoint contents, the CSV log, refusing to overwrite."""

import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from gvcodec.errors import OptionError
from gvcodec.models.checkpoint import load_state_file
from gvcodec.train.checkpoint import list_checkpoints, read_metadata, sidecar
from gvcodec.train.options import parse_train_args
from gvcodec.train.run import run_train

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(argv):
    return run_train(parse_train_args(argv))


def state_at(run_dir, stage, step):
    path = run_dir / f"stage-{stage}" / f"ckpt-{step:08d}.safetensors"
    return load_state_file(path), torch.load(sidecar(path), weights_only=True)


def test_resume_continues_bit_for_bit(fast_argv, init_weights, tmp_path):
    common = ["--Stage=I", f"--Init={init_weights}", "--Steps=4", "--QuantMode=noise"]
    straight = tmp_path / "straight"
    run(fast_argv(*common, f"--RunDir={straight}"))
    halves = tmp_path / "halves"
    assert run(fast_argv(*common, f"--RunDir={halves}", "--StopAfter=2")) is None
    assert [p.name for p in list_checkpoints(halves / "stage-I")] == ["ckpt-00000002.safetensors"]
    run(fast_argv(*common, f"--RunDir={halves}", "--Resume=1"))
    (a, a_side), (b, b_side) = state_at(straight, "I", 4), state_at(halves, "I", 4)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(a_side["ema"]["shadow"][k], b_side["ema"]["shadow"][k]) for k in a_side["ema"]["shadow"])
    assert not torch.equal(a["codec.anchor.g_a.0.weight"], load_state_file(init_weights)["codec.anchor.g_a.0.weight"])
    out_a, out_b = load_state_file(straight / "stage-I.safetensors"), load_state_file(halves / "stage-I.safetensors")
    assert all(torch.equal(out_a[k], out_b[k]) for k in out_a)
    rows_a = list(csv.DictReader(open(straight / "stage-I" / "log.csv")))
    rows_b = list(csv.DictReader(open(halves / "stage-I" / "log.csv")))
    assert [r["step"] for r in rows_b] == ["1", "2", "3", "4"]
    assert [r["loss"] for r in rows_a] == [r["loss"] for r in rows_b]


def test_checkpoint_holds_config_step_and_state(fast_argv, init_weights, tmp_path):
    run(fast_argv("--Stage=I", f"--Init={init_weights}", "--Steps=2", "--CheckpointEvery=1", "--KeepCheckpoints=1"))
    folder = tmp_path / "run" / "stage-I"
    ckpts = list_checkpoints(folder)
    assert [p.name for p in ckpts] == ["ckpt-00000002.safetensors"]  # older ones pruned
    meta = read_metadata(ckpts[0])
    assert meta["gvcodec.step"] == "2" and meta["gvcodec.stage"] == "I"
    config = yaml.safe_load(meta["gvcodec.config"])
    assert config["Steps"] == 2 and config["Crop"] == "64x64" and "codec:" in meta["gvcodec.model_config"]
    side = torch.load(sidecar(ckpts[0]), weights_only=True)
    assert {"optimizer", "ema", "rng", "step"} <= set(side) and side["step"] == 2
    rows = list(csv.DictReader(open(folder / "log.csv")))
    assert len(rows) == 2 and float(rows[-1]["bpp"]) > 0 and float(rows[-1]["psnr"]) > 0 and rows[-1]["lr"]
    with pytest.raises(OptionError, match="already holds checkpoints"):
        run(fast_argv("--Stage=I", f"--Init={init_weights}", "--Steps=3"))


def test_stage_I_needs_stage_0_or_init(fast_argv):
    with pytest.raises(OptionError, match="train stage 0 first or give --Init"):
        run(fast_argv("--Stage=I", "--Steps=1"))


@pytest.mark.parametrize("workers, to_group", [(0, False), (1, True)], ids=["process", "group-with-worker"])
def test_sigterm_writes_a_checkpoint_and_exits_143(fast_argv, init_weights, tmp_path, workers, to_group):
    # A scheduler (or `kill -- -PGID`) signals the whole process group: the data worker gets the
    # SIGTERM too and must leave the shutdown to the training process.
    argv = fast_argv("--Stage=I", f"--Init={init_weights}", "--Steps=100000", "--Verbosity=1", f"--Workers={workers}")
    env = {**os.environ, "PYTHONPATH": REPO, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gvcodec", "train", "--Threads=1", *argv], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    log = tmp_path / "run" / "stage-I" / "log.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.is_file() and len(log.read_text().splitlines()) >= 2):
        time.sleep(0.2)
    if to_group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "interrupted at step" in err and "--Resume=1" in err and len(err.strip().splitlines()) == 1
    assert list_checkpoints(tmp_path / "run" / "stage-I")
