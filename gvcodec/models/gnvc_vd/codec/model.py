"""The contextual latent codec of GNVC-VD: one GOP of Wan-VAE latents <-> one payload.

Latent 0 of a GOP is coded by the ELIC-style `AnchorLatentCodec`; latents 1.. by the
DCVC-RT-style `PredictiveLatentCodec`, each conditioned on the previous *decoded* latent's
feature (latent 1 on the decoded anchor latent). `ContextHead` turns each decoded feature into
the DiT adapter's context f_t. Latents are replicate-padded (bottom/right) to
cfg.pad_multiple and the outputs cropped back.

GOP payload: varint number of latents, then per latent a self-delimiting block (varint part
count, then varint length + bytes per part: z, then the y steps), so the engine can attribute
bits per latent. Decoding is bit-exact on any machine (see `codec_coding` for the design).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gvcodec.entropy.fixedpoint import to_real
from gvcodec.entropy.symbols import _get_varint, _put_varint
from gvcodec.errors import BitstreamError
from gvcodec.models.gnvc_vd.codec.anchor import AnchorLatentCodec
from gvcodec.models.gnvc_vd.codec.coding import pack_parts, pad_to, unpack_parts
from gvcodec.models.gnvc_vd.codec.config import LatentCodecConfig
from gvcodec.models.gnvc_vd.codec.predictive import ContextHead, PredictiveLatentCodec


@dataclass
class CompressedGop:
    """What `LatentCodec.compress` returns.

    Attributes:
        payload: the GOP's bytes.
        symbols: per latent, the coded int32 symbol arrays (z, then y steps), for symbol hashes.
        latents: decoded latents (1, C, T, h, w), bit-identical to what `decompress` gives.
        context: context features f_t (1, context_channels, T, h, w).
        latent_bytes: bytes of each latent's block (the payload is 1-2 bytes of count plus these).
    """

    payload: bytes
    symbols: list[list[torch.Tensor]]
    latents: torch.Tensor
    context: torch.Tensor
    latent_bytes: list[int]


class LatentCodec(nn.Module):
    """Anchor + predictive latent codec with the context head.

    Args:
        cfg: the `codec` section of a model YAML file (`load_codec_config`).
    """

    def __init__(self, cfg: LatentCodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.anchor = AnchorLatentCodec(cfg)
        self.predictive = PredictiveLatentCodec(cfg)
        self.context_head = ContextHead(cfg)

    def update(self) -> None:
        """Freeze after training: z tables (state-dict buffers) and the integer prior-path twins."""
        self.anchor.z_prior.update()
        self.predictive.z_prior.update()
        self.anchor.freeze()
        self.predictive.freeze()

    def _check(self, shape, qp: int) -> None:
        if len(shape) != 5 or shape[0] != 1 or shape[1] != self.cfg.latent_channels or shape[2] < 1:
            raise ValueError(f"expected latents (1, {self.cfg.latent_channels}, T, h, w), got {tuple(shape)}")
        if not 0 <= qp < self.cfg.qp_levels:
            raise ValueError(f"QP index {qp} outside 0..{self.cfg.qp_levels - 1}")

    def _outputs(self, lat_q: list, feat_q: list, qp: int, size) -> tuple[torch.Tensor, torch.Tensor]:
        # Float, output-only: decoded latents (anchor exact, predictive via the recon net) and f_t.
        f, (h, w) = self.cfg.act_frac, size
        dtype = next(self.parameters()).dtype
        outs = [to_real(lat_q[0], f).to(dtype)]
        outs += [self.predictive.reconstruct(to_real(q, f).to(dtype), qp) for q in feat_q[1:]]
        ctx = [self.context_head(to_real(q, f).to(dtype)) for q in feat_q]
        crop = lambda t: torch.stack(t, 2)[..., :h, :w].contiguous()  # noqa: E731
        return crop(outs), crop(ctx)

    @torch.no_grad()
    def compress(self, latents: torch.Tensor, qp: int, check_decode: bool = False) -> CompressedGop:
        """Code one GOP of latents.

        Args:
            latents: (1, C, T, h, w) Wan-VAE latents; latent 0 is the anchor.
            qp: QP index, 0 (coarsest) .. qp_levels - 1.
            check_decode: decode every coded part again and compare (MismatchError).

        Returns:
            CompressedGop (payload, symbols, decoded latents, context features, bytes per latent).
        """
        self._check(latents.shape, qp)
        x = pad_to(latents, self.cfg.pad_multiple)
        head, blocks, symbols, lat_q, feat_q = bytearray(), [], [], [], []
        _put_varint(head, x.shape[2])
        for t in range(x.shape[2]):
            if t == 0:
                parts, sym, q0 = self.anchor.compress(x[:, :, 0], qp, check_decode, "latent 0")
                lat_q.append(q0)
                feat_q.append(self.predictive.adapt_reference(q0, True))
            else:
                ref = self.predictive.adapt_reference(feat_q[-1], False) if t > 1 else feat_q[0]
                parts, sym, fq = self.predictive.compress(x[:, :, t], ref, qp, check_decode, f"latent {t}")
                feat_q.append(fq)
            blocks.append(pack_parts(parts))
            symbols.append(sym)
        out, ctx = self._outputs(lat_q, feat_q, qp, latents.shape[-2:])
        return CompressedGop(bytes(head) + b"".join(blocks), symbols, out, ctx, [len(b) for b in blocks])

    @torch.no_grad()
    def decompress(self, payload: bytes, shape, qp: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode one GOP.

        Args:
            payload: bytes from `compress`.
            shape: (1, C, T, h, w) of the latents.
            qp: the QP index used to encode.

        Returns:
            (decoded latents (1, C, T, h, w), context features (1, context_channels, T, h, w)).

        Raises:
            BitstreamError / MismatchError: truncated, corrupted or foreign payload.
        """
        latents, ctx, _ = self.decompress_with_symbols(payload, shape, qp)
        return latents, ctx

    @torch.no_grad()
    def decompress_with_symbols(self, payload: bytes, shape, qp: int):
        """`decompress` that also returns the decoded symbols (per latent) for symbol hashes."""
        self._check(shape, qp)
        m = self.cfg.pad_multiple
        size = (-(-shape[3] // m) * m, -(-shape[4] // m) * m)
        n, pos = _get_varint(payload, 0)
        if n != shape[2]:
            raise BitstreamError(f"latent payload holds {n} latents, expected {shape[2]}")
        symbols, lat_q, feat_q = [], [], []
        for t in range(n):
            parts, pos = unpack_parts(payload, pos, f"latent {t}")
            if t == 0:
                sym, q0 = self.anchor.decompress(parts, size, qp, "latent 0")
                lat_q.append(q0)
                feat_q.append(self.predictive.adapt_reference(q0, True))
            else:
                ref = self.predictive.adapt_reference(feat_q[-1], False) if t > 1 else feat_q[0]
                sym, fq = self.predictive.decompress(parts, ref, qp, f"latent {t}")
                feat_q.append(fq)
            symbols.append(sym)
        if pos != len(payload):
            raise BitstreamError(f"latent payload has {len(payload) - pos} trailing bytes")
        out, ctx = self._outputs(lat_q, feat_q, qp, shape[-2:])
        return out, ctx, symbols

    def forward(self, latents: torch.Tensor, qp: int, mode: str = "ste") -> dict:
        """Training pass (float twins, differentiable rate).

        Args:
            latents: (B, C, T, h, w).
            qp: QP index.
            mode: quantisation ("ste", "noise", "round").

        Returns:
            {"latents": decoded (B, C, T, h, w), "context": f_t (B, Cf, T, h, w),
             "likelihoods": per latent {"y", "z"}, "bits": per latent total bits (tensors)}.
        """
        h, w = latents.shape[-2:]
        x = pad_to(latents, self.cfg.pad_multiple)
        out = self.anchor(x[:, :, 0], qp, mode)
        lat, liks = [out["x_hat"]], [out["likelihoods"]]
        ref, ctx = out["x_hat"], [self.context_head(self.predictive.feature_adaptor_i(out["x_hat"]))]
        for t in range(1, x.shape[2]):
            out = self.predictive(x[:, :, t], ref, t == 1, qp, mode)
            lat.append(out["x_hat"])
            liks.append(out["likelihoods"])
            ctx.append(self.context_head(out["feature"]))
            ref = out["feature"]
        bits = [sum(-torch.log2(v).sum() for v in lk.values()) for lk in liks]
        crop = lambda t: torch.stack(t, 2)[..., :h, :w]  # noqa: E731
        return {"latents": crop(lat), "context": crop(ctx), "likelihoods": liks, "bits": bits}
