"""Neural network models, sized by the YAML files in cfg/models.

Modules (import them directly; this package imports nothing so that reading configs stays cheap):

* `configs`: `Vae3dConfig`, `load_vae_config`, `read_model_section` (no torch import).
* `vae3d`: `Vae3d`, the causal 3D VAE in the Wan2.1 layout (`encode`, `decode`, `decode_iter`,
  `encode_chunks`, `decode_chunks`); `causal` and `vae_blocks` hold its building blocks.
* `checkpoint`: `load_state_file`, `load_into` (strict loading, errors name the first bad key).
* `summary`: `count_parameters`.
"""
