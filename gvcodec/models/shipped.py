"""Weights files shipped in the package (gvcodec/weights), shared by every engine's model cards.
No torch import here."""

from __future__ import annotations

from pathlib import Path

from gvcodec.errors import ModelError

PACKAGE_WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def shipped_path(filename: str | None) -> Path | None:
    """Where a card's weights file lives (None: the card ships no weights)."""
    return PACKAGE_WEIGHTS / filename if filename else None


def require_shipped(name: str, path: Path | None) -> Path | None:
    """`path` itself, after checking that a shipped file is really installed."""
    if path is not None and not path.is_file():
        raise ModelError(f"model `{name}': its shipped weights {path} are missing from this installation")
    return path
