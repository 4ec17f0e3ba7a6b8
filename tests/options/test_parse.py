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


def test_every_key_of_hm_and_vtm_shipped_cfgs_is_accepted_without_w(cfgs):
    from gvcodec.options.table import HM_ACCEPTED_KEYS

    # the RExt, VTM and per-sequence keys the seeds' cfgs use, and GOP-table rows
    for key in ("ExtendedPrecision", "CostMode", "DualITree", "ALF", "MTS", "LMCSEnable", "CCALFStrengthTarget",
                "TemporalFilterPastRefs", "ConfWinBottom", "DeblockingFilterCrTcOffset_div2"):
        assert key in HM_ACCEPTED_KEYS
    text = "".join(f"{k} : 1\n" for k in HM_ACCEPTED_KEYS)
    text += "Frame1: B 8 1 0.0 0.0 0 0 1.0 0 0 0 4 4 -8 -10 -12 -16 0\nTemporalFilterStrengthFrame16 : 1.5\n"
    opts = parse_options(["-c", cfgs("vtm.cfg", text), "--ChromaFormatIDC=444", "--InternalBitDepth=10"], "encode")
    assert opts.warnings == [] and len(opts.ignored) == len(HM_ACCEPTED_KEYS) + 2
    assert (opts.chroma_format_idc, opts.internal_bit_depth) == (444, 10)


def test_parser_records_whether_a_key_came_from_a_cfg_file_or_the_command_line(cfgs):
    a = cfgs("a.cfg", "GOPFrames : 32\nQP : 30\n")
    o = parse_options(["-c", a, "-q", "22"], "encode")
    assert o.origin == {"GOPFrames": "cfg", "QP": "command line"}
    assert not o.on_command_line("GOPFrames") and o.on_command_line("QP") and not o.on_command_line("GOPSize")
    assert parse_options(["--GOPFrames=9", "-c", a], "encode").origin["GOPFrames"] == "cfg"  # the last one


def test_a_cfg_files_gop_frames_yields_to_the_weights_own_unless_given_on_the_command_line(cfgs):
    from gvcodec.engines.givic.params import GivicParams

    a = cfgs("ra.cfg", "GOPFrames : 32\n")
    p = GivicParams.from_options(parse_options(["-c", a, "--Model=givic-default"], "encode"))
    assert (p.gop_frames, p.cfg_gop_frames) == (None, 32)  # None: the weights' own GOP length first
    p = GivicParams.from_options(parse_options(["-c", a, "--GOPFrames=16"], "encode"))
    assert p.gop_frames == 16


def test_classical_params_follow_the_cfg_coding_structure(cfgs):
    from gvcodec.engines.classical.params import ClassicalParams

    def params(*argv):
        return ClassicalParams.from_options(parse_options(list(argv), "encode"))

    assert params().bframes == 0 and params().intra_qp_offset is None  # low delay, the codec's own I QP
    assert params("--IntraQPOffset=0").intra_qp_offset == 0  # given, even as 0: used
    ra = params("-g", "8", "-ip", "32")
    assert ra.bframes == 7 and ra.intra_period == 32 and ra.random_access
    assert params("-g", "16").bframes == 15
    ld_b = cfgs("ldb.cfg", "GOPSize : 4\n" + "".join(f"Frame{i}: B {i} 1 0 0 0 0 1 0 0 0 4 4 -1 -5 -9 -13 0\n"
                                                       for i in range(1, 5)))
    assert params("-c", ld_b).bframes == 0  # GOP table in display order: low delay
    ra_table = cfgs("ra.cfg", "GOPSize : 8\nFrame1: B 8 1\nFrame2: B 4 2\nFrame3: B 2 3\n")
    assert params("-c", ra_table).bframes == 7


def test_givic_gop_length_precedence_command_line_then_weights_then_cfg_file():
    from types import SimpleNamespace

    from gvcodec.engines.givic.engine import _gop_frames
    from gvcodec.models.givic.cards import weights_for

    trained = weights_for("givic-default")  # shipped weights, trained on 8-frame GOPs
    config = SimpleNamespace(gop_frames=32)
    assert _gop_frames(None, config, trained, from_cfg=32) == 8  # cfg/randomaccess.cfg's 32 yields
    assert _gop_frames(16, config, trained, from_cfg=32) == 16  # the command line wins
    assert _gop_frames(None, config, "", from_cfg=12) == 12  # no trained length: the cfg file's
    assert _gop_frames(None, config, "") == 32  # else the model config's
