"""GIViC (generative implicit video compression): configs, 4:2:0 handling, HGLA diffusion model,
per-GOP coding and overfitting. See docs/givic.md."""
