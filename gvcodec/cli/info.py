"""`gvcodec info FILE`: a bitstream's header and per-unit table."""

from __future__ import annotations

from typing import Optional

import typer


def describe_stream(path: str) -> str:
    """Header fields, then one row per unit (index, type, byte offset, bytes, POC range, slice types)."""
    from gvcodec.bitstream.reader import StreamReader

    reader = StreamReader(path)
    h = reader.header
    lines = [f"bitstream        : {path} ({reader.size} bytes)"]
    fields = [
        ("engine", h.engine), ("model", h.model or "-"),
        ("picture size", f"{h.width}x{h.height} (coded {h.coded_width}x{h.coded_height}, "
                         f"{'replicate' if h.pad_mode else 'zero'} padding)"),
        ("chroma format", h.chroma_format),
        ("bit depth", f"input {h.input_bit_depth}, internal {h.internal_bit_depth}, output {h.output_bit_depth}"),
        ("frame rate", f"{h.frame_rate_num}/{h.frame_rate_den} ({float(h.frame_rate):.3f} fps)"),
        ("frames announced", h.frame_count),
        ("colour", f"{h.colour_matrix}, {'full' if h.full_range else 'limited'} range"),
        ("QP", h.qp), ("intra period", h.intra_period), ("GOP frames", h.gop_frames),
        ("picture hash", {0: "none", 1: "MD5", 2: "CRC", 3: "checksum"}[h.picture_hash]),
        ("config hash", h.config_hash.hex()), ("weights sha256", h.weights_sha256.hex()),
        ("engine params", h.engine_params),
    ]
    lines += [f"{k:<17}: {v}" for k, v in fields]
    lines += ["", f"{'unit':>6} {'type':<9} {'offset':>10} {'bytes':>9} {'POC':>11} {'slices':<8} {'symbol hash'}"]
    total = 0
    frames = 0
    for u in reader.units():
        pocs = f"{u.poc_first}-{u.poc_first + len(u.pictures) - 1}" if len(u.pictures) > 1 else str(u.poc_first)
        slices = "".join(p.slice_type for p in u.pictures)
        slices = slices if len(slices) <= 8 else slices[:7] + "+"
        lines.append(f"{u.index:>6} {'PICTURES':<9} {u.offset:>10} {u.size:>9} {pocs:>11} {slices:<8} "
                     f"{u.symbol_hash.hex() if u.symbol_hash else '-'}")
        total += u.size
        frames += len(u.pictures)
    if h.frame_count and frames != h.frame_count:
        from gvcodec.errors import BitstreamError

        raise BitstreamError(f"bitstream `{path}': the sequence header announces {h.frame_count} frames, "
                             f"the stream holds {frames}")
    lines.append(f"{frames} pictures in {reader.index - 2} units, {total} bytes of picture units; "
                 "END_OF_STREAM verified")
    return "\n".join(lines)


def describe_complexity(model: str, sizes: str, frames: int, measure: bool, device: str) -> str:
    """Parameter table, then the complexity table (kMACs/pixel; with `measure` memory and ms/frame)."""
    from gvcodec.metrics.video import check_device
    from gvcodec.models.complexity import family_for, format_complexity, model_complexity, parse_sizes
    from gvcodec.models.summary import format_table

    family = family_for(model)
    parsed = parse_sizes(sizes)
    if measure:
        check_device(device)
    parts = [format_table(model, *family.parameters(model))] if family.parameters else []
    results = [model_complexity(model, w, h, frames, measure, device) for w, h in parsed]
    parts.append(format_complexity(model, results))
    if measure:
        parts.append(f"measured on {device} with seeded random weights")
    return "\n\n".join(parts)


def command(
    file: Optional[str] = typer.Argument(None, help="a .gvc bitstream"),
    model: str = typer.Option("", "--model", help="a registered model: print its per-module parameter table"),
    complexity: str = typer.Option("", "--complexity",
                                   help="WxH[,WxH...]: encoder/decoder kMACs per pixel at each size"),
    measure: bool = typer.Option(False, "--measure", help="with --complexity: also peak memory and ms/frame"),
    frames: int = typer.Option(25, "--frames", help="with --complexity: clip length in frames"),
    device: str = typer.Option("cpu", "--Device", help="with --measure: torch device (cpu, cuda, cuda:N)"),
) -> None:
    """Show a bitstream's header and unit table, or (with --model) a model's parameter counts."""
    from gvcodec.errors import OptionError

    if model:
        from gvcodec.models.configs import resolve_model_cfg
        from gvcodec.models.families import family_of
        from gvcodec.models.summary import format_table

        resolve_model_cfg(model)  # a clear error for unknown names
        if complexity:
            typer.echo(describe_complexity(model, complexity, frames, measure, device))
            return
        typer.echo(format_table(model, *family_of(model).part("parameters")(model)))
        return
    if complexity or measure:
        raise OptionError("--complexity and --measure need --model NAME")
    if not file:
        raise OptionError("give a bitstream file or --model NAME")
    typer.echo(describe_stream(file))
