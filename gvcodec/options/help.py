"""--help text and docs/options.md, rendered from the option table."""

from __future__ import annotations

from fractions import Fraction

from gvcodec.options.table import HM_ACCEPTED_KEYS, OPTIONS, table_for

USAGE = {
    "encode": "gvcodec encode [-c FILE]... [-i IN] [-b OUT.gvc] [-o REC] [-q QP] [--Key=value]...",
    "decode": "gvcodec decode -b IN.gvc [-o OUT] [-d BITDEPTH] [--Key=value]...",
    "metrics": "gvcodec metrics -r REF -d DEC [-wdt W -hgt H] [--Key=value]...",
}


def format_default(value) -> str:
    """An option's default as a user types it (1/0 for booleans, N:D rates, WxH pairs, "" for empty)."""
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}:{value.denominator}"
    return '""' if value == "" else str(value)


def render_help(command: str) -> str:
    """The option list of `command`, grouped by section, with every default."""
    rows = list(table_for(command).values())
    lines = [f"Usage: {USAGE[command]}", "",
             "Options are read left to right (cfg files at the position of their -c); the last value wins.",
             "Long options only as --Key=value; cfg files hold `Key : value` lines.", ""]
    lines.append("  -c FILE                        parse the cfg FILE at this position (repeatable)")
    lines += option_lines(rows)
    if command == "encode":
        lines += ["", "Accepted for HM/VTM cfg compatibility, without effect (-v 6 lists those a run met):",
                  "  " + " ".join(HM_ACCEPTED_KEYS) + " FrameN TemporalFilterStrengthFrameN",
                  "  (FrameN: HM's GOP table; out of display order it makes GOPSize > 1 random access for",
                  "  x264/x265/SVT-AV1, and when complete it gives x264/x265 HM's picture QPs)"]
    return "\n".join(lines)


def option_lines(rows) -> list[str]:
    """The option rows grouped by section, one line each with aliases, help, choices and default."""
    lines: list[str] = []
    sections: dict[str, list] = {}
    for row in rows:
        sections.setdefault(row.section, []).append(row)
    for section, items in sections.items():
        lines += ["", f"{section}:"]
        for row in items:
            names = ", ".join(list(row.aliases) + [f"--{row.name}"])
            extra = f" [{'|'.join(map(str, row.choices))}]" if row.choices else ""
            lines.append(f"  {names:<30} {row.help}{extra} (default: {format_default(row.default)})")
    return lines


def markdown_rows(rows, aliases: bool = True) -> list[str]:
    """A markdown table of option rows: key, (aliases,) default, meaning with choices."""
    head = ["| key | aliases | default | meaning |", "| --- | --- | --- | --- |"] if aliases else \
        ["| key | default | meaning |", "| --- | --- | --- |"]
    out = list(head)
    for row in rows:
        choices = f" ({', '.join(map(str, row.choices))})" if row.choices else ""
        names = f" {' '.join(f'`{a}`' for a in row.aliases)} |" if aliases else ""
        out.append(f"| `{row.name}` |{names} `{format_default(row.default)}` | {row.help}{choices} |")
    return out


def render_markdown() -> str:
    """docs/options.md: one table per command."""
    out = ["# gvcodec options", "", "Generated from `gvcodec/options/table.py` by `python -m gvcodec.options.help`.", ""]
    for command in USAGE:
        out += [f"## {command}", "", f"`{USAGE[command]}`", ""]
        out += markdown_rows(table_for(command).values())
        out.append("")
    out += ["## Coding structure and options precedence", "", *STRUCTURE_NOTES, "",
            "## HM/VTM keys accepted without effect", "",
            "Every key of HM-16.25's and VTM's shipped cfgs (main, main10, RExt low delay and random access, "
            "per-sequence) parses without `-w 1`; `-v 6` prints a one-line note listing the ones a run met. "
            "`FrameN` rows (the GOP table: the classical anchors' structure and picture QPs, above) and "
            "`TemporalFilterStrengthFrameN` are accepted too.", "",
            " ".join(f"`{k}`" for k in HM_ACCEPTED_KEYS), ""]
    return "\n".join(out)


STRUCTURE_NOTES = [
    "* Options are read left to right; the last value wins, wherever it was set. The parser also records",
    "  whether a key's value came from a cfg file or the command line (`Options.origin`).",
    "* `GOPFrames` of the GOP-based neural engines: given on the command line it wins; otherwise the GOP",
    "  length the model's weights were trained for (e.g. 8 for `givic-default`) wins over a cfg file's",
    "  `GOPFrames`, because a cfg file describes a coding structure for every codec while the weights fix",
    "  what the model can code; a cfg file's value applies to weights without a trained GOP length.",
    "* Classical anchors (x264, x265, SVT-AV1): `GOPSize` 1 codes low delay P; `GOPSize` N > 1 codes random",
    "  access with N - 1 B-frames between anchors used as references (x264/x265 `b-pyramid`, fixed placement;",
    "  SVT-AV1 `pred-struct=2` with log2 N hierarchical levels), unless the cfg's `FrameN` GOP table codes its",
    "  pictures in display order (HM's low-delay B cfgs), which stays low delay P. `IntraPeriod` is the",
    "  keyint; scene-cut detection is off.",
    "* Intra QP of x264/x265: the codec's own (ipratio 1.4: I pictures about 3 QP below P) unless",
    "  `IntraQPOffset` is given (cfg or command line), then ipratio = 2^(-IntraQPOffset/6); B pictures",
    "  get the codec's pbratio (1.3: about +2, a reference B half of that). The log prints these nominal",
    "  QPs; the results row's `encoder_settings` records the exact FFmpeg options.",
    "* Picture QPs from the GOP table (x264, x265): with a complete HM GOP table (`Frame1`..`FrameN` for",
    "  `GOPSize` N) every non-intra picture is coded at HM's slice QP for it: QP + QPoffset, plus the",
    "  QPOffsetModel's 0..3 (floor of clip(0, 3, (QP + QPoffset) x ModelScale + ModelOff + 0.5)), from the",
    "  entry at (POC - 1) mod N, clipped to 0..51 (HM's LD-B table at QP 37: 45 44 45 44 45 44 45 38).",
    "  They reach the encoders as one-picture `zones`: x264 counts zones in display order and clamps a",
    "  constant-QP picture to the span of its I/P/B QPs, so pbratio is raised to the highest table QP and",
    "  each B zone takes that offset back out (a table QP below the intra QP, or more than 20 above P, is",
    "  refused in one line: x264 cannot code it); x265 counts zones in coding order from 1, read from a blank",
    "  64x64 probe encode of the same fixed structure (about 0.1 s). The log prints the table QPs (x264's",
    "  are tested equal to the decoder's per-picture QPs). SVT-AV1 keeps its own QPs; the table's",
    "  reference lists are not mapped (x265's pyramid has one reference-B level where HM's GOP 16 has",
    "  four). When the input does not say how many frames it has, -f bounds the table (without -f the",
    "  codecs' own QPs apply).",
    "* `ChromaFormatIDC` 444 (or 422) codes the input in that format as HM does (chroma repeated, PSNR",
    "  measured in the coded format); `InternalBitDepth` 10 codes 10-bit (x264, x265; SVT-AV1 4:2:0 only).",
]


if __name__ == "__main__":
    print(render_markdown())
    assert OPTIONS
