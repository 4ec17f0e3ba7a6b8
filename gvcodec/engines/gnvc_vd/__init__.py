"""GNVC-VD as a gvcodec engine: GOPs of frames -> VAE latents -> latent codec payload -> DiT -> frames."""
