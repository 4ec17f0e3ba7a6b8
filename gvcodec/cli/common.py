"""Helpers shared by the HM-style commands."""

from __future__ import annotations

import sys

import typer

from gvcodec.options.help import render_help
from gvcodec.options.parse import Options, parse_options
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
    if opts.ignored and opts.verbosity >= 6:
        console.warn(f"note: {len(opts.ignored)} HM/VTM keys accepted without effect: {' '.join(opts.ignored)}")
    return opts, console
