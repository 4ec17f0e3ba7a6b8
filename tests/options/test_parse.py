"""HM semantics: left-to-right, last value wins, cfg syntax, unknown keys."""

from fractions import Fraction

import pytest

from gvcodec.errors import OptionError
from gvcodec.options.parse import parse_options


@pytest.fixture
def cfgs(tmp_path):
    def write(name, text):
        p = tmp_path / name
        p.write_text(text)
        return str(p)

    return write


def test_command_line_after_cfg_files_wins(cfgs):
    a = cfgs("a.cfg", "QP : 30\n")
    assert parse_options(["-c", a, "-q", "22"], "encode").qp == 22


def test_later_cfg_file_overrides_earlier_command_line_value(cfgs):
    a = cfgs("a.cfg", "QP : 30\n")
    assert parse_options(["-q", "22", "-c", a], "encode").qp == 30


def test_later_cfg_file_overrides_earlier_cfg_file(cfgs):
    a, b = cfgs("a.cfg", "QP : 30\nIntraPeriod : 8\n"), cfgs("b.cfg", "QP:26\n")
    o = parse_options(["-c", a, "-c", b], "encode")
    assert (o.qp, o.intra_period) == (26, 8)


def test_same_key_twice_in_a_file_takes_the_later(cfgs):
    assert parse_options(["-c", cfgs("a.cfg", "QP : 25\nQP:26\n")], "encode").qp == 26


def test_cfg_comments_and_multiword_values(cfgs):
    a = cfgs("a.cfg", "# comment\n\nQP : 32   # Quantization parameter\nInputFile : my file#1.yuv\n"
                      "Frame1:  B  1  5  -6.5\nTemporalFilterStrengthFrame8 : 0.10\n")
    o = parse_options(["-c", a], "encode")
    assert o.qp == 32 and o.input_file == "my file#1.yuv"
    assert o.ignored["Frame1"] == "B  1  5  -6.5"


def test_malformed_cfg_lines_warn_and_are_skipped(cfgs):
    a = cfgs("a.cfg", "justtext\nQP :\nQP : 27\n")
    o = parse_options(["-c", a], "encode")
    assert o.qp == 27
    assert any("2 warning: no value found" in w for w in o.warnings)
    assert any("1 warning: line formatting error" in w for w in o.warnings)


def test_unknown_key_fails_unless_w1(cfgs):
    with pytest.raises(OptionError, match="Unknown option `Foo' \\(value:`3'\\)"):
        parse_options(["--Foo=3"], "encode")
    a = cfgs("a.cfg", "Bar : 1\n")
    with pytest.raises(OptionError, match=r"a.cfg:1 error: Unknown option `Bar'"):
        parse_options(["-c", a], "encode")
    o = parse_options(["-w", "1", "--Foo=3", "-c", a], "encode")
    assert len([w for w in o.warnings if "Unknown option" in w]) == 2


def test_long_option_needs_equals_like_hm():
    o = parse_options(["--QP", "22"], "encode")
    assert o.qp == 1  # a bare --Key means --Key=1, as in HM
    assert "Unhandled argument ignored: `22'" in o.warnings


def test_bad_value_is_an_error_naming_the_key():
    with pytest.raises(OptionError, match="QP"):
        parse_options(["-q", "abc"], "encode")
    with pytest.raises(OptionError, match="must be one of"):
        parse_options(["--InputChromaFormat=411"], "encode")


def test_frame_rate_forms():
    assert parse_options(["-fr", "30000:1001"], "encode").frame_rate == Fraction(30000, 1001)
    assert parse_options(["-fr", "29.97"], "encode").frame_rate == Fraction(30000, 1001)
    assert parse_options(["-fr", "50"], "encode").frame_rate == 50


def test_hm_cfg_keys_without_effect_are_accepted(cfgs):
    a = cfgs("hm.cfg", "MaxCUWidth : 64\nSAO : 1\nProfile : main\nQP : 37\n")
    o = parse_options(["-c", a], "encode")
    assert o.qp == 37 and o.ignored["SAO"] == "1"


def test_decoder_d_is_output_bit_depth():
    o = parse_options(["-b", "x.gvc", "-d", "10"], "decode")
    assert o.output_bit_depth == 10 and o.bitstream_file == "x.gvc"


def test_stats_alias_takes_next_token():
    assert parse_options(["--stats", "s.csv"], "encode").stats_file == "s.csv"
    assert parse_options(["--StatsFile=s.json"], "encode").stats_file == "s.json"


def test_missing_cfg_file_is_an_error():
    with pytest.raises(OptionError, match="cannot open config file"):
        parse_options(["-c", "/nonexistent.cfg"], "encode")
