"""The conversion step: trained weights -> the weights file the codec ships.

1. Take the weights (a training checkpoint's EMA weights when its sidecar has them, else the file's).
2. Measure, on ConvertClips clips of the training data (stage II's crop and frames, a fixed seed)
   at the first, middle and last QP index, the rate the float training model estimates (mode
   "round") - then freeze the entropy path (`LatentCodec.update()`: per-QP z tables as
   state-dict buffers, fixed-point twins of every network that chooses tables) and code the same
   latents for real (`LatentCodec.compress`). The relative difference is the rate cost of the
   conversion (fixed-point prior, scale table, range-coder overhead), recorded in the output's
   metadata (`gvcodec.conversion`, JSON) and printed.
3. Check that the first payload decodes to the encoder's latents, then write a plain .safetensors
   state dict (keys vae.*, codec.*, dit.*, entropy tables included) that GnvcVd.load_weights reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gvcodec.errors import MismatchError, ModelError
from gvcodec.train.checkpoint import load_training_weights, read_metadata, save_weights, training_weights


def _clips(opts, count: int) -> list[torch.Tensor]:
    from gvcodec.train.data import ClipSpec, build_dataset

    if not count or not opts.data:
        return []
    spec = ClipSpec(opts.frames, opts.crop, 1, False)
    dataset, _ = build_dataset(opts.data, "", 0.0, spec, seed=12345, per_step=1, cache_dir=opts.cache_dir,
                               max_frames=opts.max_frames)
    return [dataset[i].unsqueeze(0) for i in range(count)]


@torch.no_grad()
def measure_rates(model, clips: list[torch.Tensor], qps: list[int]) -> dict:
    """Estimated (float, before freezing) bits per (clip, QP) index; call before `update()`."""
    est = {}
    for c, video in enumerate(clips):
        latents = model.vae.encode(video)
        for qp in qps:
            est[(c, qp)] = (latents, float(sum(model.codec(latents, qp, "round")["bits"])))
    return est


def convert(src: Path, dst: Path, opts, say=print) -> dict:
    """Convert `src` (checkpoint or stage weights) into final weights at `dst`; returns the rate report."""
    from gvcodec.models.gnvc_vd.model import GnvcVd

    meta = read_metadata(src)
    name = meta.get("gvcodec.model") or opts.model
    model = GnvcVd.from_config(name, seed=opts.seed)
    load_training_weights(model, training_weights(src), f"weights {src}")
    model.eval().requires_grad_(False)
    if opts.fp16:  # round first: the tables and the rate report then describe the weights that ship
        for t in model.parameters():
            t.data = t.data.half().float()
    levels = model.codec.cfg.qp_levels
    qps = sorted({0, levels // 2, levels - 1})
    clips = _clips(opts, opts.convert_clips)
    pixels = sum(v.shape[2] * v.shape[3] * v.shape[4] for v in clips)
    estimates = measure_rates(model, clips, qps)
    model.codec.update()
    report = {"qps": qps, "clips": len(clips), "per_qp": {}}
    first = None
    for qp in qps:
        bits_est = bits_coded = 0.0
        for c in range(len(clips)):
            latents, est = estimates[(c, qp)]
            coded = model.codec.compress(latents, qp)
            if first is None:
                first = (coded, latents.shape, qp)
            bits_est += est
            bits_coded += 8 * len(coded.payload)
        if clips:
            report["per_qp"][str(qp)] = {"bpp_estimated": bits_est / pixels, "bpp_coded": bits_coded / pixels,
                                         "rate_cost": bits_coded / bits_est - 1.0 if bits_est else None}
    if first is not None:
        coded, shape, qp = first
        decoded, _ = model.codec.decompress(coded.payload, shape, qp)
        if not torch.equal(decoded, coded.latents):
            raise MismatchError("conversion check: the decoded latents differ from the encoder's")
    costs = [v["rate_cost"] for v in report["per_qp"].values() if v["rate_cost"] is not None]
    report["rate_cost"] = sum(costs) / len(costs) if costs else None
    metadata = {k: v for k, v in meta.items() if k.startswith("gvcodec.") and k != "gvcodec.format"}
    metadata.update({"gvcodec.stage": "final", "gvcodec.converted_from": str(src),
                     "gvcodec.conversion": json.dumps(report)})
    state = model.state_dict()
    if opts.fp16:
        params = {name for name, _ in model.named_parameters()}  # buffers (tables, scales) stay exact
        state = {k: v.half() if k in params else v for k, v in state.items()}
    save_weights(dst, state, metadata)
    try:  # the output must load into a fresh model of the same size
        GnvcVd.from_config(name).load_weights(dst)
    except ModelError as exc:
        raise ModelError(f"conversion wrote weights that do not load: {exc}") from None
    for qp, v in report["per_qp"].items():
        say(f"convert: QP index {qp}: estimated {v['bpp_estimated']:.5f} bpp, coded {v['bpp_coded']:.5f} bpp, "
            f"rate cost {100 * v['rate_cost']:+.2f} %")
    say(f"convert: wrote {dst}" + ("" if clips else " (no data given: rate cost not measured)"))
    return report
