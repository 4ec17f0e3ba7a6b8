"""The `gvcodec` command: subcommands, and the one place where failures become exit codes.

HM options reach the commands as a raw argument list (Typer would lose their order), so
`-c` files and overrides keep HM's strictly left-to-right precedence.
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from gvcodec.errors import GvcodecError

RAW = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="gvcodec: generative neural video codec toolkit, driven like HM/VTM.")


def _register() -> None:
    from gvcodec.cli import bdrate, decode, encode, info, metrics, train
    from gvcodec.cli import compare, ctc, import_cmd, plot

    app.command("encode", context_settings=RAW, help="Encode a video into a .gvc bitstream (HM options).")(encode.command)
    app.command("decode", context_settings=RAW, help="Decode a .gvc bitstream (HM decoder options).")(decode.command)
    app.command("info", help="Show a bitstream's header and units, or a model's parameters.")(info.command)
    app.command("metrics", context_settings=RAW, help="PSNR (HM), RGB PSNR, MS-SSIM, VMAF, E_warp, LPIPS, DISTS, CLIP-F and FVD of DEC against REF.")(metrics.command)
    app.command("ctc", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                help="A CTC sweep (sequences x QPs x codecs) in one process: results CSV and BD-rate tables.")(ctc.command)
    app.command("bdrate", help="BD-rate of test results against anchor results (results CSVs).")(bdrate.command)
    app.command("train", context_settings=RAW, help="Train a GNVC-VD (stages 0, I, II) or GIViC (stage P) model, or convert its weights.")(train.command)
    app.command("plot", help="RD curves per sequence and metric, and a BD-rate table image (PNG).")(plot.command)
    app.command("import", context_settings=RAW, help="Build a GNVC-VD weights file from the public Wan2.1 VAE and DiT checkpoints.")(import_cmd.command)
    app.command("compare", help="Side-by-side video and study page; --serve records choices, --tally counts them.")(compare.command)


_register()


class Terminated(GvcodecError):
    """SIGTERM: unwinds like an error, so temporary outputs are discarded."""

    exit_code = 143


def _on_sigterm(signum, frame) -> None:
    raise Terminated("terminated; no partial output was left at the target paths")


def main() -> None:
    """Entry point: run the app; expected failures print one line on stderr and set the exit code."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        rc = app(standalone_mode=False)
        if rc == 130:  # Typer turns KeyboardInterrupt into a returned 130 when not standalone
            sys.stderr.write("gvcodec: interrupted; no partial output was left at the target paths\n")
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except GvcodecError as exc:
        for line in str(exc).splitlines() or ["error"]:
            sys.stderr.write(f"gvcodec: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("gvcodec: interrupted; no partial output was left at the target paths\n")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback for the user
        if os.environ.get("GVCODEC_DEBUG"):
            raise
        if exc.__class__.__module__.startswith(("click", "typer")):
            sys.stderr.write(f"gvcodec: {exc}\n")
            sys.exit(2)
        sys.stderr.write(f"gvcodec: internal error: {exc.__class__.__name__}: {exc} "
                         "(set GVCODEC_DEBUG=1 for the traceback)\n")
        sys.exit(70)
