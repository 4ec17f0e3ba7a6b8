"""Neural network models, sized by the YAML files in cfg/models; one sub-package per system.

* `gnvc_vd/`: GNVC-VD whole (3D VAE, latent codec, VideoDiT + VACE, refinement, cards, complexity).
* `givic/`: GIViC whole (config, 4:2:0 handling, HGLA denoiser, per-GOP coding, cards, loading).
* `families`: one record per system (id prefix, cards, engine, train family, parameter table,
  complexity) that the engine registry, `gvcodec info` and `gvcodec train` read (no torch import).

Shared building blocks: `configs` (finding a model YAML and reading a section; no torch import),
`checkpoint` (`load_state_file`, `load_into`: strict loading, errors name the first bad key),
`shipped` (weights files shipped in the package), `summary` (`count_parameters`, the parameter
table format), `complexity` (MAC counting and measuring), `heap` (returning freed memory to the OS).

This package imports nothing, so that reading configs stays cheap.
"""
