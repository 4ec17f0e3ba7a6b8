"""Reading weight files and loading them strictly, with errors that name the first bad key.

Two formats: `.safetensors` (read without pickle) and torch pickles (`.pth`, `.pt`, `.ckpt`,
read with `weights_only=True`, so a file cannot run code). Common training wrappers
({"state_dict": ...}, {"model": ...}, {"module": ...}, a DistributedDataParallel `module.` prefix)
are unwrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from gvcodec.errors import ModelError

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "module", "ema", "weights")
PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")


def file_stamp(path: str | Path) -> tuple:
    """Size and mtime of a weights file ("" or a missing file: ()), so a cache loads a rewritten file again."""
    import os

    if not path:
        return ()
    try:
        st = os.stat(path)
    except OSError:
        return ()  # the loader names the missing file
    return st.st_size, st.st_mtime_ns


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    # Descend through wrapper dicts until a flat name -> tensor mapping appears.
    for _ in range(4):
        if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            state = {str(k): v for k, v in obj.items()}
            if all(k.startswith("module.") for k in state):
                state = {k[len("module."):]: v for k, v in state.items()}
            return state
        if not isinstance(obj, Mapping):
            break
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    raise ModelError(f"{path} is not a checkpoint: no mapping of parameter names to tensors in it")


def load_state_file(path: str | Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a state dict from a `.safetensors` or torch pickle file.

    Args:
        path: the weight file.
        device: where to put the tensors.

    Returns:
        A flat mapping of parameter names to tensors.

    Raises:
        ModelError: the file is missing, unreadable or holds no name -> tensor mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weight file {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(path), device=str(device))
        elif path.suffix in PICKLE_SUFFIXES:
            obj = torch.load(path, map_location=device, weights_only=True)
        else:
            raise ModelError(f"weight file {path}: unknown format (expected .safetensors or one of "
                             f"{', '.join(PICKLE_SUFFIXES)})")
    except ModelError:
        raise
    except Exception as exc:  # each backend raises its own types for a corrupt or foreign file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path} is not a readable checkpoint: {first_line}") from None
    return _unwrap(obj, path)


def _shape(t: torch.Tensor) -> list[int]:
    return list(t.shape)


def check_state(module: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Raise ModelError naming the first key that would stop a strict load.

    Missing keys are reported first (in the module's order), then shape mismatches, then
    unexpected keys (in the file's order); the message also counts the others.

    Args:
        module: the model to load into (may live on the meta device).
        state: the weights.
        what: a phrase naming the weights, e.g. "Wan2.1 VAE checkpoint x.pth".
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    mismatched = [k for k in expected if k in state and _shape(state[k]) != _shape(expected[k])]
    unexpected = [k for k in state if k not in expected]
    if not (missing or mismatched or unexpected):
        return
    if missing:
        first = f"missing key `{missing[0]}`"
    elif mismatched:
        k = mismatched[0]
        first = f"shape of `{k}` is {_shape(state[k])}, model expects {_shape(expected[k])}"
    else:
        first = f"unexpected key `{unexpected[0]}`"
    counts = [f"{len(v)} {name}" for name, v in
              (("missing", missing), ("shape mismatches", mismatched), ("unexpected", unexpected)) if v]
    raise ModelError(f"{what}: {first} ({', '.join(counts)}; model has {len(expected)} tensors, "
                     f"file has {len(state)})")


def load_into(module: nn.Module, state: Mapping[str, torch.Tensor], what: str, assign: bool = False) -> nn.Module:
    """Load weights strictly, or raise ModelError naming the first bad key.

    Args:
        module: the model.
        state: name -> tensor mapping, e.g. from `load_state_file`.
        what: a phrase naming the weights for messages, e.g. "Wan2.1 VAE checkpoint x.pth".
        assign: take the given tensors as the parameters (needed for a model built on the meta device).

    Returns:
        The module, for chaining.
    """
    check_state(module, state, what)
    try:
        module.load_state_dict(state, strict=True, assign=assign)
    except RuntimeError as exc:  # dtype or device problems the name/shape check cannot see
        raise ModelError(f"{what}: {str(exc).strip().splitlines()[0]}") from None
    return module
