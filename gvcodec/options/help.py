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
        lines += ["", "Accepted for HM cfg compatibility, without effect:",
                  "  " + " ".join(HM_ACCEPTED_KEYS) + " FrameN TemporalFilterStrengthFrameN"]
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
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown())
    assert OPTIONS
