"""Tally statistics: Wilson score intervals against published values, per-pair shares, file handling."""

import json
import math

import pytest

from gvcodec.errors import InputError
from gvcodec.report.study.tally import format_tally, load_choices, tally, wilson_interval


@pytest.mark.parametrize("k, n, low, high", [
    (8, 10, 0.4902, 0.9433),    # the usual worked example of the Wilson interval
    (0, 10, 0.0, 0.2775),       # all against: lower bound 0, upper z^2 / (n + z^2)
    (10, 10, 0.7225, 1.0),
    (15, 20, 0.5313, 0.8881),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_interval_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high, abs=5e-5)


def test_wilson_interval_closed_forms():
    z2 = 1.959963984540054 ** 2
    assert wilson_interval(0, 7)[1] == pytest.approx(z2 / (7 + z2))  # k = 0: upper = z^2 / (n + z^2)
    lo, hi = wilson_interval(3, 9)
    assert (lo + hi) / 2 == pytest.approx((3 / 9 + z2 / 18) / (1 + z2 / 9))  # centre shrinks toward 1/2
    assert wilson_interval(8, 10, 0.99)[0] < wilson_interval(8, 10, 0.95)[0]
    for bad in ((1, 0), (-1, 3), (4, 3)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


def choice(left, right, chosen, i, viewer="v1"):
    return {"id": f"c{i}", "left": left, "right": right, "chosen": chosen,
            "side": "left" if chosen == left else "right", "viewer": viewer, "trial": f"t{i}"}


def test_tally_per_pair_whichever_side_the_codecs_were_on():
    records = [choice("x265", "gnvc", "gnvc", i) for i in range(6)]
    records += [choice("gnvc", "x265", "gnvc", i + 6) for i in range(2)]
    records += [choice("x265", "gnvc", "x265", i + 8) for i in range(2)]
    records += [choice("x264", "x265", "x265", 20)]
    pairs = tally(records)
    assert [(p.a, p.b, p.n, p.a_wins) for p in pairs] == [("gnvc", "x265", 10, 8), ("x264", "x265", 1, 0)]
    assert (pairs[0].low, pairs[0].high) == pytest.approx(wilson_interval(8, 10))
    text = format_tally(records)
    assert "Wilson score interval" in text
    assert "gnvc vs x265       10  gnvc  80.0% [ 49.0,  94.3]   x265  20.0% [  5.7,  51.0]" in text
    assert "11 choices from 1 viewer(s)" in text
    left = sum(r["side"] == "left" for r in records)
    assert f"left video chosen: {100 * left / 11:.1f}%" in text


def test_load_choices_dedupes_and_rejects_bad_files(tmp_path):
    a = [choice("p", "q", "p", 1), choice("p", "q", "q", 2)]
    (tmp_path / "server.json").write_text(json.dumps(a))
    (tmp_path / "download.json").write_text(json.dumps(a[1:] + [choice("p", "q", "q", 3, "v2")]))
    records, dups = load_choices([tmp_path / "server.json", tmp_path / "download.json"])
    assert len(records) == 3 and dups == 1
    assert "1 duplicate record(s) ignored" in format_tally(records, dups)
    (tmp_path / "bad.json").write_text(json.dumps([{"left": "p", "right": "q", "chosen": "z"}]))
    for path, message in ((tmp_path / "bad.json", "record 0 is not a choice"), (tmp_path / "none.json", "cannot read")):
        with pytest.raises(InputError, match=message):
            load_choices([path])
    (tmp_path / "text.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        load_choices([tmp_path / "text.json"])
    assert format_tally([]) == "no choices recorded\n"
    assert math.isclose(tally(records)[0].a_share, 1 / 3)
