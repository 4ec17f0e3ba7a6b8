"""`gvcodec decode`: -b IN.gvc [-o OUT] [-d BITDEPTH] -> pipeline.run_decode."""

from __future__ import annotations

import typer

from gvcodec.cli.common import parse_or_help


def command(ctx: typer.Context) -> None:
    """Decode a .gvc bitstream; picture MD5s are checked against the stream."""
    from gvcodec.pipeline.decode import run_decode

    opts, console = parse_or_help(ctx, "decode")
    result = run_decode(opts, console)
    if opts.results_file:
        from gvcodec.report.results import fill_result

        fill_result(opts.results_file, result["row"], {"dec_fps": result["frames"] / result["seconds"]})
