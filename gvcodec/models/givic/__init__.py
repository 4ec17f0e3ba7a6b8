"""GIViC (generative implicit video compression), whole: `config` (size and overfit settings),
`yuv420` (4:2:0 handling), `hgla` (the HGLA diffusion denoiser), `model` (`Givic`), `coding` and
`codec` (per-GOP overfitting and entropy coding), `cards` (registered ids; no torch import),
`loading` (loading one for coding), `summary` (parameter table). See docs/givic.md."""
