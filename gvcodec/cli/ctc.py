"""`gvcodec ctc`: a CTC sweep (sequences x QPs x codecs) in one process, as bin/ctc.sh does with one
process per encode and decode.

Each point is encoded and decoded in this process (decoded hashes checked, recon = decoder output by
construction), its HM logs written to OUT/logs, its row appended to OUT/results.csv (the decoder's
frames/s filled in), then one BD-rate table per test codec against the anchor. Process start-up and
imports are paid once, so a sweep of small clips is not dominated by them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer

_CLASSICAL = ("x264", "x265", "svtav1")


def _codec_args(word: str) -> list[str]:
    """A codec word NAME[:Key=Value...] -> its options (as bin/ctc.sh)."""
    name, *kv = word.split(":")
    sel = f"--Codec={name}" if name in _CLASSICAL else f"--Model={name}"
    return [sel, *(f"--{o}" for o in kv)]


def run_point(argv_enc: list[str], log_enc: Path, log_dec: Path, stream: str, results: str) -> dict:
    """Encode then decode one point in this process; returns the encoder's results row."""
    from gvcodec.options.parse import parse_options
    from gvcodec.pipeline.decode import run_decode
    from gvcodec.pipeline.encode import run_encode
    from gvcodec.report.console import Console
    from gvcodec.report.results import append_result, fill_result

    opts = parse_options(argv_enc, "encode")
    with open(log_enc, "w") as f, contextlib.redirect_stdout(f):
        row = run_encode(opts, Console(opts.verbosity, "0"))
    append_result(results, row)
    dopts = parse_options(["-b", stream], "decode")
    with open(log_dec, "w") as f, contextlib.redirect_stdout(f):
        dec = run_decode(dopts, Console(dopts.verbosity, "0"))
    fill_result(results, dec["row"], {"dec_fps": dec["frames"] / dec["seconds"]})
    return row


def command(
    ctx: typer.Context,
    sequences: str = typer.Option("", "-s", "--sequences", help="clip file names in $GVCODEC_SHARED/sequences (default: the MANIFEST)"),
    qps: str = typer.Option("22 27 32 37", "-q", "--qps", help="QPs, blank-separated"),
    codecs: str = typer.Option("x264 x265", "-c", "--codecs", help="codec words NAME[:Key=Value...]; the first is the anchor"),
    anchor: str = typer.Option("", "-a", "--anchor", help="anchor codec word (default: the first)"),
    frames: int = typer.Option(33, "-f", "--frames", help="frames per sequence"),
    out: str = typer.Option("out/ctc", "-o", "--out", help="output folder (results.csv, logs/, streams/)"),
    structure: str = typer.Option("", "-C", "--cfg", help="coding-structure cfg (default: cfg/lowdelay.cfg of this checkout)"),
) -> None:
    """Sequences x QPs x codecs in one process; further arguments are HM options for every encode."""
    from gvcodec.errors import InputError
    from gvcodec.metrics.bdrate import bdrate_table, format_bdrate_table
    from gvcodec.report.results import read_results

    here = Path(__file__).resolve().parents[2]
    shared = Path(os.environ.get("GVCODEC_SHARED", here.parent / "shared"))
    seqs = sequences.split()
    if not seqs:
        manifest = shared / "sequences" / "MANIFEST.tsv"
        if not manifest.is_file():
            raise InputError(f"no sequences in {shared / 'sequences'}")
        seqs = [line.split("\t")[0] for line in manifest.read_text().splitlines()[1:]
                if line and ".tar." not in line.split("\t")[0]]
    cfg = structure or str(here / "cfg" / "lowdelay.cfg")
    words = codecs.split()
    anchor = anchor or words[0]
    outdir = Path(out)
    (outdir / "logs").mkdir(parents=True, exist_ok=True)
    (outdir / "streams").mkdir(parents=True, exist_ok=True)
    results = outdir / "results.csv"
    results.unlink(missing_ok=True)
    for seq in seqs:
        path = shared / "sequences" / seq
        if not path.is_file():
            raise InputError(f"missing {path}")
        stem = seq.rsplit(".", 1)[0]
        seqcfg = here / "cfg" / "per-sequence" / f"{stem}.cfg"
        seq_args = ["-c", str(seqcfg)] if seqcfg.is_file() else []
        for word in words:
            for qp in qps.split():
                tag = f"{stem}_{word.replace(':', '_').replace('=', '_')}_q{qp}"
                typer.echo(f"== {tag}", err=True)
                stream = str(outdir / "streams" / f"{tag}.gvc")
                argv = ["-c", cfg, *seq_args, "-i", str(path), "-f", str(frames), "-q", qp, *_codec_args(word),
                        "-b", stream, "--ReconFile=", f"--ResultsFile={results}", f"--SequenceName={stem}", f"--CodecLabel={word}", *ctx.args]
                run_point(argv, outdir / "logs" / f"{tag}.enc.log", outdir / "logs" / f"{tag}.dec.log", stream,
                          str(results))
    rows = read_results(results)
    for word in words:
        if word == anchor:
            continue
        typer.echo(f"\nBD-rate of {word} against {anchor} (PCHIP, rate = bpp):")
        table = bdrate_table([r for r in rows if r["codec"] == anchor], [r for r in rows if r["codec"] == word])
        typer.echo(format_bdrate_table(table))
    typer.echo(f"results: {results}", err=True)
