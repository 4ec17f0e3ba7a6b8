"""The GNVC-VD models gvcodec knows by name, and loading one for coding.

A registered name gives a size (a model YAML) and, for trained models, a weights file shipped in
the package. A size without shipped weights runs from its seeded initialisation (useful for
tests, timing and as the starting point of `gvcodec train`, useless for compression) unless
ModelWeights names a file. Encoder and decoder identify the weights by their state digest
(`GnvcVd.weights_digest`), written into the sequence header.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gvcodec.errors import BitstreamError, ModelError
from gvcodec.models.shipped import require_shipped, shipped_path

INIT_SEED = 0  # seed of the initialisation used when no weights are given


@dataclass(frozen=True)
class ModelCard:
    """A registered GNVC-VD model: its size and (for trained models) its shipped weights."""

    config: str
    weights: str | None = None  # file name under gvcodec/weights
    flow_steps: int = 5         # refinement steps when FlowSteps is -1 (chosen by measured RD for trained models)
    context_seed: int = 0       # seed of the DiT's fixed context the weights were trained with

    @property
    def weights_path(self) -> Path | None:
        return shipped_path(self.weights)


MODELS: dict[str, ModelCard] = {
    # our trained default (docs/model-card.md): the tiny size, trained with `gvcodec train`
    # FlowSteps 0: its briefly trained DiT lowered PSNR (measured, docs/model-card.md)
    "gnvc-vd-default": ModelCard("gnvc-vd-tiny", "gnvc-vd-default.safetensors", flow_steps=0),
    "gnvc-vd-tiny": ModelCard("gnvc-vd-tiny"),
    "gnvc-vd-small": ModelCard("gnvc-vd-small"),
    "gnvc-vd-paper": ModelCard("gnvc-vd-paper"),
}


def card(name: str) -> ModelCard:
    if name not in MODELS:
        raise ModelError(f"unknown GNVC-VD model `{name}' (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def weights_for(name: str, override: str = "") -> Path | None:
    """The weights file to use: ModelWeights if given, else the shipped one, else None (seeded init)."""
    if override:
        path = Path(override)
        if not path.is_file():
            raise ModelError(f"weight file {path} does not exist")
        return path
    return require_shipped(name, card(name).weights_path)


@lru_cache(maxsize=2)
def _load(config: str, weights: str, device: str):
    import torch

    from gvcodec.models.gnvc_vd import GnvcVd

    model = GnvcVd.from_config(config, seed=INIT_SEED)
    if weights:
        model.load_weights(weights)
    model.finish_tables()
    model.eval().requires_grad_(False)
    digest = model.weights_digest()
    try:
        model.to(torch.device(device))
    except (RuntimeError, AssertionError) as exc:
        raise ModelError(f"cannot use device `{device}': {str(exc).splitlines()[0]}") from None
    return model, digest


def load_model(name: str, override: str, device: str):
    """(GnvcVd in eval mode on `device`, its 32-byte weights digest, weights path or None)."""
    path = weights_for(name, override)
    model, digest = _load(card(name).config, str(path or ""), device)
    return model, digest, path


def check_stream_model(header, model_digest: bytes, config_hash: bytes, weights: Path | None) -> None:
    """Refuse to decode with other weights or another size than the encoder used."""
    if header.config_hash != config_hash:
        raise BitstreamError(f"stream was coded with another `{header.model}' configuration "
                             f"(config hash {header.config_hash.hex()[:16]}..., this installation has "
                             f"{config_hash.hex()[:16]}...)")
    if header.weights_sha256 != model_digest:
        given = str(weights) if weights else "the seeded initialisation"
        raise ModelError(f"stream was coded with weights {header.weights_sha256.hex()[:16]}..., but "
                         f"{given} is {model_digest.hex()[:16]}...: give the encoder's weights with "
                         f"--ModelWeights")
