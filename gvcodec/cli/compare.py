"""`gvcodec compare`: side-by-side video and study page; `--serve DIR` records choices; `--tally` counts them.

Not an HM command, so its options are plain Typer options (the geometry options keep HM's
spellings: -wdt -hgt -fr -fs -f, --InputChromaFormat, --InputBitDepth).
"""

from __future__ import annotations

from typing import List, Optional

import typer


def _split(values: Optional[List[str]]) -> list[str]:
    return [v.strip() for spec in values or [] for v in spec.split(",") if v.strip()]


def command(
    reference: str = typer.Option("", "-r", "--reference", help="reference video (yuv, y4m, or anything PyAV opens)"),
    decoded: Optional[List[str]] = typer.Option(None, "-d", "--decoded", help="decoded video (repeat for each codec)"),
    names: Optional[List[str]] = typer.Option(None, "--names", help="codec names of the -d videos in order (repeat or comma-separate; default: stems)"),
    output: str = typer.Option("", "-o", "--output", help="side-by-side video: .mp4 .mkv .mov .webm (default side_by_side.mp4, not with --html)"),
    html: str = typer.Option("", "--html", help="add this clip to the study page in folder DIR (created if absent)"),
    clip: str = typer.Option("", "--clip", help="clip name in the study (default: --sequence, else the reference's stem)"),
    seed: int = typer.Option(1, "--seed", help="study seed: left/right order and trial order"),
    results: str = typer.Option("", "--results", help="results CSV with each codec's bpp and metrics (rows where codec = name)"),
    sequence: str = typer.Option("", "--sequence", help="sequence of the results rows to use"),
    qp: Optional[List[str]] = typer.Option(None, "--qp", help="QP of the results row per -d video (repeat, or one for all)"),
    label: Optional[List[str]] = typer.Option(None, "--label", help="extra caption text per -d video, in order (repeat)"),
    show: str = typer.Option("", "--show", help="metric columns in the captions (default: the usual quality columns present)"),
    crop: str = typer.Option("", "--crop", help="show only this window: WxH+X+Y"),
    columns: int = typer.Option(0, "--columns", help="panels per row (default: all up to 3, else half)"),
    crf: int = typer.Option(14, "--crf", help="quality of the viewing copies (x264 CRF; lower is better)"),
    matrix: str = typer.Option("bt709", "--ColourMatrix", help="Y'CbCr matrix for display: bt709, bt601, bt2020"),
    width: int = typer.Option(0, "-wdt", "--SourceWidth", help="raw YUV width"),
    height: int = typer.Option(0, "-hgt", "--SourceHeight", help="raw YUV height"),
    chroma: int = typer.Option(420, "--InputChromaFormat", help="raw YUV chroma format (400, 420, 422, 444)"),
    bit_depth: int = typer.Option(8, "--InputBitDepth", help="raw YUV bit depth"),
    frame_rate: float = typer.Option(0.0, "-fr", "--FrameRate", help="frame rate (default: the reference's, or 25)"),
    skip: int = typer.Option(0, "-fs", "--FrameSkip", help="frames skipped at the start of every input"),
    frames: int = typer.Option(0, "-f", "--FramesToBeEncoded", help="frames to show (0 = until the shortest input ends)"),
    serve: str = typer.Option("", "--serve", help="serve the study in folder DIR and record choices to DIR/choices.json"),
    host: str = typer.Option("127.0.0.1", "--host", help="address for --serve (0.0.0.0 to let other machines in)"),
    port: int = typer.Option(8000, "--port", help="port for --serve"),
    tally: Optional[List[str]] = typer.Option(None, "--tally", help="choices JSON file(s) to count (server log and downloads)"),
) -> None:
    """Compare decoded videos with their reference, for people's eyes."""
    from gvcodec.errors import OptionError

    modes = [m for m, on in (("-r", reference), ("--serve", serve), ("--tally", tally)) if on]
    if len(modes) != 1:
        raise OptionError("give -r REF -d DEC [-d DEC ...], or --serve DIR, or --tally CHOICES.json"
                          + (f" (not {' and '.join(modes)} together)" if modes else ""))
    if tally:
        from gvcodec.report.study.tally import format_tally, load_choices

        typer.echo(format_tally(*load_choices(tally)), nl=False)
        return
    if serve:
        _serve(serve, host, port)
        return
    _compare(reference, decoded or [], _split(names), output, html, clip, seed, results, sequence, _split(qp),
             list(label or []), _split([show]) if show else None, crop, columns, crf, matrix,
             dict(width=width, height=height, chroma_format=chroma, bit_depth=bit_depth, skip=skip,
                  frame_rate=frame_rate), frames)


def _serve(folder: str, host: str, port: int) -> None:
    from gvcodec.report.study.server import make_server

    server = make_server(folder, host, port)
    h, p = server.server_address[:2]
    typer.echo(f"serving the study in {folder} at http://{h}:{p}/ (choices go to {folder}/choices.json); "
               "Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()


def _compare(reference, decoded, names, output, html, clip, seed, results, sequence, qps, labels, show, crop,
             columns, crf, matrix, geometry, frames) -> None:
    from fractions import Fraction
    from pathlib import Path

    from gvcodec.errors import OptionError
    from gvcodec.io.source import open_source
    from gvcodec.report.results import read_results
    from gvcodec.report import sidebyside as sbs
    from gvcodec.report.video_writer import RgbVideoWriter, browser_suffix

    if not decoded:
        raise OptionError("give at least one decoded video with -d")
    names = names or [Path(d).stem for d in decoded]
    if len(names) != len(decoded):
        raise OptionError(f"{len(names)} names for {len(decoded)} decoded videos")
    if len(set(names)) != len(names):
        raise OptionError("codec names must differ (give --names)")
    for what, values in (("--qp", qps), ("--label", labels)):
        if len(values) > 1 and len(values) != len(decoded):
            raise OptionError(f"{len(values)} {what} values for {len(decoded)} decoded videos")
    if qps and not results:
        raise OptionError("--qp selects results rows: give --results too")
    if html and len(decoded) < 2:
        raise OptionError("a study page needs at least two decoded videos")
    if matrix not in ("bt709", "bt601", "bt2020"):
        raise OptionError(f"unknown colour matrix `{matrix}' (bt709, bt601, bt2020)")
    if not 1 <= crf <= 51:
        raise OptionError(f"--crf {crf} is out of range (1..51)")
    output = output or ("" if html else "side_by_side.mp4")

    fps = geometry.pop("frame_rate")
    rate = Fraction(fps).limit_denominator(1001) if fps else None
    from gvcodec.io.yuv import is_raw_yuv

    def open_one(path):  # the raw-YUV geometry applies to raw files only; the others describe themselves
        return open_source(path, frame_rate=rate, count=frames, skip=skip, **(geometry if is_raw_yuv(path) else {}))

    skip = geometry.pop("skip")
    sources = [open_one(p) for p in [reference, *decoded]]
    panel_names = ["reference", *names]
    w, h = sbs.check_same_size(sources, panel_names)
    window = sbs.Crop.parse(crop) if crop else None
    if window:
        window.check(w, h)
        w, h = window.width, window.height
    rows = read_results(results) if results else []
    texts = [["reference", clip or sequence or Path(reference).stem]]
    for i, name in enumerate(names):
        row = sbs.pick_row(rows, name, sequence, qps[i] if len(qps) > 1 else (qps[0] if qps else "")) if rows else None
        extra = labels[i] if len(labels) > 1 else (labels[0] if labels else "")
        texts.append(sbs.caption_lines(name, row, show or sbs.SHOWN_METRICS, extra))

    writers, sinks = [], []
    try:
        if output:
            grid = sbs.make_grid(w, h, texts, columns)
            writer = RgbVideoWriter(output, *grid.size, sources[0].frame_rate, crf)
            writers.append(writer)
            sinks.append(lambda pics, g=grid, wr=writer: wr.write(g.compose(pics)))
        if html:
            from gvcodec.report.study.page import clip_paths

            clip_name = clip or sequence or Path(reference).stem
            ref_path, dec_paths = clip_paths(html, clip_name, names, browser_suffix())
            clip_writers = [RgbVideoWriter(p, w, h, sources[0].frame_rate, crf) for p in [ref_path, *dec_paths.values()]]
            writers += clip_writers
            sinks.append(lambda pics, ws=clip_writers: [wr.write(p) for wr, p in zip(ws, pics)])
        n = sbs.run(sources, matrix, window, frames, sinks)
        for wr in writers:
            wr.close()
    except BaseException:
        for wr in writers:
            wr.discard()
        raise
    if output:
        typer.echo(f"{output}: {n} frames, {grid.size[0]}x{grid.size[1]}, {writers[0].codec}")
    if html:
        from gvcodec.report.study.page import add_clip

        study = add_clip(html, clip_name, ref_path, dec_paths, seed)
        typer.echo(f"{html}/index.html: clip `{clip_name}' ({n} frames) added; {len(study['trials'])} trials in "
                   f"{len(study['clips'])} clip(s); serve it with `gvcodec compare --serve {html}'")
