"""Model YAML files in cfg/models: finding them and reading one section (no torch import here).

A model YAML file has one top-level section per component::

    vae:    # the causal 3D VAE (gvcodec.models.gnvc_vd.vae.config reads it)
      dim: 16
      ...
    codec:  # the latent codec (read elsewhere)
    dit:    # the video DiT (read elsewhere)

Each reader takes only its own section and ignores the others, so components can be added to
the same file independently. Sizes live only here and in the YAML: the model code has none.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from gvcodec.errors import ModelError

MODEL_CFG_DIR = Path(__file__).resolve().parents[2] / "cfg" / "models"
# Where a wheel install puts the same files (pyproject's data-files); used when there is no checkout.
INSTALLED_CFG_DIR = Path(sys.prefix) / "share" / "gvcodec" / "models"


def config_from_section(cls, data: Any, section: str, source: str, nullable: tuple[str, ...] = ()):
    """Build the frozen dataclass `cls` from one YAML section, with one-line errors.

    Args:
        cls: a config dataclass whose fields name the section's keys.
        data: the section's mapping; lists become tuples.
        section: the section's name (vae, codec, dit), for messages.
        source: where the mapping came from, for messages.
        nullable: tuple fields for which YAML null means empty.

    Returns:
        The validated config (its __post_init__ raises ModelError on bad values).
    """
    if not isinstance(data, dict):
        raise ModelError(f"{source}: the `{section}` section must be a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ModelError(f"{source}: unknown {section} key `{unknown[0]}` (known: {', '.join(sorted(known))})")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    for name in nullable:
        if name in values and values[name] is None:
            values[name] = ()
    try:
        return cls(**values)
    except TypeError as exc:
        raise ModelError(f"{source}: {exc}") from None


def resolve_model_cfg(name_or_path: str | Path) -> Path:
    """Find a model YAML file by path or by name in cfg/models.

    Args:
        name_or_path: a path to a .yaml file, or a name such as "gnvc-vd-tiny".

    Returns:
        The path of an existing file.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    for folder in (MODEL_CFG_DIR, INSTALLED_CFG_DIR):
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for d in (MODEL_CFG_DIR, INSTALLED_CFG_DIR) if d.is_dir() for p in d.glob("*.yaml")})
    raise ModelError(f"no model config `{name_or_path}` (known: {', '.join(known) or 'none'})")


def read_model_section(name_or_path: str | Path, section: str) -> dict[str, Any]:
    """Read one top-level section of a model YAML file, ignoring the others.

    Args:
        name_or_path: a path or a name in cfg/models.
        section: the top-level key, e.g. "vae".

    Returns:
        The section's mapping.
    """
    path = resolve_model_cfg(name_or_path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"cannot read model config {path}: {exc}") from None
    if not isinstance(doc, dict) or section not in doc:
        raise ModelError(f"model config {path} has no `{section}` section")
    return doc[section]


def load_section(name_or_path: str | Path, section: str, from_dict):
    """`from_dict(mapping, source=path)` of one section of a model YAML file (a name in cfg/models or a path)."""
    path = resolve_model_cfg(name_or_path)
    return from_dict(read_model_section(path, section), source=str(path))
