"""GNVC-VD's contextual latent codec: the anchor latent coded ELIC-style (`anchor`), the predictive
latents DCVC-RT-style (`predictive`), assembled per GOP in `model` (`LatentCodec`). Their entropy
parameters come from integer twins (`integer`) of the float layers (`layers`), so the coded symbols
are exact on every machine; `coding` holds the step coder and payload packing, `qp_prior` the
per-QP factorized prior, `config` the size."""
