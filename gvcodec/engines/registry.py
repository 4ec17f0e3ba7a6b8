"""Engines by name. Ids are strings stored verbatim in the stream, never registry positions.

Engines are imported lazily (torch-heavy ones would slow `--help` down).
"""

from __future__ import annotations

import importlib

from gvcodec.errors import ModelError, OptionError
from gvcodec.models.families import FAMILIES, GNVC_VD

# engine id -> (module, factory name, factory kwargs); the neural engines come from their family records
ENGINES: dict[str, tuple[str, str, dict]] = {
    "x264": ("gvcodec.engines.classical.engine", "ClassicalEngine", {"codec": "x264"}),
    "x265": ("gvcodec.engines.classical.engine", "ClassicalEngine", {"codec": "x265"}),
    "svtav1": ("gvcodec.engines.classical.engine", "ClassicalEngine", {"codec": "svtav1"}),
    **{f.name: (*f.engine.split(":"), {}) for f in FAMILIES},
}

# model id -> engine id: every card of every family
MODELS: dict[str, str] = {model: f.name for f in FAMILIES for model in f.card_ids()}

# What `gvcodec encode` uses when neither Codec nor Model is given: our trained model, shipped in
# the package, once its weights pass the quality gate (DEFAULT_MODEL_READY); until then, or in an
# installation without its weights file, the strongest classical codec.
DEFAULT_MODEL = "gnvc-vd-default"
FALLBACK_CODEC = "x265"
# The shipped weights are a first CPU checkpoint that does not yet beat its own seeded
# initialisation in PSNR (docs/model-card.md); flip this when a trained checkpoint does.
DEFAULT_MODEL_READY = False


def default_model_available() -> bool:
    path = GNVC_VD.part("cards")[DEFAULT_MODEL].weights_path  # no torch import
    return DEFAULT_MODEL_READY and path is not None and path.is_file()


def create(engine_id: str):
    """Instantiate the engine registered as `engine_id`."""
    if engine_id not in ENGINES:
        raise ModelError(f"unknown engine `{engine_id}' (known: {', '.join(sorted(ENGINES))})")
    module, factory, kwargs = ENGINES[engine_id]
    return getattr(importlib.import_module(module), factory)(**kwargs)


def resolve(codec: str, model: str) -> str:
    """The engine id for the Codec / Model options (Model wins when both name something)."""
    if model:
        if model not in MODELS:
            known = ", ".join(sorted(MODELS)) or "none registered yet"
            raise OptionError(f"unknown model `{model}' (known: {known})")
        return MODELS[model]
    if not codec:
        return MODELS[DEFAULT_MODEL] if default_model_available() else FALLBACK_CODEC
    if codec not in ENGINES:
        raise OptionError(f"unknown codec `{codec}' (known: {', '.join(sorted(ENGINES))})")
    return codec
