"""One GNVC-VD size: the vae / codec / dit sections of a model YAML file, read once, with its digest
(no torch import here)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gvcodec.models.configs import resolve_model_cfg
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig, load_codec_config
from gvcodec.models.gnvc_vd.dit.config import DitConfig, load_dit_config
from gvcodec.models.gnvc_vd.vae.config import Vae3dConfig, load_vae_config


@dataclass(frozen=True)
class GnvcVdConfig:
    """The three parts' sizes of one GNVC-VD model YAML file.

    Attributes:
        vae, codec, dit: the parsed sections.
        source: the YAML file they were read from.
    """

    vae: Vae3dConfig
    codec: LatentCodecConfig
    dit: DitConfig
    source: str = ""

    @property
    def digest(self) -> bytes:
        """SHA-256 of the three sections as parsed (formatting and comments do not count); written into
        every stream so a decoder with another size refuses it."""
        parts = [repr(cfg) for cfg in (self.vae, self.codec, self.dit)]
        return hashlib.sha256("\n".join(parts).encode()).digest()


def load_config(name_or_path: str | Path) -> GnvcVdConfig:
    """The GnvcVdConfig of a name in cfg/models or a YAML path (read once per file version)."""
    path = resolve_model_cfg(name_or_path)
    return _load(str(path), os.stat(path).st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> GnvcVdConfig:
    return GnvcVdConfig(load_vae_config(path), load_codec_config(path), load_dit_config(path), path)
