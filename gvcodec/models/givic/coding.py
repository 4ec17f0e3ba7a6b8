"""What one GIViC GOP codes, and its payload: grids, initial hidden states, parameter updates.

Everything coded is an integer tensor, viewed as (channels, elements):

* each latent grid (C, T, H, W) -> C channels;
* the initial hidden states S0 (L, H, dk, dv) -> L * H channels (S0 = state_init + q * state_step);
* each fine-tuned parameter tensor -> 1 channel (param = pretrained + q * param_step).

Every channel is coded with a zero-mean discretized Gaussian whose table index (one byte per
channel, 0 = every symbol is zero and nothing is coded) the encoder picks by counting the bits
of the candidate tables and writes in the payload. The decoder therefore needs nothing but
integers from the stream to choose its tables: the symbols are portable by construction.

Payload (little-endian):

    u8   version (1)
    u8   flags (bit 0: parameter updates present)
    u16  valid frames of the GOP (the rest is temporal padding)
    u32  noise seed of the sampler
    u8[] table index per channel, items in order (grids, states, parameters)
    u32  length of the entropy payload, then the payload (gvcodec.entropy SymbolCoder format)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import torch

from gvcodec.entropy import GaussianConditional, ScaleTable, symbol_hash
from gvcodec.entropy.distributions import gaussian_likelihood
from gvcodec.entropy.tables import index_from_float
from gvcodec.errors import BitstreamError
from gvcodec.models.givic.config import GivicConfig

VERSION = 1
HEAD = struct.Struct("<BBHI")


@dataclass
class GopParams:
    """The per-GOP coded variables, in the integer domain (floats while fitting).

    Attributes:
        grids: latent grids, (C, T, H, W) each.
        state: initial hidden states in units of state_step, (L, H, dk, dv).
        deltas: parameter name -> update in units of param_step (only the fine-tuned subset).
    """

    grids: list[torch.Tensor]
    state: torch.Tensor
    deltas: dict[str, torch.Tensor] = field(default_factory=dict)

    def items(self) -> list[tuple[str, torch.Tensor]]:
        """(name, (channels, elements) view) of every coded tensor, in stream order."""
        out = [(f"grid{i}", g.reshape(g.shape[0], -1)) for i, g in enumerate(self.grids)]
        s = self.state
        out.append(("state", s.reshape(s.shape[0] * s.shape[1], -1)))
        out += [(name, d.reshape(1, -1)) for name, d in self.deltas.items()]
        return out

    def rounded(self) -> "GopParams":
        r = lambda t: torch.round(t.detach())  # noqa: E731
        return GopParams([r(g) for g in self.grids], r(self.state), {k: r(v) for k, v in self.deltas.items()})

    def clone(self) -> "GopParams":
        c = lambda t: t.detach().clone()  # noqa: E731
        return GopParams([c(g) for g in self.grids], c(self.state), {k: c(v) for k, v in self.deltas.items()})


def overfit_names(model, subsets) -> list[str]:
    """Names of the model parameters fine-tuned per GOP for the given subsets, in model order.

    bias: every bias of the denoiser; head: the output projection (and, in the 444_learned
    chroma mode, the down-sampling layer); embed: the patch embedding; ada: the adaLN
    modulation weights.
    """
    chosen = []
    for name, _ in model.named_parameters():
        den = name.startswith("denoiser.")
        if ("bias" in subsets and den and name.endswith(".bias")) or \
           ("head" in subsets and (name.startswith("denoiser.head.") or name.startswith("chroma_down."))) or \
           ("embed" in subsets and name.startswith("denoiser.embed.")) or \
           ("ada" in subsets and den and (".ada." in name or ".ada_out." in name) and name.endswith(".weight")):
            chosen.append(name)
    return chosen


def make_prior(cfg: GivicConfig) -> GaussianConditional:
    return GaussianConditional(ScaleTable(cfg.scale_min, cfg.scale_max, cfg.scale_levels))


def rate_bits(values: torch.Tensor, log_scale: torch.Tensor, scale_min: float) -> torch.Tensor:
    """Bits of (channels, elements) quantized/noisy values under per-channel Gaussians (training proxy)."""
    scale = torch.exp(log_scale).clamp(min=scale_min)[:, None]
    lik = gaussian_likelihood(values, scale, None, scale_min)
    return -torch.log2(lik).sum()


def choose_index(prior: GaussianConditional, symbols: np.ndarray) -> int:
    """Stream table index of one channel: 0 if all zero, else 1 + the cheapest Gaussian table."""
    if not symbols.any():
        return 0
    rms = float(np.sqrt(np.mean(symbols.astype(np.float64) ** 2)))
    k0 = int(index_from_float(np.array([rms]), prior.scale_table)[0])
    n = prior.scale_table.levels
    best, best_bits = k0, None
    for k in range(max(0, k0 - 3), min(n, k0 + 4)):
        bits = prior.estimate_bits(symbols, np.full(symbols.shape, k, np.int32))
        if best_bits is None or bits < best_bits:
            best, best_bits = k, bits
    return best + 1


def encode_gop(prior: GaussianConditional, params: GopParams, valid: int, seed: int) -> tuple[bytes, bytes]:
    """Payload bytes and symbol hash of a GOP's (already rounded) coded variables."""
    indexes, syms, idxs = [], [], []
    for _, t in params.items():
        s = t.detach().cpu().numpy().astype(np.int64)
        if s.size and (s.min() < -(2**31) or s.max() >= 2**31):
            raise ValueError("coded symbols beyond int32")
        s = s.astype(np.int32)
        for ch in s:
            k = choose_index(prior, ch)
            indexes.append(k)
            if k:
                syms.append(ch)
                idxs.append(np.full(ch.shape, k - 1, np.int32))
    flat = np.concatenate(syms) if syms else np.zeros(0, np.int32)
    flat_idx = np.concatenate(idxs) if idxs else np.zeros(0, np.int32)
    data = prior.compress(flat, flat_idx) if flat.size else b""
    flags = 1 if params.deltas else 0
    head = HEAD.pack(VERSION, flags, valid, seed & 0xFFFFFFFF) + bytes(indexes)
    payload = head + struct.pack("<I", len(data)) + data
    return payload, gop_symbol_hash(params, indexes)


def gop_symbol_hash(params: GopParams, indexes) -> bytes:
    arrays = [np.asarray(indexes, np.int32)] + [t.detach().cpu().numpy().astype(np.int64).reshape(-1)
                                                for _, t in params.items()]
    return symbol_hash(*arrays)


@dataclass
class DecodedGop:
    params: GopParams
    valid: int
    seed: int
    indexes: list[int]
    symbol_hash: bytes


def decode_gop(prior: GaussianConditional, payload: bytes, template: GopParams, where: str) -> DecodedGop:
    """Parse a GOP payload; `template` gives the shapes (grids, state, the parameter subset)."""
    if len(payload) < HEAD.size:
        raise BitstreamError(f"{where}: GIViC payload of {len(payload)} bytes has no header")
    version, flags, valid, seed = HEAD.unpack_from(payload, 0)
    if version != VERSION or flags & ~1:
        raise BitstreamError(f"{where}: unknown GIViC payload version {version} / flags {flags}")
    tpl = template if flags & 1 else GopParams(template.grids, template.state, {})
    items = tpl.items()
    n_ch = sum(t.shape[0] for _, t in items)
    pos = HEAD.size
    if len(payload) < pos + n_ch + 4:
        raise BitstreamError(f"{where}: GIViC payload truncated in the table indexes")
    indexes = list(payload[pos:pos + n_ch])
    pos += n_ch
    if max(indexes, default=0) > prior.scale_table.levels:
        raise BitstreamError(f"{where}: table index {max(indexes)} beyond {prior.scale_table.levels} tables")
    (length,) = struct.unpack_from("<I", payload, pos)
    pos += 4
    if pos + length != len(payload):
        raise BitstreamError(f"{where}: GIViC entropy payload is {len(payload) - pos} bytes, header says {length}")
    idx_parts, i = [], 0
    for _, t in items:
        for _ in range(t.shape[0]):
            if indexes[i]:
                idx_parts.append(np.full(t.shape[1], indexes[i] - 1, np.int32))
            i += 1
    flat_idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int32)
    if flat_idx.size:
        flat = prior.decompress(payload[pos:], torch.from_numpy(flat_idx)).numpy()
    else:
        if length:
            raise BitstreamError(f"{where}: GIViC entropy payload present but nothing to decode")
        flat = np.zeros(0, np.int32)
    values, i, off = [], 0, 0
    for _, t in items:
        out = np.zeros(t.shape, np.int64)
        for c in range(t.shape[0]):
            if indexes[i]:
                out[c] = flat[off:off + t.shape[1]]
                off += t.shape[1]
            i += 1
        values.append(torch.from_numpy(out.astype(np.float32)))
    ng = len(tpl.grids)
    grids = [v.reshape(g.shape) for v, g in zip(values[:ng], tpl.grids)]
    state = values[ng].reshape(tpl.state.shape)
    deltas = {name: v.reshape(d.shape) for v, (name, d) in zip(values[ng + 1:], tpl.deltas.items())}
    params = GopParams(grids, state, deltas)
    return DecodedGop(params, valid, seed, indexes, gop_symbol_hash(params, indexes))
