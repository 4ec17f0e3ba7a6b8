"""The neural model families, one record each: every place that asks "which system is this model?"
(engine registry, `gvcodec info`, complexity, `gvcodec train`) reads this table. No torch import here.

A family's parts are named "module:attribute" and imported on first use, so that option parsing and
`--help` never pay for torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gvcodec.errors import ModelError


@dataclass(frozen=True)
class ModelFamily:
    """One neural system.

    Attributes:
        name: the engine id stored in streams ("gnvc-vd", "givic").
        prefix: model ids and model YAML stems of the family start with it.
        section: the top-level section that marks a model YAML of this family (for YAML paths).
        cards: "module:attribute" of the {model id: card} table (no torch import in that module).
        engine: "module:factory" of the engine.
        train: "module:attribute" of the `gvcodec train` family object.
        parameters: "module:function", name -> (rows, seed figures) for `gvcodec info --model`.
        complexity: "module:function", (model, width, height, frames, device) -> stages, or "".
    """

    name: str
    prefix: str
    section: str
    cards: str
    engine: str
    train: str
    parameters: str
    complexity: str = ""

    def part(self, which: str):
        """Import and return one part ("cards", "engine", "train", "parameters", "complexity")."""
        ref = getattr(self, which)
        if not ref:
            raise ModelError(f"{self.name} models have no {which} description")
        module, attr = ref.split(":")
        return getattr(importlib.import_module(module), attr)

    def card_ids(self) -> tuple[str, ...]:
        return tuple(self.part("cards"))


GNVC_VD = ModelFamily(
    name="gnvc-vd", prefix="gnvc-vd", section="vae",
    cards="gvcodec.models.gnvc_vd.cards:CARDS",
    engine="gvcodec.engines.gnvc_vd.engine:GnvcVdEngine",
    train="gvcodec.train.families:GNVC_VD",
    parameters="gvcodec.models.gnvc_vd.summary:parameter_table",
    complexity="gvcodec.models.gnvc_vd.complexity:gnvc_vd_stages",
)
GIVIC = ModelFamily(
    name="givic", prefix="givic", section="givic",
    cards="gvcodec.models.givic.cards:CARDS",
    engine="gvcodec.engines.givic.engine:GivicEngine",
    train="gvcodec.train.families:GIVIC",
    parameters="gvcodec.models.givic.summary:parameter_table",
)
FAMILIES: tuple[ModelFamily, ...] = (GNVC_VD, GIVIC)


def family_named(name: str) -> ModelFamily:
    """The family whose engine id is `name`."""
    for family in FAMILIES:
        if family.name == name:
            return family
    raise ModelError(f"unknown model family `{name}' (known: {', '.join(f.name for f in FAMILIES)})")


@lru_cache(maxsize=64)
def family_of(model: str) -> ModelFamily:
    """The family of a model id, a model YAML name in cfg/models, or a model YAML path.

    Registered ids and names are matched by prefix; a YAML file whose name says nothing is read and
    recognised by its sections (GIViC's `givic:` section, GNVC-VD's `vae:`).

    Raises:
        ModelError: no family claims it.
    """
    model = str(model)
    stem = Path(model).stem if model.endswith((".yaml", ".yml")) else model
    for family in FAMILIES:
        if stem.startswith(family.prefix):
            return family
    from gvcodec.models.configs import read_model_section, resolve_model_cfg

    path = resolve_model_cfg(model)
    for family in FAMILIES[::-1]:  # GIViC files have no `vae:` section, GNVC-VD files no `givic:`
        try:
            read_model_section(path, family.section)
        except ModelError:
            continue
        return family
    raise ModelError(f"model `{model}' belongs to no known family ({', '.join(f.name for f in FAMILIES)})")
