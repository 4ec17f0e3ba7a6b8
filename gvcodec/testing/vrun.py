"""`python -m gvcodec.testing.vrun ARGS...`: the gvcodec CLI on the pretend accelerator.

Runs `gvcodec ARGS` inside `devicecheck.VirtualDevice`, so `--Device=meta` behaves like a GPU
whose tensors hold real values and any CPU tensor meeting them fails, as on CUDA. bin/gpu-run.sh
--dry-run drives its CUDA entry points through it on machines without a GPU.
"""

from __future__ import annotations

import sys

from gvcodec.testing.devicecheck import VirtualDevice


def main() -> None:
    from gvcodec.cli.app import main as cli_main

    sys.argv = ["gvcodec", *sys.argv[1:]]
    with VirtualDevice():
        cli_main()


if __name__ == "__main__":
    main()
