"""`gvcodec encode`: HM-style options -> pipeline.run_encode -> results files."""

from __future__ import annotations

import typer

from gvcodec.cli.common import parse_or_help


def command(ctx: typer.Context) -> None:
    """Encode a video into a .gvc bitstream. Options as HM: -c FILE, -i, -b, -o, -q, --Key=value."""
    opts, console = parse_or_help(ctx, "encode")  # --help before any heavy import
    from gvcodec.pipeline.encode import run_encode

    result = run_encode(opts, console)
    if opts.results_file:
        from gvcodec.report.results import append_result

        append_result(opts.results_file, result)
    if opts.summary_out_filename:
        with open(opts.summary_out_filename, "a", encoding="utf-8") as f:
            f.write("%f\t %f\t %f\t %f\t %f\n" % (result["kbps"], result["psnr_y"], result["psnr_u"] or 0.0,
                                                  result["psnr_v"] or 0.0, result["psnr_yuv"]))
