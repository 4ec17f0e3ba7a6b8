"""`gvcodec train`: training GNVC-VD models stage by stage (0: VAE, I: latent alignment, II: pixel fine-tuning)
and pretraining GIViC models (stage P).

Modules, one job each:

* `options`: the training option table and HM-style parsing with per-stage YAML sections.
* `manifest`: which videos and images a run uses (MANIFEST.tsv files, folders, files).
* `clips`: random access to frames (raw YUV by seeking, PyAV files decoded or cached as raw YUV).
* `data`: clip and image datasets, the step-indexed sampler, the DataLoader.
* `losses`: rate, distortions, MS-SSIM, conditional flow matching; `perceptual`, `adversarial`: optional terms.
* `families`: what is model-specific (stages, loss module, samples, metadata, conversion) per model family.
* `stages`: what each GNVC-VD stage computes and which parameters it trains; the per-QP lambda table.
* `givic`: the GIViC stage P loss (amortised grids + shared denoiser under the encoder's RD loss) and conversion.
* `optim`: AdamW, warm-up + cosine schedule, EMA.
* `checkpoint`: safetensors checkpoints with config and step inside, sidecar state, RNG states.
* `progress`: rich progress display and the CSV log.
* `distributed`: torchrun / DistributedDataParallel set-up.
* `convert`: freezing the entropy path to fixed point and measuring what it costs in rate.
* `loop`: one stage's training loop; `run`: stages in order, resuming, conversion.
"""
