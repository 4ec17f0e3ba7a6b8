"""Helpers shared by the HM-style commands."""

from __future__ import annotations

import sys

import typer

from gvcodec.options.help import render_help
from gvcodec.options.parse import Options, parse_options
from gvcodec.options.table import GOP_TABLE_ROW
from gvcodec.report.console import Console


def parse_or_help(ctx: typer.Context, command: str) -> tuple[Options, Console]:
    """Parse the raw arguments; `--help`/`-h` or no arguments print the option table and exit 0."""
    argv = list(ctx.args)
    if not argv or "--help" in argv or "-h" in argv:
        sys.stdout.write(render_help(command) + "\n")
        raise typer.Exit(0)
    opts = parse_options(argv, command)
    console = Console(opts.verbosity, opts.progress)
    for w in opts.warnings:
        console.warn(w)
    # FrameN rows are HM's GOP table: the classical anchors take their structure and QPs from it
    without_effect = [k for k in opts.ignored if not GOP_TABLE_ROW.match(k)]
    if without_effect and opts.verbosity >= 6:
        console.warn(f"note: {len(without_effect)} HM/VTM keys accepted without effect: {' '.join(without_effect)}")
    return opts, console
