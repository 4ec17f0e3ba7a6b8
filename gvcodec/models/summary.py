"""Model introspection for `gvcodec info --model`: parameter counts per component."""

from __future__ import annotations

from torch import nn


def count_parameters(module: nn.Module) -> dict[str, int]:
    """Count parameters per top-level child, plus the total.

    Works on models built on the meta device (counts need only shapes).

    Args:
        module: e.g. a `Vae3d` (children encoder, conv1, conv2, decoder).

    Returns:
        {child name: parameter count, ..., "total": sum}, children in registration order;
        parameters held directly by `module` are counted under "(own)".
    """
    counts = {name: sum(p.numel() for p in child.parameters()) for name, child in module.named_children()}
    own = sum(p.numel() for p in module.parameters(recurse=False))
    if own:
        counts["(own)"] = own
    counts["total"] = sum(p.numel() for p in module.parameters())
    return counts


# What each GNVC-VD module is checked against (the seed's Table 2 and the public checkpoints).
SEED_GNVC_VD = {"3D VAE": 126_892_531, "latent codec": 53_100_000, "VideoDiT (with adapter)": 2_154_500_000,
                "total": 2_334_500_000}


def gnvc_vd_table(name: str) -> list[tuple[str, str, int]]:
    """(module, component, parameters) rows of a GNVC-VD config built on the meta device.

    Args:
        name: a config in cfg/models (e.g. gnvc-vd-paper) or a YAML path.

    Returns:
        Rows per component, a subtotal row per module ("" component) and a final "total" row.
        Modules whose config section is not there yet are left out.
    """
    import torch

    from gvcodec.errors import ModelError
    from gvcodec.models.configs import load_vae_config, read_model_section
    from gvcodec.models.dit import build_dit
    from gvcodec.models.dit_config import load_dit_config
    from gvcodec.models.vae3d import Vae3d

    rows: list[tuple[str, str, int]] = []
    with torch.device("meta"):
        modules = [("3D VAE", Vae3d(load_vae_config(name)))]
        try:
            read_model_section(name, "codec")
        except ModelError:
            pass  # the latent codec section is not written yet: the table shows what exists
        else:
            from gvcodec.models.codec_config import load_codec_config
            from gvcodec.models.latent_codec import LatentCodec

            modules.append(("latent codec", LatentCodec(load_codec_config(name))))
        modules.append(("VideoDiT (with adapter)", build_dit(load_dit_config(name), device="meta")))
    total = 0
    for module, model in modules:
        counts = count_parameters(model)
        rows += [(module, part, n) for part, n in counts.items() if part != "total"]
        rows.append((module, "", counts["total"]))
        total += counts["total"]
    rows.append(("total", "", total))
    return rows


def format_table(name: str, rows: list[tuple[str, str, int]], seed_counts: dict | None = None) -> str:
    """The per-module table printed by `gvcodec info --model` (like the seed's Table 2).

    `seed_counts` maps module names (and "total") to the seed's figures (default: GNVC-VD's)."""
    refs = SEED_GNVC_VD if seed_counts is None else seed_counts
    lines = [f"model {name}", f"{'module':<26} {'component':<22} {'parameters':>15} {'M':>10} {'seed (M)':>10}"]
    for module, part, n in rows:
        if part:
            lines.append(f"{'':<26} {part:<22} {n:>15,} {n / 1e6:>10.2f}")
        else:
            seed = refs.get(module)
            ref = f"{seed / 1e6:>10.1f}" if seed else ""
            lines.append(f"{module:<26} {'(all)':<22} {n:>15,} {n / 1e6:>10.2f} {ref}")
    return "\n".join(lines)
