"""The conversion step: frozen entropy tables, rate cost in the metadata, a file the model code loads."""

import json

import torch

from gvcodec.models.gnvc_vd.model import GnvcVd
from gvcodec.train.checkpoint import read_metadata
from gvcodec.train.options import parse_train_args
from gvcodec.train.run import run_train


def test_convert_writes_loadable_weights_with_the_rate_cost(fast_argv, init_weights, tmp_path):
    out = tmp_path / "final.safetensors"
    assert run_train(parse_train_args(fast_argv("--convert", str(init_weights), "-o", str(out)))) == out
    meta = read_metadata(out)
    report = json.loads(meta["gvcodec.conversion"])
    assert report["clips"] == 1 and len(report["per_qp"]) == 3 and report["rate_cost"] is not None
    for row in report["per_qp"].values():
        assert row["bpp_coded"] > 0 and row["bpp_estimated"] > 0
    assert meta["gvcodec.stage"] == "final" and meta["gvcodec.model"] == "gnvc-vd-tiny"
    model = GnvcVd.from_config("gnvc-vd-tiny").load_weights(out)
    tables = [b for n, b in model.codec.named_buffers() if n.endswith("table_freqs")]
    assert tables and all(t.numel() > 1 for t in tables)
    # the shipped tables are the converted ones, so a fresh load codes exactly like the converter did
    latents = torch.randn(1, 16, 2, 8, 8)
    coded = model.codec.compress(latents, 3)
    again = GnvcVd.from_config("gnvc-vd-tiny").load_weights(out).codec.compress(latents, 3)
    assert coded.payload == again.payload
    decoded, _ = model.codec.decompress(coded.payload, latents.shape, 3)
    assert torch.equal(decoded, coded.latents)


def test_full_run_of_all_stages_ends_in_final_weights(fast_argv, tmp_path):
    argv = fast_argv("--Steps=1", "--Frames=1", "--ConvertClips=0")
    final = run_train(parse_train_args(argv))
    assert final == tmp_path / "run" / "final.safetensors" and final.is_file()
    for stage in ("0", "I", "II"):
        assert (tmp_path / "run" / f"stage-{stage}.safetensors").is_file()
    # a second run finds every stage done and only converts again
    assert run_train(parse_train_args(argv)) == final


def test_fp16_conversion_halves_the_file_and_loads_to_the_measured_model(fast_argv, init_weights, tmp_path):
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    run_train(parse_train_args(fast_argv("--convert", str(init_weights), "-o", str(full), "--ConvertClips=0")))
    run_train(parse_train_args(fast_argv("--convert", str(init_weights), "-o", str(half), "--ConvertClips=0",
                                         "--Fp16=1")))
    assert half.stat().st_size < 0.6 * full.stat().st_size
    model = GnvcVd.from_config("gnvc-vd-tiny").load_weights(half)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    latents = torch.randn(1, 16, 2, 8, 8)
    coded = model.codec.compress(latents, 2)
    assert torch.equal(model.codec.decompress(coded.payload, latents.shape, 2)[0], coded.latents)
