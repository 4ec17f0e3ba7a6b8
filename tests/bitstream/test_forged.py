"""Forged streams (header fields and engine parameters edited, CRC recomputed as an attacker would):
every field is typed and bounded before use, so a forged value is one line and exit 2, never a long
run and never an internal error (exit 70)."""

from __future__ import annotations

import pytest

from gvcodec.errors import BitstreamError

BIG = 100000


def _set(**kv):
    def edit(p):
        p.update(kv)
    return edit


def _drop(key):
    def edit(p):
        del p[key]
    return edit


GNVC_VD = {
    "steps huge": dict(edit_params=_set(flow_steps=BIG)),
    "steps negative": dict(edit_params=_set(flow_steps=-1)),
    "steps a string": dict(edit_params=_set(flow_steps="5")),
    "steps a float": dict(edit_params=_set(flow_steps=2.5)),
    "steps a bool": dict(edit_params=_set(flow_steps=True)),
    "mix 5": dict(edit_params=_set(flow_start_mix=5)),
    "mix NaN": dict(edit_params=_set(flow_start_mix=float("nan"))),
    "mix a list": dict(edit_params=_set(flow_start_mix=[0.5])),
    "qp index huge": dict(edit_params=_set(qp_index=99)),
    "qp index negative": dict(edit_params=_set(qp_index=-1)),
    "seed negative": dict(edit_params=_set(flow_seed=-5)),
    "context seed huge": dict(edit_params=_set(context_seed=2**70)),
    "precision": dict(edit_params=_set(precision="fp64")),
    "matrix": dict(edit_params=_set(matrix="bt999")),
    "missing key": dict(edit_params=_drop("flow_steps")),
    "params a list": dict(params=[1, 2, 3]),
    "params a string": dict(params="x"),
    "model unknown": dict(fields={"model": "gnvc-vd-nope"}),
    "model of the other family": dict(fields={"model": "givic-tiny"}),
    "gop not 1+4k": dict(fields={"gop_frames": 4}),
    "gop huge": dict(fields={"gop_frames": 4097}),
    "gop zero": dict(fields={"gop_frames": 0}),
}

GIVIC = {
    "steps huge": dict(edit_params=_set(diffusion_steps=10**6)),
    "steps zero": dict(edit_params=_set(diffusion_steps=0)),
    "steps a string": dict(edit_params=_set(diffusion_steps="4")),
    "subset unknown": dict(edit_params=_set(overfit_params=["all"])),
    "subset a string": dict(edit_params=_set(overfit_params="bias")),
    "subsets too many": dict(edit_params=_set(overfit_params=["bias"] * 9)),
    "init": dict(edit_params=_set(init="magic")),
    "grid step zero": dict(edit_params=_set(grid_step=0)),
    "grid step a string": dict(edit_params=_set(grid_step="1")),
    "params a list": dict(params=["givic"]),
    "model unknown": dict(fields={"model": "givic-nope"}),
    "gop huge": dict(fields={"gop_frames": 5000}),
    "gop smaller than the units": dict(fields={"gop_frames": 1}),
}

X265 = {  # classical streams carry no engine parameters (container format 2)
    "chroma 444": dict(fields={"chroma_format": 444}),
    "bit depth 16": dict(fields={"internal_bit_depth": 16}),
    "bit depth 10": dict(fields={"internal_bit_depth": 10}),
    "params a list": dict(params=["x265"]),
    "params not empty": dict(params={"decoder": "h264"}),
    "size smaller": dict(fields={"width": 32, "coded_width": 32}),
}


@pytest.mark.parametrize("engine, table", [("gnvc-vd", GNVC_VD), ("givic", GIVIC), ("x265", X265)])
def test_forged_engine_fields_are_one_bitstream_error(engine, table, real_streams, forge, decode, tmp_path):
    stream, clean = real_streams(engine)
    decode(stream, tmp_path / "clean.yuv")
    assert (tmp_path / "clean.yuv").read_bytes() == clean  # the unforged stream decodes
    for name, edit in table.items():
        bad = forge(stream, tmp_path / "bad.gvc", **edit)
        with pytest.raises(BitstreamError) as err:
            decode(bad, tmp_path / "out.yuv")
        assert "\n" not in str(err.value), name
        assert not (tmp_path / "out.yuv").exists(), name


def test_forged_steps_exit_2_at_once_on_the_command_line(real_streams, forge, run_cli, tmp_path):
    stream, _ = real_streams("gnvc-vd")
    for edit, words in ((_set(flow_steps=BIG), "flow_steps value 100000 is outside 0..100"),
                        (_set(flow_start_mix=5), "flow_start_mix value 5.0 is outside 0..1")):
        forge(stream, tmp_path / "bad.gvc", edit_params=edit)
        proc = run_cli("decode", "-b", "bad.gvc", "-o", "d.yuv")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr, proc.stderr


def test_forged_x265_headers_exit_2_not_70(real_streams, forge, run_cli, tmp_path):
    stream, _ = real_streams("x265")
    for edit in (X265["chroma 444"], X265["bit depth 16"], X265["params a list"]):
        forge(stream, tmp_path / "bad.gvc", **edit)
        proc = run_cli("decode", "-b", "bad.gvc", "-o", "d.yuv")
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "internal error" not in proc.stderr
