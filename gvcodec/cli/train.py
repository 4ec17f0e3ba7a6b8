"""`gvcodec train`: train GNVC-VD stage by stage or pretrain GIViC, or convert trained weights (see gvcodec/train)."""

from __future__ import annotations

import sys

import typer


def command(ctx: typer.Context) -> None:
    """Parse HM-style arguments (left to right, -c YAML/cfg files at their position) and train."""
    from gvcodec.train.options import parse_train_args, render_train_help

    argv = list(ctx.args)
    if not argv or "--help" in argv or "-h" in argv:
        sys.stdout.write(render_train_help() + "\n")
        raise typer.Exit(0)
    from gvcodec.train.run import run_train

    run_train(parse_train_args(argv))
