"""Loading a registered GNVC-VD model for coding, once per process, and checking a stream against it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gvcodec.errors import BitstreamError, ModelError
from gvcodec.models.gnvc_vd.cards import INIT_SEED, card, weights_for


@lru_cache(maxsize=2)
def _load(config: str, weights: str, stamp: tuple, device: str):
    """One load per process for encode's setup and its coder (stamp: the weights file's size and mtime)."""
    import torch

    from gvcodec.models.gnvc_vd.model import GnvcVd

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
    from gvcodec.models.checkpoint import file_stamp

    path = weights_for(name, override)
    model, digest = _load(card(name).config, str(path or ""), file_stamp(path or ""), device)
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
