"""GNVC-VD, whole: the causal 3D VAE (vae/), the contextual latent codec (codec/), the VideoDiT with
its VACE adapter (dit/) and the flow-matching refinement (flow), assembled in `model.GnvcVd`.

* `config`: `GnvcVdConfig`, the three YAML sections of one size, read once, with its digest.
* `cards`: the registered model ids (no torch import); `loading`: loading one for coding.
* `summary` / `complexity`: parameter table and complexity stages for `gvcodec info`.

The engine that codes streams with it is gvcodec.engines.gnvc_vd; training is gvcodec.train.
"""
