"""GNVC-VD's causal 3D VAE in the Wan2.1 layout: `config` (size), `causal` (causal convolutions with
their streaming cache), `blocks` (residual, attention, resample), `model` (`Vae3d`)."""
