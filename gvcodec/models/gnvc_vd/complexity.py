"""GNVC-VD as complexity stages (for `gvcodec info --model gnvc-vd-... --complexity WxH`).

Composed from the model classes (Vae3d, LatentCodec, VideoDiT, flow.refine) of one model YAML,
on a clip padded to a multiple of 64 as the neural engines pad pictures:

encoder
  * VAE encode: the causal 3D VAE's encoder on the clip (frames must be 1 + 4k; 25 in the paper).
  * latent codec: one training-style pass over the GOP's latents (hard rounding) without the
    output-only nets (predictive reconstruction net and head, context head) and the factorized z
    priors (coded through tables): analysis transforms, hyperpriors, entropy-parameter nets,
    and the reference chain the encoder must decode to code the next latent.
decoder
  * latent codec: the same pass without the encoder-only nets (anchor g_a, encoder gain and h_a;
    predictive analysis and hyper encoder) and the z priors: hyper decoders, entropy-parameter
    nets, synthesis / reconstruction and the context head (f_t for the DiT adapter).
  * DiT refinement: `flow.refine` with its default steps and start mix (the defaults of the
    refine function), the fixed cross-attention context and the adapter input cat(latents, f_t).
  * VAE decode: the VAE decoder on the refined latents.

The integer twins of the exact prior path run the same layers as these float nets, so the
counts hold for the coding path too. Rate-control and entropy coding (ANS) are not counted.
"""

from __future__ import annotations

import inspect

import torch

from gvcodec.models.complexity import Stage

PAD = 64  # the neural engines' default PadMultiple


def _pad(n: int) -> int:
    return -(-n // PAD) * PAD


def refine_defaults() -> tuple[int, float]:
    """(steps, start_mix) defaults of `flow.refine`."""
    from gvcodec.models.gnvc_vd.flow import refine

    params = inspect.signature(refine).parameters
    return params["steps"].default, params["start_mix"].default


def gnvc_vd_stages(model: str, width: int, height: int, frames: int, device: str) -> list[Stage]:
    """Encoder and decoder stages of a GNVC-VD config on a frames x height x width clip.

    Args:
        model: config name in cfg/models (gnvc-vd-tiny, -small, -paper) or a YAML path.
        width, height: picture size (padded here to a multiple of 64).
        frames: clip length, 1 + 4k for the Wan VAE.
        device: "meta" to count only, or a real device (seeded random weights) to measure.

    Raises:
        OptionError: frames is not 1 + s k for the VAE's temporal stride s.
    """
    from gvcodec.errors import OptionError
    from gvcodec.models.gnvc_vd.codec.model import LatentCodec
    from gvcodec.models.gnvc_vd.config import load_config
    from gvcodec.models.gnvc_vd.dit.model import build_dit, fixed_context
    from gvcodec.models.gnvc_vd.flow import refine
    from gvcodec.models.gnvc_vd.vae.model import Vae3d

    cfg = load_config(model)
    vae_cfg, codec_cfg, dit_cfg = cfg.vae, cfg.codec, cfg.dit
    s = vae_cfg.temporal_stride
    if frames < 1 or (frames - 1) % s:
        raise OptionError(f"{model} codes clips of 1 + {s}k frames; {frames} is not one (e.g. 25)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        with torch.device(device):
            vae, codec = Vae3d(vae_cfg).eval(), LatentCodec(codec_cfg).eval()
        dit = build_dit(dit_cfg, device=device).eval()
    h, w = _pad(height), _pad(width)
    zs = vae_cfg.spatial_stride
    latent_shape = (1, vae_cfg.z_dim, vae_cfg.latent_frames(frames), h // zs, w // zs)
    video = torch.zeros(1, 3, frames, h, w, device=device)
    latents = torch.zeros(latent_shape, device=device)
    features = torch.zeros(1, codec_cfg.context_channels, *latent_shape[2:], device=device)
    context = fixed_context(dit_cfg, 0).to(device)
    cond = torch.cat([latents, features], 1) if dit_cfg.has_vace else None
    steps, start_mix = refine_defaults()
    a, p = codec.anchor, codec.predictive
    z_priors = (a.z_prior, p.z_prior)
    output_only = (p.recon, p.recon_head, codec.context_head)
    encoder_only = (a.g_a, a.gain_enc, a.h_a, p.enc_in, p.enc_body, p.enc_out, p.q_encoder, p.enc_down,
                    p.hyper_encoder)
    return [
        Stage("encoder", "VAE encode", lambda: vae.encode(video)),
        Stage("encoder", "latent codec", lambda: codec(latents, 0, "round"), output_only + z_priors),
        Stage("decoder", "latent codec", lambda: codec(latents, 0, "round"), encoder_only + z_priors),
        Stage("decoder", f"DiT refinement ({steps} steps)",
              lambda: refine(dit, latents, context, cond, steps=steps, start_mix=start_mix)),
        Stage("decoder", "VAE decode", lambda: vae.decode(latents)),
    ]

