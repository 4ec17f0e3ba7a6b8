"""`gvcodec import`: synthetic public-format checkpoints at tiny size (Wan names and Diffusers names),
imported and compared with the source, then used to code a real clip; every failure is one line."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from gvcodec.models.gnvc_vd.cards import INIT_SEED
from gvcodec.models.gnvc_vd.model import GnvcVd

CFG = Path(__file__).resolve().parents[2] / "cfg"
MD5_OK = re.compile(r"\[MD5:[0-9a-f,]+,\(OK\)\]")
TINY = "gnvc-vd-tiny"


def randomise(module: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("gamma") or "norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p[0].numel()))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


@pytest.fixture(scope="module")
def source():
    """A tiny GNVC-VD whose VAE and DiT play the public weights (random, unlike the seeded init)."""
    model = GnvcVd.from_config(TINY, seed=5)
    randomise(model.vae, 6)
    randomise(model.dit, 7)
    return model


@pytest.fixture(scope="module")
def wan_files(source, tmp_path_factory):
    """Wan-named files: the VAE as a .pth pickle, the DiT (VACE) and a T2V DiT as .safetensors."""
    folder = tmp_path_factory.mktemp("wan")
    torch.save(source.vae.state_dict(), folder / "Wan2.1_VAE.pth")
    dit = {k: v.contiguous() for k, v in source.dit.state_dict().items()}
    save_file(dit, str(folder / "vace.safetensors"))
    save_file({k: v for k, v in dit.items() if not k.startswith("vace_")}, str(folder / "t2v.safetensors"))
    return folder


def cli_ok(run_cli, *args):
    proc = run_cli("import", f"--Model={TINY}", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def imported(path: Path) -> GnvcVd:
    return GnvcVd.from_config(TINY, seed=123).load_weights(path)


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_wan_names_import_equal_the_source_and_code_a_real_clip(source, wan_files, run_cli, tmp_path, sequence):
    ctx = torch.randn(3, 32)
    save_file({"context": ctx}, str(tmp_path / "ctx.safetensors"))
    proc = cli_ok(run_cli, f"--VaeWeights={wan_files / 'Wan2.1_VAE.pth'}", f"--DitWeights={wan_files / 'vace.safetensors'}",
                  "--TextContext=ctx.safetensors", "-o", "w.safetensors")
    assert "wan names" in proc.stdout and proc.stderr == ""
    model = imported(tmp_path / "w.safetensors")
    assert_same_state(model.vae, source.vae)
    for k, v in source.dit.state_dict().items():
        assert torch.equal(model.dit.state_dict()[k], v), k
    init = GnvcVd.from_config(TINY, seed=INIT_SEED)
    init.finish_tables()
    assert_same_state(model.codec, init.codec)  # the latent codec stays at the seeded initialisation
    assert torch.equal(model.text_context, ctx)
    padded = model.context(0)
    assert padded.shape == (1, 4, 32) and torch.equal(padded[0, :3], ctx) and not padded[0, 3].any()
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w.safetensors"), "pt") as f:
        meta = f.metadata()
    assert "seeded initialisation" in meta["gvcodec.codec"] and meta["gvcodec.text_context"].startswith("stored")

    clip = sequence("bus_352x288_17f_yuv420p.yuv")
    enc = run_cli("encode", "-c", CFG / "lowdelay.cfg", f"--Model={TINY}", "--ModelWeights=w.safetensors", "-i", clip,
                  "-wdt", 352, "-hgt", 288, "-fr", 30, "-f", 5, "-q", 32, "--GOPFrames=5", "--FlowSteps=1",
                  "--Threads=1", "-b", "s.gvc", "-o", "rec.yuv", check_rc=0)
    assert enc.stdout.count("POC") >= 5
    dec = run_cli("decode", "-b", "s.gvc", "-o", "dec.yuv", "--ModelWeights=w.safetensors", "--Threads=1", check_rc=0)
    assert len(MD5_OK.findall(dec.stdout)) == 5
    assert (tmp_path / "rec.yuv").read_bytes() == (tmp_path / "dec.yuv").read_bytes()
    # The stored context is part of the weights: the seeded-context model is another model.
    other = run_cli("decode", "-b", "s.gvc", "-o", "x.yuv", check_rc=1)
    assert other.stderr.count("\n") == 1 and "weights" in other.stderr


def test_t2v_import_leaves_the_adapter_at_init_and_warns(source, wan_files, run_cli, tmp_path):
    proc = cli_ok(run_cli, f"--VaeWeights={wan_files / 'Wan2.1_VAE.pth'}", f"--DitWeights={wan_files / 't2v.safetensors'}",
                  "-o", "t2v.safetensors")
    assert "no VACE adapter" in proc.stderr and "no --TextContext" in proc.stderr
    model = imported(tmp_path / "t2v.safetensors")
    init = GnvcVd.from_config(TINY, seed=INIT_SEED)
    for k, v in model.dit.state_dict().items():
        expect = (init if k.startswith("vace_") else source).dit.state_dict()[k]
        assert torch.equal(v, expect), k
    assert all(not b.after_proj.weight.any() for b in model.dit.vace_blocks)
    assert model.text_context is None and "text_context" not in model.dit.state_dict()


# -- Diffusers names -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def diffusers_files(tmp_path_factory):
    diffusers = pytest.importorskip("diffusers", reason="diffusers (test extra) writes the Diffusers-format files")
    from gvcodec.models.gnvc_vd.vae.config import load_vae_config
    from gvcodec.models.gnvc_vd.dit.config import load_dit_config

    vcfg, dcfg = load_vae_config(TINY), load_dit_config(TINY)
    torch.manual_seed(11)
    vae = diffusers.AutoencoderKLWan(base_dim=vcfg.dim, z_dim=vcfg.z_dim, dim_mult=list(vcfg.dim_mult),
                                     num_res_blocks=vcfg.num_res_blocks, attn_scales=[],
                                     temperal_downsample=list(vcfg.temporal_downsample)).eval()
    dit = diffusers.WanVACETransformer3DModel(
        patch_size=tuple(dcfg.patch_size), num_attention_heads=dcfg.num_heads, attention_head_dim=dcfg.head_dim,
        in_channels=dcfg.in_dim, out_channels=dcfg.out_dim, text_dim=dcfg.text_dim, freq_dim=dcfg.freq_dim,
        ffn_dim=dcfg.ffn_dim, num_layers=dcfg.num_layers, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        eps=dcfg.eps, vace_layers=list(dcfg.vace_layers), vace_in_channels=dcfg.vace_in_dim).eval()
    randomise(vae, 12)
    randomise(dit, 13)
    folder = tmp_path_factory.mktemp("diffusers")
    vae.save_pretrained(folder / "pipe" / "vae")  # a pipeline folder: vae/ and transformer/
    dit.save_pretrained(folder / "pipe" / "transformer", max_shard_size="300KB")  # sharded, with index JSON
    return folder / "pipe", vae, dit


def test_diffusers_names_import_equal_the_source(diffusers_files, run_cli, tmp_path):
    pipe, vae, dit = diffusers_files
    index = next((pipe / "transformer").glob("*.safetensors.index.json"))
    assert len(json.loads(index.read_text())["weight_map"]) > 0 and len(list(index.parent.glob("*.safetensors"))) > 1
    proc = cli_ok(run_cli, f"--VaeWeights={pipe}", f"--DitWeights={index}", "-o", "d.safetensors")
    assert proc.stdout.count("diffusers names") == 2
    model = imported(tmp_path / "d.safetensors").eval()
    from gvcodec.models.gnvc_vd.public import dit_key_map, vae_key_map

    for ours, theirs, names in ((model.vae, vae, vae_key_map(model.vae)), (model.dit, dit, dit_key_map(model.dit))):
        ref = theirs.state_dict()
        for k, v in ours.state_dict().items():
            assert torch.equal(v, ref[names[k]]), k
    # and numerically: the same pictures and velocities as the Diffusers modules
    video = torch.rand(1, 3, 5, 32, 48) * 2 - 1
    x, ctx, cond = torch.randn(1, 16, 2, 4, 6), torch.randn(1, 4, 32), torch.randn(1, 32, 2, 4, 6)
    with torch.no_grad():
        torch.testing.assert_close(model.vae.encode(video), vae.encode(video).latent_dist.mean, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.vae.decode(model.vae.encode(video)), vae.decode(vae.encode(video).latent_dist.mean).sample,
                                   atol=1e-5, rtol=1e-5)
        v_ref = dit(x, torch.tensor([500.0]), ctx, control_hidden_states=cond, return_dict=False)[0]
        v = model.dit(x, torch.tensor([500.0]), ctx, vace_context=cond)
        assert (v - v_ref).abs().max() <= 1e-5 * v_ref.abs().max()
    # the folder form of the sharded DiT reads the same
    cli_ok(run_cli, f"--VaeWeights={pipe / 'vae'}", f"--DitWeights={pipe}", "-o", "d2.safetensors")
    a, b = load_file(str(tmp_path / "d.safetensors")), load_file(str(tmp_path / "d2.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- failures: one line naming the file and the first bad key, exit 1, nothing written ----------------
def _bad_vae(wan_files, tmp_path, change) -> Path:
    state = torch.load(wan_files / "Wan2.1_VAE.pth", weights_only=True)
    change(state)
    path = tmp_path / "bad_vae.pth"
    torch.save(state, path)
    return path


@pytest.mark.parametrize("change, words", [
    (lambda s: s.pop("decoder.head.2.bias"), "missing key `decoder.head.2.bias`"),
    (lambda s: s.update({"encoder.extra.weight": torch.zeros(1)}), "unexpected key `encoder.extra.weight`"),
    (lambda s: s.update({"conv2.weight": torch.zeros(16, 16, 1, 1, 2)}), "shape of `conv2.weight`"),
    (lambda s: s.update({"conv2.bias": torch.zeros(16, dtype=torch.int64)}), "dtype of `conv2.bias` is int64"),
])
def test_bad_vae_checkpoints_are_one_line(wan_files, run_cli, tmp_path, change, words):
    bad = _bad_vae(wan_files, tmp_path, change)
    proc = run_cli("import", f"--Model={TINY}", f"--VaeWeights={bad}", f"--DitWeights={wan_files / 'vace.safetensors'}",
                   "-o", "out.safetensors")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr and str(bad) in proc.stderr
    assert not any(tmp_path.glob("*out.safetensors*"))


def test_other_failures_are_one_line(wan_files, run_cli, tmp_path):
    vae, dit = wan_files / "Wan2.1_VAE.pth", wan_files / "vace.safetensors"
    save_file({"a": torch.zeros(2, 32), "b": torch.zeros(1)}, str(tmp_path / "two.safetensors"))
    save_file({"a": torch.zeros(9, 32)}, str(tmp_path / "long.safetensors"))
    index = tmp_path / "dit.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"patch_embedding.weight": "gone.safetensors"}}))
    cases = [((f"--VaeWeights={vae}", f"--DitWeights={vae}"), f"DiT checkpoint {vae}"),
             ((f"--VaeWeights={vae}", "--DitWeights=nothere.safetensors"), "nothere.safetensors does not exist"),
             ((f"--VaeWeights={vae}", f"--DitWeights={index}"), "gone.safetensors does not exist"),
             ((f"--VaeWeights={vae}", f"--DitWeights={dit}", "--TextContext=two.safetensors"), "holds one tensor"),
             ((f"--VaeWeights={vae}", f"--DitWeights={dit}", "--TextContext=long.safetensors"), "shape of `a` is [9, 32]"),
             ((f"--VaeWeights={vae}",), "needs --DitWeights"),
             ((f"--VaeWeights={vae}", f"--DitWeights={dit}", "--Nope=1"), "unknown option `--Nope'")]
    for args, words in cases:
        proc = run_cli("import", f"--Model={TINY}", *args, "-o", "out.safetensors")
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, (args, proc.stderr)
        assert words in proc.stderr, (words, proc.stderr)
        assert not any(tmp_path.glob("*out.safetensors*"))
