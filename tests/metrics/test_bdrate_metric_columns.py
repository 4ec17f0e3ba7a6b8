"""BD-rate on every metric column `gvcodec metrics` writes, lower-is-better ones included."""

import pytest

from gvcodec.metrics.bdrate import LOWER_IS_BETTER, QUALITY_COLUMNS, bdrate_table
from gvcodec.report.results import RESULTS_COLUMNS, append_result

RATES = [0.02, 0.05, 0.11, 0.25]
CURVES = {  # each improves with rate in its own direction
    "psnr_y": [30.1, 32.8, 35.2, 37.9], "lpips_alex": [0.41, 0.30, 0.21, 0.14], "lpips_vgg": [0.50, 0.40, 0.31, 0.25],
    "dists": [0.30, 0.22, 0.16, 0.12], "ewarp": [0.011, 0.008, 0.006, 0.005], "clipf": [0.90, 0.93, 0.95, 0.96],
    "fvd": [420.0, 300.0, 210.0, 150.0],
}


def rows(codec, rates, curves):
    return [{"sequence": "bus", "codec": codec, "qp": qp, "bpp": r, **{k: v[i] for k, v in curves.items()}}
            for i, (qp, r) in enumerate(zip((37, 32, 27, 22), rates))]


def test_metric_columns_are_results_and_quality_columns_with_the_right_direction():
    for column in CURVES:
        assert column in RESULTS_COLUMNS and column in QUALITY_COLUMNS
    assert {"lpips_alex", "lpips_vgg", "dists", "ewarp", "fvd"} <= LOWER_IS_BETTER
    assert "clipf" not in LOWER_IS_BETTER and "psnr_y" not in LOWER_IS_BETTER


def test_ten_percent_fewer_bits_is_minus_ten_percent_on_every_column():
    table = bdrate_table(rows("x264", RATES, CURVES), rows("gv", [0.9 * r for r in RATES], CURVES))
    assert set(table.metrics) == set(CURVES)  # every column both sides report, by default
    for column in CURVES:
        assert table.average[column].value == pytest.approx(-10.0, abs=1e-6), column


def test_a_worse_lower_is_better_metric_costs_bits_and_shows_as_a_positive_bd_quality():
    worse = {k: [v * 1.1 for v in vals] for k, vals in CURVES.items() if k in LOWER_IS_BETTER}
    anchor, test = rows("x264", RATES, CURVES), rows("gv", RATES, worse)
    rate = bdrate_table(anchor, test)
    quality = bdrate_table(anchor, test, kind="quality")
    for column in worse:
        assert rate.average[column].value > 0, column  # same rates, higher LPIPS/FVD/...: more bits needed
        assert quality.average[column].value > 0, column  # reported in the metric's own direction


def test_a_decreasing_lower_is_better_curve_is_accepted_but_an_increasing_one_is_flagged():
    bad = {"fvd": [150.0, 210.0, 300.0, 420.0]}  # FVD rising with rate: not a valid RD curve
    table = bdrate_table(rows("x264", RATES, CURVES), rows("gv", RATES, {**CURVES, **bad}), metrics=["fvd"])
    assert table.average["fvd"].value is None
    assert "does not improve monotonically" in table.rows["bus"]["fvd"].note


def test_the_bdrate_command_reads_the_metric_columns(tmp_path, run_cli):
    path = tmp_path / "results.csv"
    for row in rows("x264", RATES, CURVES) + rows("gv", [0.8 * r for r in RATES], CURVES):
        append_result(path, row)
    out = run_cli("bdrate", path, "--anchor", "x264", "--test", "gv", check_rc=0).stdout
    header = next(line for line in out.splitlines() if line.startswith("sequence"))
    average = next(line for line in out.splitlines() if line.startswith("average"))
    assert header.split()[1:] == [c for c in RESULTS_COLUMNS if c in CURVES]
    assert average.split()[1:] == ["-20.00"] * len(CURVES)
