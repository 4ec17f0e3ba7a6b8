"""`gvcodec info --model givic-*`: parameter counts per module, built on the meta device."""

from __future__ import annotations

# The seed's Table S4 (parameters, millions) per variant.
SEED_GIVIC_M = {"givic-s": 79, "givic-m": 135, "givic-original": 226}


def parameter_table(name: str) -> tuple[list[tuple[str, str, int]], dict]:
    """(rows, seed figures) for `summary.format_table`: grid encoder, HGLA denoiser (per component),
    the default initial hidden states, and the total."""
    import torch

    from gvcodec.models.givic.config import load_givic_config
    from gvcodec.models.givic.model import Givic
    from gvcodec.models.summary import count_parameters

    with torch.device("meta"):
        model = Givic(load_givic_config(name))
    rows: list[tuple[str, str, int]] = []
    for module, part in (("grid encoder", model.encoder), ("HGLA denoiser", model.denoiser)):
        counts = count_parameters(part)
        rows += [(module, k, n) for k, n in counts.items() if k != "total"]
        rows.append((module, "", counts["total"]))
    rows.append(("initial states S0", "", model.state_init.numel()))
    if model.chroma_down is not None:
        rows.append(("chroma down-sampling", "", sum(p.numel() for p in model.chroma_down.parameters())))
    rows.append(("total", "", sum(p.numel() for p in model.parameters())))
    seed = {"total": SEED_GIVIC_M[name] * 1_000_000} if name in SEED_GIVIC_M else {}
    return rows, seed
