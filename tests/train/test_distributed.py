"""Two gloo processes on CPU (launched with torchrun's environment) end with identical weights."""

import os
import socket
import subprocess
import sys
import textwrap

import torch

from gvcodec.models.checkpoint import load_state_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = textwrap.dedent("""
    import sys, torch
    from gvcodec.train.checkpoint import save_weights
    from gvcodec.train.options import parse_train_args
    from gvcodec.train.run import run_train
    import torch.distributed as dist

    out = sys.argv[1]
    def dump(model):
        save_weights(f"{out}/rank{dist.get_rank()}.safetensors", model.state_dict(), {})
    torch.set_num_threads(1)
    run_train(parse_train_args(sys.argv[2:]), on_done=dump)
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_ranks(tmp_path, argv: list[str]) -> tuple[dict, dict]:
    """Train with two gloo processes (as torchrun would start them); each rank's final weights."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port, procs = free_port(), []
    for rank in range(2):
        env = {**os.environ, "PYTHONPATH": REPO, "OMP_NUM_THREADS": "1", "RANK": str(rank), "LOCAL_RANK": str(rank),
               "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, str(script), str(tmp_path), *argv], cwd=REPO, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=150)
        assert p.returncode == 0, err
    a, b = (load_state_file(tmp_path / f"rank{r}.safetensors") for r in range(2))
    return a, b


def test_two_gloo_processes_hold_identical_weights(fast_argv, init_weights, tmp_path):
    argv = fast_argv("--Stage=I", f"--Init={init_weights}", "--Steps=2", "--Device=cpu", "--ImageFraction=0")
    a, b = run_two_ranks(tmp_path, argv)
    init = load_state_file(init_weights)
    assert all(torch.equal(a[k], b[k]) for k in a)
    changed = [k for k in a if k.startswith(("codec.", "dit.")) and not torch.equal(a[k], init[k])]
    assert changed  # they trained, and in step
    assert all(torch.equal(a[k], init[k]) for k in a if k.startswith("vae."))  # frozen in stage I
    # one checkpoint and one log, written by rank 0
    assert len(list((tmp_path / "run" / "stage-I").glob("ckpt-*.safetensors"))) == 1
