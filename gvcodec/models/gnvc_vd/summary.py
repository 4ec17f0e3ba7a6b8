"""GNVC-VD's parameter table for `gvcodec info --model` (built on the meta device)."""

from __future__ import annotations

from gvcodec.models.summary import count_parameters

# What each GNVC-VD module is checked against (the seed's Table 2 and the public checkpoints).
SEED_GNVC_VD = {"3D VAE": 126_892_531, "latent codec": 53_100_000, "VideoDiT (with adapter)": 2_154_500_000,
                "total": 2_334_500_000}


def parameter_table(name: str) -> tuple[list[tuple[str, str, int]], dict]:
    """(rows, seed figures) for `summary.format_table`: (module, component, parameters) rows of a GNVC-VD
    config built on the meta device.

    Args:
        name: a config in cfg/models (e.g. gnvc-vd-paper) or a YAML path.

    Returns:
        Rows per component, a subtotal row per module ("" component) and a final "total" row.
        Modules whose config section is not there yet are left out.
    """
    import torch

    from gvcodec.errors import ModelError
    from gvcodec.models.configs import read_model_section
    from gvcodec.models.gnvc_vd.vae.config import load_vae_config
    from gvcodec.models.gnvc_vd.dit.model import build_dit
    from gvcodec.models.gnvc_vd.dit.config import load_dit_config
    from gvcodec.models.gnvc_vd.vae.model import Vae3d

    rows: list[tuple[str, str, int]] = []
    with torch.device("meta"):
        modules = [("3D VAE", Vae3d(load_vae_config(name)))]
        try:
            read_model_section(name, "codec")
        except ModelError:
            pass  # the latent codec section is not written yet: the table shows what exists
        else:
            from gvcodec.models.gnvc_vd.codec.config import load_codec_config
            from gvcodec.models.gnvc_vd.codec.model import LatentCodec

            modules.append(("latent codec", LatentCodec(load_codec_config(name))))
        modules.append(("VideoDiT (with adapter)", build_dit(load_dit_config(name), device="meta")))
    total = 0
    for module, model in modules:
        counts = count_parameters(model)
        rows += [(module, part, n) for part, n in counts.items() if part != "total"]
        rows.append((module, "", counts["total"]))
        total += counts["total"]
    rows.append(("total", "", total))
    return rows, SEED_GNVC_VD
