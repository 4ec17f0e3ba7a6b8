"""`gvcodec metrics -r REF -d DEC`: per-frame and average quality of any decoded video (pipeline.metrics)."""

from __future__ import annotations

import typer

from gvcodec.cli.common import parse_or_help


def command(ctx: typer.Context) -> None:
    """Measure DEC against REF (same size options as encode: -wdt -hgt -fr -fs -f ...)."""
    from gvcodec.pipeline.metrics import run_metrics

    opts, console = parse_or_help(ctx, "metrics")
    run_metrics(opts, console)
