"""The option table is the single source of truth: every row must be complete and consistent."""

from gvcodec.options.help import render_help, render_markdown
from gvcodec.options.table import DEC, ENC, MET, OPTIONS, alias_map, table_for


def test_every_row_has_help_and_a_valid_default():
    for row in OPTIONS:
        assert row.help.strip(), row.name
        if row.choices:
            assert row.default in row.choices, row.name
        if row.range is not None and row.default is not None:
            assert row.range[0] <= row.default <= row.range[1], row.name


def test_aliases_are_unique_within_each_command():
    for command in (ENC, DEC, MET):
        seen = {}
        for row in table_for(command).values():
            for a in row.aliases:
                assert a not in seen, f"{command}: {a} used by {seen.get(a)} and {row.name}"
                seen[a] = row.name


def test_hm_short_aliases_are_present():
    enc = alias_map(ENC)
    for alias, key in {"-i": "InputFile", "-b": "BitstreamFile", "-o": "ReconFile", "-q": "QP",
                       "-f": "FramesToBeEncoded", "-fs": "FrameSkip", "-wdt": "SourceWidth",
                       "-hgt": "SourceHeight", "-fr": "FrameRate", "-w": "WarnUnknowParameter"}.items():
        assert enc[alias].name == key
    dec = alias_map(DEC)
    assert dec["-d"].name == "OutputBitDepth" and dec["-b"].name == "BitstreamFile"
    assert alias_map(MET)["-r"].name == "ReferenceFile"


def test_help_lists_every_option_with_its_default():
    for command in (ENC, DEC, MET):
        text = render_help(command)
        for row in table_for(command).values():
            assert f"--{row.name}" in text
            line = next(l for l in text.splitlines() if f"--{row.name} " in l or l.rstrip().endswith(f"--{row.name}"))
            assert "(default:" in line
    assert "| `QP` |" in render_markdown()
