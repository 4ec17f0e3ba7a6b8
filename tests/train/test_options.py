"""Training options: HM left-to-right precedence, per-stage YAML sections, one-line errors."""

import pytest

from gvcodec.errors import OptionError
from gvcodec.train.options import TRAIN_OPTIONS, parse_train_args, render_train_help


def write(tmp_path, text, name="t.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_stage_sections_and_left_to_right_precedence(tmp_path):
    cfg = write(tmp_path, "Steps: 10\nCrop: 192x128\nstages:\n  '0': {Steps: 20}\n  II: {Steps: 30, BatchSize: 3}\n")
    args = parse_train_args(["--Steps=5", "-c", cfg, "--I.BatchSize=7"])
    assert args.resolve("0").steps == 20 and args.resolve("I").steps == 10 and args.resolve("II").steps == 30
    assert args.resolve("II").batch_size == 3 and args.resolve("I").batch_size == 7
    assert args.resolve("0").batch_size == 2  # table default
    assert args.resolve("I").crop == (192, 128)
    # a later global value overrides the stage sections read before it
    later = parse_train_args(["-c", cfg, "--Steps=4"])
    assert [later.resolve(s).steps for s in ("0", "I", "II")] == [4, 4, 4]


def test_hm_cfg_files_bare_flags_and_aliases(tmp_path):
    cfg = write(tmp_path, "Steps : 9\nSeed : 3\n", "t.cfg")
    opts = parse_train_args(["-c", cfg, "--resume", "--convert", "a.safetensors", "-o", "b.safetensors"]).resolve()
    assert (opts.steps, opts.seed, opts.resume, opts.convert, opts.output_file) == (9, 3, True, "a.safetensors", "b.safetensors")


@pytest.mark.parametrize("argv, message", [
    (["--NoSuchKey=1"], "Unknown option `NoSuchKey'"),
    (["--Steps=-1"], "bad value `-1' for Steps"),
    (["--III.Steps=1"], "unknown stage `III'"),
    (["--Stage=3"], "bad value `3' for Stage"),
    (["--Crop=0x4"], "bad value `0x4' for Crop"),
])
def test_bad_options_fail_with_one_line(argv, message):
    with pytest.raises(OptionError) as err:
        parse_train_args(argv)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_yaml_names_the_file(tmp_path):
    cfg = write(tmp_path, "stages:\n  IV: {Steps: 1}\n")
    with pytest.raises(OptionError, match="unknown stage `IV'"):
        parse_train_args(["-c", cfg])
    with pytest.raises(OptionError, match="cannot open config file"):
        parse_train_args(["-c", str(tmp_path / "missing.yaml")])


def test_shipped_config_parses_and_help_lists_every_key():
    args = parse_train_args(["-c", "cfg/train/gnvc-vd-tiny.yaml"])
    for stage in ("0", "I", "II"):
        opts = args.resolve(stage)
        assert opts.steps >= 1000 and (opts.frames - 1) % 4 == 0 and opts.crop[0] % 64 == 0
    text = render_train_help()
    assert all(f"--{row.name}" in text for row in TRAIN_OPTIONS)


def test_docs_carry_the_generated_option_table():
    from pathlib import Path

    from gvcodec.train.options import render_train_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "training.md"
    assert render_train_markdown() in doc.read_text(), "regenerate: python -m gvcodec.train.options"
