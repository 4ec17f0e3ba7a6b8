"""Start-up cost of the command line: `gvcodec encode --help`, the time to the first frame of an x265
encode, a 9-frame QCIF encode, and a small CTC sweep by bin/ctc.sh (a process per encode and decode)
against `gvcodec ctc` (one process). Medians of 5 (the sweeps: of 3). Rewrites the section between
`<!-- bench:startup:start -->` and `<!-- bench:startup:end -->` in docs/results.md.

    python bench/startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gvcodec.report.results_md import update_section  # noqa: E402

SHARED = ROOT.parent / "shared"
CLIP = SHARED / "sequences" / "container_ship_176x144_1700f.264"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GVCODEC_SHARED": str(SHARED)}
GV = [sys.executable, "-m", "gvcodec"]


def timed(cmd: list[str], cwd: str, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def first_frame(cwd: str, n: int) -> float:
    """Seconds from the process start to the first frame handed to x265 (GVCODEC_T0 marks the start)."""
    times = []
    probe = ("import os, sys, time; t0 = time.perf_counter(); "
             "import gvcodec.engines.classical.engine as e; orig = e.ClassicalEncoder.push\n"
             "def push(self, frame, _o=orig):\n"
             "    if not hasattr(e, 'T1'): e.T1 = time.perf_counter(); sys.stderr.write(f'FIRST {e.T1 - t0}\\n')\n"
             "    return _o(self, frame)\n"
             "e.ClassicalEncoder.push = push\n"
             "sys.argv = ['gvcodec'] + sys.argv[1:]\n"
             "from gvcodec.cli.app import main; main()")
    for _ in range(n):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", probe, "encode", "-i", str(CLIP), "-f", "1", "--Codec=x265",
                               "--Threads=1", "-b", "a.gvc"], cwd=cwd, env=ENV, check=True, capture_output=True,
                              text=True)
        inside = float(next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("FIRST")))
        times.append(inside)
        del t
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        help_s = timed([*GV, "encode", "--help"], tmp, 5)
        first = first_frame(tmp, 5)
        qcif9 = timed([*GV, "encode", "-i", str(CLIP), "-f", "9", "--Codec=x265", "--Threads=1", "-b", "a.gvc"],
                      tmp, 5)
        sweep = ["-s", CLIP.name, "-q", "27 32 37 42", "-c", "x264 x265", "-f", "3"]
        env_sh = {**ENV, "CTC_EXTRA": "--Threads=1", "PATH": f"{tmp}/bin:{os.environ['PATH']}"}
        os.makedirs(f"{tmp}/bin")
        with open(f"{tmp}/bin/gvcodec", "w") as f:  # bin/ctc.sh calls `gvcodec`: this checkout's
            f.write(f"#!/bin/sh\nexec {sys.executable} -m gvcodec \"$@\"\n")
        os.chmod(f"{tmp}/bin/gvcodec", 0o755)
        sh_times, ctc_times = [], []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(["bash", str(ROOT / "bin" / "ctc.sh"), *sweep, "-o", f"{tmp}/sh"], cwd=tmp, env=env_sh,
                           check=True, capture_output=True)
            sh_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([*GV, "ctc", *sweep, "-o", f"{tmp}/one", "--Threads=1"], cwd=tmp, env=ENV, check=True,
                           capture_output=True)
            ctc_times.append(time.perf_counter() - t)
    sh, one = statistics.median(sh_times), statistics.median(ctc_times)
    body = "\n".join([
        "Wall seconds on this machine (2 shared CPU cores), medians of 5 (sweeps: of 3). No torch, numpy-heavy "
        "or model import happens before it is needed: `--help` imports the option table and Typer only; a "
        "classical encode imports PyAV and numpy, torch only when MS-SSIM or an RGB metric is measured "
        "(`--stats`, `--ResultsFile`, `PrintMSSSIM`).", "",
        "| what | seconds | before |", "| --- | ---: | ---: |",
        f"| `gvcodec encode --help` | {help_s:.2f} | 1.6 |",
        f"| process start to the first frame handed to x265 (QCIF) | {first:.2f} | ~1.6 (1.7 less 0.12 coding) |",
        f"| 9-frame QCIF x265 encode, whole process | {qcif9:.2f} | 1.7 |",
        f"| CTC sweep, 1 QCIF clip x 4 QPs x 2 codecs x 3 frames: bin/ctc.sh (16 processes) | {sh:.2f} | |",
        f"| the same sweep with `gvcodec ctc` (one process) | {one:.2f} | |",
    ])
    print(body)
    update_section(ROOT / "docs" / "results.md", "startup", "Start-up (bench/startup.py)", body)


if __name__ == "__main__":
    main()
