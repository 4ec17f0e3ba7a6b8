"""The GIViC models gvcodec knows by name: a size (a model YAML) and, for trained models, a weights
file shipped in the package. No torch import here.

A size without shipped weights runs from its seeded initialization unless ModelWeights names a
file (docs/givic.md). Trained cards name the YAML their weights were trained with, which is also
the model name recorded in the checkpoint's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gvcodec.errors import ModelError
from gvcodec.models.shipped import require_shipped, shipped_path


@dataclass(frozen=True)
class GivicCard:
    """A registered GIViC model."""

    config: str                 # model YAML name (cfg/models/<config>.yaml)
    weights: str | None = None  # file name under gvcodec/weights

    @property
    def weights_path(self) -> Path | None:
        return shipped_path(self.weights)


CARDS: dict[str, GivicCard] = {
    "givic-tiny": GivicCard("givic-tiny"),
    "givic-s": GivicCard("givic-s"),
    "givic-m": GivicCard("givic-m"),
    "givic-original": GivicCard("givic-original"),
    # ours: givic-tiny pretrained with `gvcodec train` (stage P) on the CPU, trained on 8-frame
    # clips, so it codes 8-frame GOPs (docs/givic.md, "Shipped weights")
    "givic-default": GivicCard("givic-tiny", "givic-default.safetensors"),
}


def card(name: str) -> GivicCard:
    if name not in CARDS:
        raise ModelError(f"unknown GIViC model `{name}' (known: {', '.join(sorted(CARDS))})")
    return CARDS[name]


def weights_for(name: str, override: str = "") -> str:
    """The weights file to use: ModelWeights if given, else the shipped one, else "" (seeded init)."""
    if override:
        return override
    shipped = require_shipped(name, card(name).weights_path)
    return str(shipped) if shipped else ""
