"""Importing the public Wan2.1 checkpoints into a GNVC-VD weights file (torch only; no diffusers).

Our VAE and DiT use Wan's original parameter names, so `Wan2.1_VAE.pth` and the original
Wan2.1-T2V-1.3B / VACE-1.3B `.safetensors` load by name. Diffusers-format copies
(`Wan2.1-T2V-1.3B-Diffusers`, `Wan2.1-VACE-1.3B-diffusers`, folders with `config.json` and one or
several `.safetensors` shards plus `*.safetensors.index.json`) use other names; `vae_key_map` and
`dit_key_map` give the one-to-one Wan -> Diffusers correspondence (built from our module tree, and
checked against Diffusers' own converters in tests/models/gnvc_vd/test_wan_reference.py), and the
import reads them backwards.

The latent codec has no public weights: it stays at the seeded initialisation (the one a model
without weights runs from), and the file's metadata says so. A T2V checkpoint has no adapter: the
VACE blocks stay at their initialisation, whose zero output projections make the adapter a no-op.
The DiT's cross-attention context can be stored in the file (`dit.text_context`, [L, text_dim]);
`GnvcVd.context` then returns it instead of the seeded stand-in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from gvcodec.errors import ModelError, OutputError
from gvcodec.models.checkpoint import check_state, load_state_file

TEXT_CONTEXT_KEY = "dit.text_context"
FORMAT = "gvcodec-import/1"

_RESIDUAL = {"residual.0": "norm1", "residual.2": "conv1", "residual.3": "norm2", "residual.6": "conv2",
             "shortcut": "conv_shortcut"}


# -- name maps -----------------------------------------------------------------------------------
def _rename_residual(rest: str) -> str:
    for old, new in _RESIDUAL.items():
        if rest.startswith(old + "."):
            return new + rest[len(old):]
    return rest


def vae_key_map(vae) -> dict[str, str]:
    """Wan name -> Diffusers (`AutoencoderKLWan`) name of every VAE tensor, in our key order.

    Args:
        vae: a `Vae3d` (any device, meta included); the map follows its module tree.
    """
    from gvcodec.models.gnvc_vd.vae.blocks import AttentionBlock, Resample

    if vae.cfg.attn_scales:
        raise ModelError("the Diffusers name map covers VAEs without attention outside the middle blocks")
    prefix = {"encoder.conv1.": "encoder.conv_in.", "decoder.conv1.": "decoder.conv_in.",
              "conv1.": "quant_conv.", "conv2.": "post_quant_conv.",
              "encoder.head.0.": "encoder.norm_out.", "encoder.head.2.": "encoder.conv_out.",
              "decoder.head.0.": "decoder.norm_out.", "decoder.head.2.": "decoder.conv_out."}
    for side in ("encoder", "decoder"):
        prefix[f"{side}.middle.0."] = f"{side}.mid_block.resnets.0."
        prefix[f"{side}.middle.1."] = f"{side}.mid_block.attentions.0."
        prefix[f"{side}.middle.2."] = f"{side}.mid_block.resnets.1."
    for i, _ in enumerate(vae.encoder.downsamples):
        prefix[f"encoder.downsamples.{i}."] = f"encoder.down_blocks.{i}."
    stage, resnet = 0, 0
    for i, layer in enumerate(vae.decoder.upsamples):
        if isinstance(layer, Resample):
            prefix[f"decoder.upsamples.{i}."] = f"decoder.up_blocks.{stage}.upsamplers.0."
            stage, resnet = stage + 1, 0
        elif isinstance(layer, AttentionBlock):
            raise ModelError("the Diffusers name map covers VAEs without attention in the up blocks")
        else:
            prefix[f"decoder.upsamples.{i}."] = f"decoder.up_blocks.{stage}.resnets.{resnet}."
            resnet += 1
    out = {}
    for key in vae.state_dict():
        head = max((p for p in prefix if key.startswith(p)), key=len)
        rest = key[len(head):]
        if ".resnets." in prefix[head] or prefix[head].startswith("encoder.down_blocks."):
            rest = _rename_residual(rest)
        out[key] = prefix[head] + rest
    return out


_DIT_TOP = {"text_embedding.0.": "condition_embedder.text_embedder.linear_1.",
            "text_embedding.2.": "condition_embedder.text_embedder.linear_2.",
            "time_embedding.0.": "condition_embedder.time_embedder.linear_1.",
            "time_embedding.2.": "condition_embedder.time_embedder.linear_2.",
            "time_projection.1.": "condition_embedder.time_proj.",
            "head.head.": "proj_out.", "head.modulation": "scale_shift_table"}
_DIT_BLOCK = {"modulation": "scale_shift_table", "self_attn.": "attn1.", "cross_attn.": "attn2.",
              "norm3.": "norm2.", "ffn.0.": "ffn.net.0.proj.", "ffn.2.": "ffn.net.2.",
              "before_proj.": "proj_in.", "after_proj.": "proj_out."}
_DIT_ATTN = {"q.": "to_q.", "k.": "to_k.", "v.": "to_v.", "o.": "to_out.0."}


def _dit_name(key: str) -> str:
    for old, new in _DIT_TOP.items():
        if key.startswith(old):
            return new + key[len(old):]
    parts = key.split(".", 2)
    if parts[0] not in ("blocks", "vace_blocks") or len(parts) < 3:
        return key  # patch_embedding, vace_patch_embedding
    rest = parts[2]
    for old, new in _DIT_BLOCK.items():
        if rest.startswith(old):
            rest = new + rest[len(old):]
            if new in ("attn1.", "attn2."):
                inner = rest[len(new):]
                for a, b in _DIT_ATTN.items():
                    if inner.startswith(a):
                        rest = new + b + inner[len(a):]
                        break
            break
    return f"{parts[0]}.{parts[1]}.{rest}"


def dit_key_map(dit) -> dict[str, str]:
    """Wan name -> Diffusers (`WanTransformer3DModel` / `WanVACETransformer3DModel`) name, our key order.

    Args:
        dit: a `VideoDiT` (any device, meta included).
    """
    return {key: _dit_name(key) for key in dit.state_dict()}


def _invert(names: Mapping[str, str]) -> dict[str, str]:
    inverse = {v: k for k, v in names.items()}
    if len(inverse) != len(names):
        raise ModelError("internal error: the Diffusers name map is not one-to-one")
    return inverse


# -- reading files -------------------------------------------------------------------------------
def _read_index(index: Path) -> dict[str, torch.Tensor]:
    """A sharded .safetensors set: read every shard the index names and check it holds its keys."""
    try:
        weight_map = json.loads(index.read_text())["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("weight_map is not an object")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{index} is not a sharded-checkpoint index: {exc}") from None
    state: dict[str, torch.Tensor] = {}
    for shard in dict.fromkeys(weight_map.values()):
        path = index.parent / str(shard)
        part = load_state_file(path)
        for key, value in part.items():
            if weight_map.get(key) != shard:
                raise ModelError(f"{path}: unexpected key `{key}` (the index {index.name} does not put it in this shard)")
            state[key] = value
    missing = [k for k in weight_map if k not in state]
    if missing:
        raise ModelError(f"{index.parent / str(weight_map[missing[0]])}: missing key `{missing[0]}` "
                         f"(listed in {index.name}; {len(missing)} missing)")
    return state


def _weights_in_folder(folder: Path, subfolder: str) -> Path:
    """The weights file of a Diffusers model folder (or of a pipeline folder's `subfolder`)."""
    if (folder / subfolder).is_dir() and not any(folder.glob("*.safetensors*")):
        folder = folder / subfolder
    indexes = sorted(folder.glob("*.safetensors.index.json"))
    if len(indexes) == 1:
        return indexes[0]
    files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".pth", ".pt", ".bin"))
    if len(indexes) > 1 or len(files) != 1:
        found = ", ".join(p.name for p in (indexes or files)) or "none"
        raise ModelError(f"{folder}: expected one weights file or one *.safetensors.index.json, found {found}")
    return files[0]


def read_checkpoint(path: str | Path, subfolder: str) -> tuple[dict[str, torch.Tensor], Path]:
    """Read a checkpoint: one file, a sharded set's index JSON, or a folder holding either.

    Args:
        path: the file, index or folder.
        subfolder: the part's folder in a Diffusers pipeline folder ("vae" or "transformer").

    Returns:
        (name -> tensor, the file read: the index for sharded sets).
    """
    path = Path(path)
    if path.is_dir():
        path = _weights_in_folder(path, subfolder)
    if path.name.endswith(".index.json"):
        if not path.is_file():
            raise ModelError(f"weight file {path} does not exist")
        return _read_index(path), path
    return load_state_file(path), path


def _config_json(path: Path) -> dict:
    config = path.parent / "config.json"
    try:
        return json.loads(config.read_text()) if config.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{config} is not readable JSON: {exc}") from None


def _check_dtypes(state: Mapping[str, torch.Tensor], what: str) -> None:
    for key, value in state.items():
        if not value.is_floating_point():
            raise ModelError(f"{what}: dtype of `{key}` is {str(value.dtype).replace('torch.', '')}, "
                             "expected floating point")


def to_wan_names(state: dict[str, torch.Tensor], names: Mapping[str, str], what: str) -> tuple[dict, str]:
    """Rename a Diffusers-named state to Wan names (unchanged if it already uses them).

    Returns:
        (state in Wan names, "wan" or "diffusers").
    """
    state = {k[len("model.diffusion_model."):] if k.startswith("model.diffusion_model.") else k: v
             for k, v in state.items()}
    wan, diffusers = set(names), _invert(names)
    if sum(k in diffusers and k not in wan for k in state) <= sum(k in wan for k in state):
        return state, "wan"
    out = {}
    for key, value in state.items():
        if key not in diffusers:
            raise ModelError(f"{what}: unexpected key `{key}` (not a Diffusers name of this model)")
        out[diffusers[key]] = value
    return out, "diffusers"


# -- the import ----------------------------------------------------------------------------------
def read_text_context(path: str | Path, text_len: int, text_dim: int) -> torch.Tensor:
    """A precomputed cross-attention context: a .safetensors file holding one [L, text_dim] tensor.

    A leading batch of 1 is dropped; L must not exceed text_len (shorter ones are zero-padded when
    used, as Wan pads umT5 outputs). Returned as float32.
    """
    state = load_state_file(path)
    if len(state) != 1:
        keys = ", ".join(f"`{k}`" for k in list(state)[:3])
        raise ModelError(f"{path}: a text context file holds one tensor, this one has {len(state)} ({keys})")
    (key, ctx), = state.items()
    if ctx.dim() == 3 and ctx.shape[0] == 1:
        ctx = ctx[0]
    if ctx.dim() != 2 or ctx.shape[1] != text_dim or not 1 <= ctx.shape[0] <= text_len:
        raise ModelError(f"{path}: shape of `{key}` is {list(ctx.shape)}, expected [L, {text_dim}] with "
                         f"1 <= L <= {text_len}")
    if not ctx.is_floating_point() or not torch.isfinite(ctx).all():
        raise ModelError(f"{path}: `{key}` must be finite floating point (dtype {str(ctx.dtype).replace('torch.', '')})")
    return ctx.float().contiguous()


def _load_part(module: torch.nn.Module, state: dict, names: Mapping[str, str], what: str,
               skip_prefix: str | None = None) -> str:
    state, naming = to_wan_names(state, names, what)
    _check_dtypes(state, what)
    if skip_prefix is not None:
        # Check against the module without the skipped part, then load what the file has.
        class _View(torch.nn.Module):
            def state_dict(self, *args, **kwargs):  # noqa: D102
                return {k: v for k, v in module.state_dict().items() if not k.startswith(skip_prefix)}
        check_state(_View(), state, what)
    else:
        check_state(module, state, what)
    own = module.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            own[key].copy_(value.to(own[key].dtype))
    return naming


def import_public(model_name: str, vae_path: str | Path, dit_path: str | Path, output: str | Path,
                  text_context: str | Path | None = None, say: Callable[[str], None] = print,
                  warn: Callable[[str], None] = print) -> dict[str, str]:
    """Build a GNVC-VD weights file from public Wan2.1 checkpoints.

    Args:
        model_name: a registered GNVC-VD name (its YAML sizes the model; gnvc-vd-paper for the public files).
        vae_path: Wan2.1 VAE: Wan's `Wan2.1_VAE.pth`, or a Diffusers VAE file or folder.
        dit_path: Wan2.1-T2V-1.3B or VACE-1.3B: a .safetensors file, a *.safetensors.index.json, or a folder.
        output: the .safetensors file to write (written to a temporary name, then renamed).
        text_context: a .safetensors file with one [L, text_dim] tensor, or None (seeded context kept).
        say / warn: message sinks.

    Returns:
        The metadata written into the file.
    """
    from gvcodec.models.gnvc_vd.cards import INIT_SEED, card
    from gvcodec.models.gnvc_vd.model import GnvcVd

    output = Path(output)
    if output.suffix != ".safetensors":
        raise OutputError(f"output {output} must be a .safetensors file")
    config = card(model_name).config
    model = GnvcVd.from_config(config, seed=INIT_SEED)
    vae_cfg, dit_cfg = model.vae.cfg, model.dit.cfg
    ctx = read_text_context(text_context, dit_cfg.text_len, dit_cfg.text_dim) if text_context else None

    state, vae_file = read_checkpoint(vae_path, "vae")
    what = f"VAE checkpoint {vae_file}"
    vae_naming = _load_part(model.vae, state, vae_key_map(model.vae), what)
    conf = _config_json(vae_file) if vae_naming == "diffusers" else {}
    for ours, theirs in (("latent_mean", "latents_mean"), ("latent_std", "latents_std")):
        table = getattr(vae_cfg, ours)
        if theirs in conf and table is not None and [round(v, 6) for v in conf[theirs]] != [round(v, 6) for v in table]:
            raise ModelError(f"{vae_file.parent / 'config.json'}: {theirs} differs from the {config} table {ours}")
    del state

    state, dit_file = read_checkpoint(dit_path, "transformer")
    what = f"DiT checkpoint {dit_file}"
    names = dit_key_map(model.dit)
    has_adapter = any(k.startswith("vace_") for k in state)
    if dit_cfg.has_vace and not has_adapter:
        dit_naming = _load_part(model.dit, state, names, what, skip_prefix="vace_")
        adapter = "initialisation (no adapter in the checkpoint; zero output projections: a no-op)"
        warn(f"{dit_file}: no VACE adapter in it (a T2V checkpoint): the {len(dit_cfg.vace_layers)} adapter blocks "
             "keep their initialisation, whose zero output projections make the adapter a no-op until trained")
    else:
        dit_naming = _load_part(model.dit, state, names, what)
        adapter = f"{dit_file}" if dit_cfg.has_vace else "none in this model"
    del state

    if ctx is not None:
        model.set_text_context(ctx)
        context_note = f"stored ({ctx.shape[0]} x {ctx.shape[1]} from {text_context})"
    else:
        context_note = "not stored: the seeded stand-in context (ContextSeed) is used"
        warn("no --TextContext: the DiT keeps the seeded stand-in context (ContextSeed), which public weights "
             "were not trained with; give a precomputed umT5 embedding to store it")
    model.finish_tables()
    metadata = {"gvcodec.format": FORMAT, "gvcodec.model": model_name, "gvcodec.model_config": config,
                "gvcodec.vae": f"{vae_file} ({vae_naming} names)",
                "gvcodec.dit": f"{dit_file} ({dit_naming} names)",
                "gvcodec.vace_adapter": adapter,
                "gvcodec.codec": f"seeded initialisation (seed {INIT_SEED}), not trained: no public weights exist",
                "gvcodec.text_context": context_note}
    save_state(output, model.state_dict(), metadata)
    say(f"import: wrote {output}: VAE from {vae_file} ({vae_naming} names), DiT from {dit_file} "
        f"({dit_naming} names), latent codec at its seeded initialisation, text context {context_note.split(':')[0]}")
    return metadata


def save_state(path: Path, state: Mapping[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write .safetensors atomically: a temporary file in the target folder, renamed when complete."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
