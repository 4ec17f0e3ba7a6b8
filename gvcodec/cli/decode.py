"""`gvcodec decode`: -b IN.gvc [-o OUT] [-d BITDEPTH] -> pipeline.run_decode."""

from __future__ import annotations

import typer

from gvcodec.cli.common import parse_or_help


def command(ctx: typer.Context) -> None:
    """Decode a .gvc bitstream; picture MD5s are checked against the stream."""
    from gvcodec.pipeline.decode import run_decode

    opts, console = parse_or_help(ctx, "decode")
    run_decode(opts, console)
