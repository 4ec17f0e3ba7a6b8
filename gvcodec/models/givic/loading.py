"""GIViC weights: checkpoints with metadata (model, GOP length), or the seeded initialization.

`gvcodec train` (stage P, gvcodec/train/givic.py) writes GIViC checkpoints with this metadata. A
model without a weights file is built with a deterministic seeded initialization
(``GivicConfig.init_seed``). That model is NOT trained: it codes real, decodable streams, but its
reconstructions come only from what the per-GOP overfitting learns. The stream records which weights it was coded with (the SHA-256 of the
state in the sequence header, the init kind and seed in the engine parameters), and the
decoder refuses weights that differ.

A checkpoint is a .safetensors file whose metadata names the model and GOP length it was
trained for (``save_weights``); other files (.pth, ...) load without that check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into, load_state_file
from gvcodec.models.givic.config import GivicConfig
from gvcodec.models.givic.model import Givic


def seeded_model(cfg: GivicConfig, device="cpu") -> Givic:
    """The deterministic initialization (CPU generator seeded with cfg.init_seed, then moved)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.init_seed)
        model = Givic(cfg)
    return model.to(device)


def state_sha256(model: torch.nn.Module) -> bytes:
    """SHA-256 over the state dict: names, dtypes, shapes and little-endian bytes, in order."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes())
    return h.digest()


def save_weights(model: Givic, path: str | Path, model_name: str, gop_frames: int) -> None:
    """Write a .safetensors checkpoint with the metadata `load_model` checks."""
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"gvcodec_model": model_name, "gop_frames": str(gop_frames), "config_hash": model.cfg.digest.hex()}
    save_file(state, str(path), metadata=meta)


def read_metadata(path: str | Path) -> dict:
    """The safetensors metadata of a checkpoint ({} for other formats or none)."""
    path = Path(path)
    if path.suffix != ".safetensors" or not path.is_file():
        return {}
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as exc:  # a corrupt file: let load_state_file report it
        del exc
        return {}


def load_model(name: str, cfg: GivicConfig, weights: str = "", gop_frames: int | None = None,
               device="cpu") -> tuple[Givic, bytes, dict]:
    """Build the model of `name` with the given weights (or the seeded initialization).

    Args:
        name: the model id (givic-tiny, ...), checked against a checkpoint's metadata.
        cfg: its architecture.
        weights: checkpoint path; "" = seeded initialization.
        gop_frames: the GOP length to code with, checked against a checkpoint's metadata.
        device: torch device.

    Returns:
        (model, SHA-256 of its state, engine-parameter record of the weights).

    Raises:
        ModelError: the checkpoint is for another model, GOP length or architecture.
    """
    if not weights:
        model = seeded_model(cfg, device)
        return model, state_sha256(model), {"init": "seeded", "init_seed": cfg.init_seed}
    meta = read_metadata(weights)
    if meta.get("gvcodec_model") and meta["gvcodec_model"] != name:
        raise ModelError(f"weights {weights} are for model {meta['gvcodec_model']}, not {name}")
    if gop_frames is not None and meta.get("gop_frames") and int(meta["gop_frames"]) != gop_frames:
        raise ModelError(f"weights {weights} were trained for {meta['gop_frames']}-frame GOPs, "
                         f"not {gop_frames}-frame GOPs (set GOPFrames to {meta['gop_frames']})")
    if meta.get("config_hash") and meta["config_hash"] != cfg.digest.hex():
        raise ModelError(f"weights {weights} were trained with another {name} configuration (config hash differs)")
    with torch.device("meta"):
        model = Givic(cfg)
    # float16 files (gvcodec train --Fp16=1) compute in float32 like every other checkpoint
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_file(weights).items()}
    load_into(model, state, f"GIViC checkpoint {weights}", assign=True)
    model = model.to(device)
    return model, state_sha256(model), {"init": "checkpoint"}
