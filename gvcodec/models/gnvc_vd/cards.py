"""The GNVC-VD models gvcodec knows by name (no torch import here; loading.py loads one).

A registered name gives a size (a model YAML) and, for trained models, a weights file shipped in
the package. A size without shipped weights runs from its seeded initialisation (useful for
tests, timing and as the starting point of `gvcodec train`, useless for compression) unless
ModelWeights names a file. Encoder and decoder identify the weights by their state digest
(`GnvcVd.weights_digest`), written into the sequence header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gvcodec.errors import ModelError
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


CARDS: dict[str, ModelCard] = {
    # our trained default (docs/model-card.md): the tiny size, trained with `gvcodec train`
    # FlowSteps 0: its briefly trained DiT lowered PSNR (measured, docs/model-card.md)
    "gnvc-vd-default": ModelCard("gnvc-vd-tiny", "gnvc-vd-default.safetensors", flow_steps=0),
    "gnvc-vd-tiny": ModelCard("gnvc-vd-tiny"),
    "gnvc-vd-small": ModelCard("gnvc-vd-small"),
    "gnvc-vd-paper": ModelCard("gnvc-vd-paper"),
}


def card(name: str) -> ModelCard:
    if name not in CARDS:
        raise ModelError(f"unknown GNVC-VD model `{name}' (known: {', '.join(sorted(CARDS))})")
    return CARDS[name]


def weights_for(name: str, override: str = "") -> Path | None:
    """The weights file to use: ModelWeights if given, else the shipped one, else None (seeded init)."""
    if override:
        path = Path(override)
        if not path.is_file():
            raise ModelError(f"weight file {path} does not exist")
        return path
    return require_shipped(name, card(name).weights_path)
