"""Where the learned metrics find their weights, and how a weight file is read.

No metric downloads anything. Each weight file is looked up, in order, at:

* the path given on the command line (an option of `gvcodec metrics`), then
* the place where the usual package would have put it: torchvision's hub cache for the ImageNet
  trunks (``$TORCH_HOME/hub/checkpoints``, ``$TORCH_HOME`` defaulting to
  ``$XDG_CACHE_HOME/torch`` or ``~/.cache/torch``), the installed ``lpips`` package's data files
  for the LPIPS linear heads (found with ``importlib.util.find_spec``, which does not import it).

A file that is not there, cannot be read or does not hold the expected tensors raises
:class:`WeightsUnavailable` with one line naming the file to provide.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from gvcodec.errors import ModelError

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # torchvision's ImageNet AlexNet (features.* keys)
VGG16_FILE = "vgg16-397923af.pth"  # torchvision's ImageNet VGG16 (features.* keys)


class WeightsUnavailable(ModelError):
    """A metric's weight file is missing, unreadable or of the wrong layout."""


def torch_hub_checkpoints() -> Path:
    """The folder where torchvision stores downloaded weights (``torch.hub.get_dir()/checkpoints``)."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = os.path.join(cache, "torch")
    return Path(home) / "hub" / "checkpoints"


def trunk_path(given: str, file_name: str, option: str) -> Path:
    """An ImageNet trunk: the `given` path, else torchvision's cache copy `file_name`.

    Raises:
        WeightsUnavailable: neither exists.
    """
    if given:
        path = Path(given)
        if not path.is_file():
            raise WeightsUnavailable(f"{option}: no file {given}")
        return path
    path = torch_hub_checkpoints() / file_name
    if not path.is_file():
        raise WeightsUnavailable(f"missing {file_name}: put torchvision's file at {path} or give --{option}=FILE")
    return path


def lpips_heads_path(folder: str, net: str) -> Path:
    """LPIPS v0.1 linear heads `net`.pth: in `folder`, else in the installed lpips package (not imported).

    Raises:
        WeightsUnavailable: the file is in neither place.
    """
    name = f"{net}.pth"
    if folder:
        path = Path(folder) / name
        if not path.is_file():
            raise WeightsUnavailable(f"LpipsWeightsDir: no {name} in {folder}")
        return path
    spec = importlib.util.find_spec("lpips")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "weights" / "v0.1" / name
        if path.is_file():
            return path
    raise WeightsUnavailable(f"missing LPIPS heads {name}: `pip install --no-deps lpips` (for its data files) "
                             "or give --LpipsWeightsDir=DIR holding v0.1 alex.pth and vgg.pth")


def required_path(given: str, option: str, what: str) -> Path:
    """A weight file that has no default place: `given` must name an existing file."""
    if not given:
        raise WeightsUnavailable(f"{what} needs its weights: give --{option}=FILE")
    path = Path(given)
    if not path.is_file():
        raise WeightsUnavailable(f"{option}: no file {given}")
    return path


def read_state_dict(path: Path, what: str) -> dict:
    """Tensors of a .pth/.pt (plain or TorchScript archive) or .safetensors file, on the CPU.

    A dict holding the tensors under ``state_dict`` or ``model`` is unwrapped; a leading
    ``module.`` (DataParallel) is dropped from every key.

    Raises:
        WeightsUnavailable: the file cannot be read as tensors.
    """
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one line for the user
        state = _torchscript_state(path)  # OpenAI's CLIP files are TorchScript archives
        if state is None:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise WeightsUnavailable(f"{what}: cannot read {path}: {first}") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsUnavailable(f"{what}: {path} does not hold a state dict of tensors")
    return {(k[7:] if k.startswith("module.") else k): v.float() if v.is_floating_point() else v
            for k, v in state.items()}


def _torchscript_state(path: Path) -> dict | None:
    """The parameters of a TorchScript archive, or None if `path` is not one."""
    import warnings
    import zipfile

    import torch

    try:
        with zipfile.ZipFile(path) as z:
            if not any(n.endswith("/constants.pkl") or "/code/" in n for n in z.namelist()):
                return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.load is deprecated, but it is how these files load
            return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except Exception:  # noqa: BLE001 - not an archive either: the caller reports the first error
        return None


def take(state: dict, key: str, shape: tuple | None, what: str, path: Path):
    """`state[key]`, checked against `shape` (None entries match any size)."""
    if key not in state:
        raise WeightsUnavailable(f"{what}: {path} has no tensor {key} (wrong file?)")
    t = state[key]
    if shape is not None and (t.dim() != len(shape) or any(s is not None and s != d for s, d in zip(shape, t.shape))):
        want = "x".join("*" if s is None else str(s) for s in shape)
        raise WeightsUnavailable(f"{what}: {path} {key} has shape {tuple(t.shape)}, expected {want} (wrong file?)")
    return t
