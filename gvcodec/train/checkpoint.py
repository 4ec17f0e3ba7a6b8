"""Training checkpoints: weights as .safetensors with the config and step inside, state in a sidecar.

A checkpoint of stage S at step N is two files in the stage folder:

* `ckpt-000000N.safetensors`: the whole GnvcVd state dict (keys vae.*, codec.*, dit.*), raw
  (not averaged) weights, with metadata `gvcodec.format`, `gvcodec.stage`, `gvcodec.step`,
  `gvcodec.model` (name), `gvcodec.model_config` (the model YAML text) and `gvcodec.config`
  (the stage's options as YAML);
* `ckpt-000000N.state.pt`: optimizer, EMA, discriminator and RNG states (torch, CUDA, numpy,
  Python), read back with `weights_only=True`.

The sidecar is written first and each file is renamed into place complete, so a checkpoint whose
.safetensors exists is whole. Plain weights files (stage outputs, final weights) are a
.safetensors state dict with the same metadata; GnvcVd.load_weights reads them.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

from gvcodec.errors import ModelError
from gvcodec.models.checkpoint import load_into, load_state_file

FORMAT = "gvcodec-train/1"
_NAME = re.compile(r"^ckpt-(\d+)\.safetensors$")


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_weights(path: str | Path, state: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """Write a state dict as .safetensors (atomically) with string metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    meta = {"gvcodec.format": FORMAT, **{k: str(v) for k, v in metadata.items()}}
    _atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a .safetensors file."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ModelError(f"{path} is not a readable .safetensors file: {str(exc).splitlines()[0]}") from None


def rng_state() -> dict:
    """Every global RNG state (torch CPU, CUDA, numpy, Python) in weights_only-loadable types."""
    np_state = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:])}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_path(folder: Path, step: int) -> Path:
    return folder / f"ckpt-{step:08d}.safetensors"


def sidecar(path: Path) -> Path:
    return path.with_name(path.name.replace(".safetensors", ".state.pt"))


def save_checkpoint(folder: Path, step: int, state: dict[str, torch.Tensor], metadata: dict[str, str],
                    train_state: dict, keep: int) -> Path:
    """Write checkpoint `step` (sidecar first) and delete all but the newest `keep`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(folder, step)
    _atomic(sidecar(path), lambda tmp: torch.save(train_state, tmp))
    save_weights(path, state, {**metadata, "gvcodec.step": str(step)})
    for old in list_checkpoints(folder)[:-keep]:
        sidecar(old).unlink(missing_ok=True)
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints of a stage folder, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name)) and sidecar(p).is_file()]
    return [p for _, p in sorted(found)]


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> tuple[dict, dict[str, str], dict]:
    """(state dict, metadata, sidecar state) of a checkpoint."""
    meta = read_metadata(path)
    if not sidecar(path).is_file():
        raise ModelError(f"checkpoint {path} has no sidecar {sidecar(path).name} (optimizer/EMA/RNG state)")
    try:
        train_state = torch.load(sidecar(path), map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise ModelError(f"cannot read {sidecar(path)}: {str(exc).splitlines()[0]}") from None
    return load_state_file(path, device), meta, train_state


# Entropy-table buffers: empty in training, rebuilt at conversion, so never taken from a file.
TABLE_SUFFIXES = ("table_freqs", "table_offsets", "table_lengths")


def load_training_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Load weights strictly, keeping the model's own (empty) entropy tables: they are rebuilt at conversion."""
    prepare = getattr(model, "prepare_state", None)  # optional entries (GNVC-VD: a stored text context)
    if prepare is not None:
        prepare(state)
    own = model.state_dict()
    state = {k: (own[k] if k.endswith(TABLE_SUFFIXES) and k in own else v) for k, v in state.items()}
    load_into(model, state, what)


def training_weights(src: Path) -> dict[str, torch.Tensor]:
    """The weights of a stage output or checkpoint, with its EMA shadow (from the sidecar) where it has one."""
    state = load_state_file(src)
    side = sidecar(src)
    if side.is_file():
        extra = torch.load(side, map_location="cpu", weights_only=True)
        for name, value in extra.get("ema", {}).get("shadow", {}).items():
            state[name] = value.to(state[name].dtype)
    return state
