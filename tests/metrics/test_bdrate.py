"""BD-rate / BD-quality tables and the results CSV."""


import pytest

from gvcodec.errors import InputError
from gvcodec.metrics.bdrate import bd_quality, bd_rate, bdrate_table, format_bdrate_table, rows_for_codec

RATES = [0.02, 0.05, 0.11, 0.25]
PSNR = [30.1, 32.8, 35.2, 37.9]


def rows(codec, sequence, rates, **metrics):
    return [
        {"sequence": sequence, "codec": codec, "qp": qp, "bpp": r, **{k: v[i] for k, v in metrics.items()}}
        for i, (qp, r) in enumerate(zip((37, 32, 27, 22), rates))
    ]


@pytest.mark.parametrize("method", ["pchip", "akima", "cubic"])
def test_identical_curves_give_zero(method):
    assert bd_rate(RATES, PSNR, RATES, PSNR, method) == pytest.approx(0.0, abs=1e-9)
    assert bd_quality(RATES, PSNR, RATES, PSNR, method) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", ["pchip", "akima", "cubic"])
def test_rates_scaled_by_0_9_give_minus_ten_percent(method):
    assert bd_rate(RATES, PSNR, [0.9 * r for r in RATES], PSNR, method) == pytest.approx(-10.0, abs=1e-9)


def test_constant_quality_gain_is_the_bd_quality():
    assert bd_quality(RATES, PSNR, RATES, [q + 0.5 for q in PSNR]) == pytest.approx(0.5, abs=1e-9)


def test_lower_is_better_metric_keeps_the_sign_convention():
    lpips = [0.40, 0.30, 0.22, 0.15]
    cheaper = [0.9 * r for r in RATES]
    assert bd_rate(RATES, lpips, cheaper, lpips, lower_is_better=True) == pytest.approx(-10.0, abs=1e-9)
    worse = [v + 0.02 for v in lpips]  # higher LPIPS at the same rates: the test needs more bits
    assert bd_rate(RATES, lpips, RATES, worse, lower_is_better=True) > 0
    better = [v - 0.01 for v in lpips]
    assert bd_quality(RATES, lpips, RATES, better, lower_is_better=True) == pytest.approx(-0.01, abs=1e-9)


def test_table_reports_each_sequence_and_the_mean():
    anchor = rows("hm", "a", RATES, psnr_y=PSNR, lpips=[0.4, 0.3, 0.2, 0.1])
    anchor += rows("hm", "b", RATES, psnr_y=PSNR, lpips=[0.4, 0.3, 0.2, 0.1])
    test = rows("gv", "a", [0.9 * r for r in RATES], psnr_y=PSNR, lpips=[0.4, 0.3, 0.2, 0.1])
    test += rows("gv", "b", [0.8 * r for r in RATES], psnr_y=PSNR, lpips=[0.4, 0.3, 0.2, 0.1])
    table = bdrate_table(anchor, test)
    assert table.metrics == ("psnr_y", "lpips")
    assert table.rows["a"]["psnr_y"].value == pytest.approx(-10.0)
    assert table.rows["b"]["lpips"].value == pytest.approx(-20.0)
    assert table.average["psnr_y"].value == pytest.approx(-15.0)
    assert table.average["psnr_y"].note is None


def test_unusable_curves_become_notes_not_crashes():
    anchor = rows("hm", "few", RATES[:3], psnr_y=PSNR[:3])
    anchor += rows("hm", "apart", RATES, psnr_y=PSNR)
    anchor += rows("hm", "wobbly", RATES, psnr_y=PSNR)
    anchor += rows("hm", "ok", RATES, psnr_y=PSNR)
    test = rows("gv", "few", RATES, psnr_y=PSNR)
    test += rows("gv", "apart", RATES, psnr_y=[q + 20 for q in PSNR])
    test += rows("gv", "wobbly", RATES, psnr_y=[30.0, 33.0, 32.0, 36.0])
    test += rows("gv", "ok", [0.9 * r for r in RATES], psnr_y=PSNR)
    test += rows("gv", "only_test", RATES, psnr_y=PSNR)
    table = bdrate_table(anchor, test, metrics=["psnr_y"])
    notes = {seq: cells["psnr_y"].note for seq, cells in table.rows.items()}
    assert "anchor has 3 points" in notes["few"]
    assert "do not overlap" in notes["apart"]
    assert "monotonic" in notes["wobbly"]
    assert notes["only_test"] == "no anchor results"
    assert table.rows["ok"]["psnr_y"].value == pytest.approx(-10.0)
    assert table.average["psnr_y"].value == pytest.approx(-10.0)
    assert table.average["psnr_y"].note == "mean of 1 of 5 sequences"
    text = format_bdrate_table(table)
    assert "-10.00" in text and "n/a [1]" in text and "[1] apart psnr_y: psnr_y ranges do not overlap" in text


def test_partial_overlap_keeps_the_value_with_a_note():
    table = bdrate_table(rows("hm", "s", RATES, psnr_y=PSNR), rows("gv", "s", RATES, psnr_y=[q + 3 for q in PSNR]))
    cell = table.rows["s"]["psnr_y"]
    assert cell.value is not None and cell.value < 0 and "overlap" in cell.note


def test_rate_falls_back_to_bits_per_pixel_from_bits():
    anchor = rows("hm", "s", RATES, psnr_y=PSNR)
    test = [dict(r, bpp=None, bits=r["bpp"] * 0.9 * 64 * 32 * 10, width=64, height=32, frames=10) for r in anchor]
    table = bdrate_table(anchor, [dict(t, codec="gv") for t in test])
    assert table.rows["s"]["psnr_y"].value == pytest.approx(-10.0)


def test_mixed_codecs_and_bad_options_are_rejected():
    mixed = rows("hm", "s", RATES, psnr_y=PSNR) + rows("x265", "s", RATES, psnr_y=PSNR)
    with pytest.raises(InputError, match="mix codecs"):
        bdrate_table(mixed, rows("gv", "s", RATES, psnr_y=PSNR))
    assert len(rows_for_codec(mixed, "x265")) == 4
    with pytest.raises(ValueError, match="interpolation"):
        bdrate_table([], [], method="linear")
