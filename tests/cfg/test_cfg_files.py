"""Every shipped cfg file parses with gvcodec's own parser, without warnings or unknown keys."""

from pathlib import Path

import pytest

from gvcodec.options.parse import parse_options

CFG = Path(__file__).resolve().parents[2] / "cfg"
FILES = sorted(CFG.glob("*.cfg")) + sorted((CFG / "per-sequence").glob("*.cfg"))


def test_there_are_cfg_files():
    assert len(FILES) > 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cfg_parses_cleanly(path):
    opts = parse_options(["-c", str(path)], "encode")
    assert opts.warnings == []
    text = path.read_text()
    assert text.rstrip("\n").endswith("### DO NOT DELETE THE EMPTY LINE BELOW ###") and text.endswith("\n")


@pytest.mark.parametrize("path", sorted((CFG / "per-sequence").glob("*.cfg")), ids=lambda p: p.name)
def test_per_sequence_cfgs_set_the_hm_keys(path):
    opts = parse_options(["-c", str(path)], "encode")
    for key in ("InputFile", "SourceWidth", "SourceHeight", "FrameRate", "FramesToBeEncoded", "InputBitDepth",
                "InputChromaFormat", "FrameSkip"):
        assert key in opts.explicit, key
    assert opts.source_width % 2 == 0 and opts.source_height % 2 == 0


def test_shared_clips_match_their_cfg(shared):
    rows = [l.split("\t") for l in (shared / "sequences" / "MANIFEST.tsv").read_text().splitlines()[1:] if l]
    for row in rows:
        name, width, height, frames = row[0], int(row[2]), int(row[3]), int(row[4])
        stem = name.split(".")[0] if name.endswith(".tar.xz") else name.rsplit(".", 1)[0]
        cfg = CFG / "per-sequence" / f"{stem}.cfg"
        assert cfg.is_file(), name
        opts = parse_options(["-c", str(cfg)], "encode")
        assert (opts.source_width, opts.source_height, opts.frames_to_be_encoded) == (width, height, frames), name
