"""Shared coding machinery of the latent codec: the symmetric step coder, masks and payload framing.

Portable symbols (the design every step uses): the prior path gives, per element, an integer
mean m_q and scale s_q in Q(f) fixed point (f = act_frac), computed from decoded integers only.
The encoder codes ``sym = round(y - m_q / 2**f)`` with table ``indexes_from_fixed(s_q)``; the
decoded value is the integer ``y_hat_q = sym * 2**f + m_q`` (Q(f)), i.e. y_hat = sym + m_q / 2**f
exactly. Only the encoder looks at the float y; everything the decoder computes (indexes,
y_hat_q, and everything fed back into the prior path) is an exact integer function of the
stream, so decoding is bit-exact on any machine, thread count or batch.

`StepCoder` is the one place where encoding and decoding differ: the codecs run the same prior
code for both and hand each coded step to it, so the encoder derives indexes exactly as the
decoder does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gvcodec.entropy.bottleneck import GaussianConditional
from gvcodec.entropy.symbols import _get_varint, _put_varint
from gvcodec.errors import BitstreamError


def gaussian_conditional(scale_table, frac: int) -> GaussianConditional:
    """The Gaussian conditional of the latent codecs (Q(frac) scale indexes)."""
    return GaussianConditional(scale_table, index_frac_bits=frac)


class StepCoder:
    """Codes (encoder) or decodes (decoder) the Gaussian steps of one latent, in call order.

    Args:
        gc: the Gaussian conditional with the integer tables.
        frac: fractional bits of the fixed-point means/scales (act_frac).
        parts: decoder: the payload parts of the steps, in order; None for the encoder.
        check_decode: encoder: decode every part again and compare (MismatchError).
        what: unit name for error messages.
    """

    def __init__(self, gc: GaussianConditional, frac: int, parts: list[bytes] | None = None,
                 check_decode: bool = False, what: str = "latent") -> None:
        self.gc, self.frac, self.check, self.what = gc, frac, check_decode, what
        self.encoding = parts is None
        self.parts: list[bytes] = [] if parts is None else list(parts)
        self.symbols: list[torch.Tensor] = []
        self._next = 0

    def step(self, mask: torch.Tensor, scale_q: torch.Tensor, mean_q: torch.Tensor,
             y: torch.Tensor | None) -> torch.Tensor:
        """Code the elements where `mask` is true; return their Q(frac) y_hat (0 elsewhere).

        Args:
            mask: bool, broadcastable to scale_q's shape.
            scale_q, mean_q: integer-valued float64 Q(frac) scales and means.
            y: encoder: the float values to code (same shape); decoder: None.

        Returns:
            Integer-valued float64 y_hat_q = sym * 2**frac + mean_q on the mask, 0 elsewhere.
        """
        mask = mask.expand_as(scale_q)
        idx = self.gc.indexes_from_fixed(scale_q[mask])
        mean = mean_q[mask]
        name = f"{self.what} step {len(self.symbols)}"
        if self.encoding:
            # The only float step: the encoder's own y against the exact dyadic mean.
            sym = torch.round(y.to(torch.float64)[mask] - mean / float(1 << self.frac)).to(torch.int32)
            data = self.gc.compress(sym, idx)
            if self.check:
                self.gc.check_decode(data, sym, idx, name)
            self.parts.append(data)
        else:
            if self._next >= len(self.parts):
                raise BitstreamError(f"{self.what}: payload has fewer parts than the model codes")
            sym = self.gc.decompress(self.parts[self._next], idx)
            self._next += 1
        self.symbols.append(sym)
        out = torch.zeros_like(scale_q)
        out[mask] = sym.to(torch.float64) * float(1 << self.frac) + mean
        return out

    def finish(self) -> None:
        """Decoder: every part must have been used."""
        if not self.encoding and self._next != len(self.parts):
            raise BitstreamError(f"{self.what}: payload has {len(self.parts)} parts, the model codes {self._next}")


def checkerboard(h: int, w: int, parity: int, device=None) -> torch.Tensor:
    """(1, 1, h, w) bool mask of positions with (i + j) % 2 == parity (0 = anchors)."""
    i = torch.arange(h, device=device).view(-1, 1)
    j = torch.arange(w, device=device).view(1, -1)
    return ((i + j) % 2 == parity).view(1, 1, h, w)


def dual_masks(c: int, h: int, w: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """DCVC-HEM two-step masks over (1, c, h, w): step 0 codes the anchors of the first channel
    half and the non-anchors of the second; step 1 codes the rest."""
    a, n = checkerboard(h, w, 0, device), checkerboard(h, w, 1, device)
    half = c // 2
    m0 = torch.cat([a.expand(1, half, h, w), n.expand(1, c - half, h, w)], dim=1)
    return m0, ~m0


def pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Replicate-pad the last two dims (bottom/right) to a multiple of `multiple`."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if not (ph or pw):
        return x
    pad = (0, pw, 0, ph) if x.dim() == 4 else (0, pw, 0, ph, 0, 0)  # 5-D: leave time alone
    return F.pad(x, pad, mode="replicate")


def pack_parts(parts: list[bytes]) -> bytes:
    """varint count, then varint length + bytes per part (self-delimiting)."""
    out = bytearray()
    _put_varint(out, len(parts))
    for p in parts:
        _put_varint(out, len(p))
        out += p
    return bytes(out)


def unpack_parts(data: bytes, pos: int = 0, what: str = "latent payload") -> tuple[list[bytes], int]:
    """Inverse of `pack_parts` starting at `pos`; returns (parts, position after them)."""
    try:
        n, pos = _get_varint(data, pos)
        if n > len(data) - pos:
            raise BitstreamError(f"{n} parts cannot fit in {len(data) - pos} bytes")
        parts = []
        for _ in range(n):
            length, pos = _get_varint(data, pos)
            if pos + length > len(data):
                raise BitstreamError(f"{what}: part of {length} bytes runs past the end")
            parts.append(bytes(data[pos: pos + length]))
            pos += length
    except BitstreamError as exc:
        raise BitstreamError(f"{what}: {exc}") from None
    return parts, pos
