"""The two priors engines use: ``FactorizedPrior`` (hyper-latents) and ``GaussianConditional``.

Both train with float likelihoods (``forward``) and code with integer tables stored as
buffers in the state dict (``compress`` / ``decompress``). Coding never looks at floats:
the Gaussian takes per-element table indexes that the caller derived from decoded integer
symbols through the fixed-point prior path (``indexes_from_fixed``); the factorized prior
uses the channel as the index.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gvcodec.entropy.coder import EntropyBackend
from gvcodec.entropy.distributions import FactorizedDensity, gaussian_likelihood, quantize
from gvcodec.entropy.symbols import SymbolCoder
from gvcodec.entropy.tables import (
    DEFAULT_PRECISION,
    DEFAULT_TAIL_MASS,
    IntTables,
    ScaleTable,
    trimmed_table_row,
    stack_tables,
)

_TABLE_BUFFERS = ("table_freqs", "table_offsets", "table_lengths")


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class _IntTableModule(nn.Module):
    """Keeps an ``IntTables`` as int32 buffers and a coder for it."""

    def __init__(self, precision: int, backend: EntropyBackend | None) -> None:
        super().__init__()
        self.precision = precision
        # Empty until built; _load_from_state_dict resizes them to the stored shapes.
        self.register_buffer("table_freqs", torch.zeros(0, 1, dtype=torch.int32))
        self.register_buffer("table_offsets", torch.zeros(0, dtype=torch.int32))
        self.register_buffer("table_lengths", torch.zeros(0, dtype=torch.int32))
        self._coder = SymbolCoder(backend)
        self._tables: IntTables | None = None
        self._tables_key: tuple | None = None

    def _set_tables(self, tables: IntTables) -> None:
        # The buffers stay where the module is (the coder reads them once, as numpy, on the CPU).
        dev = self.table_lengths.device
        self.table_freqs = torch.from_numpy(tables.freqs.copy()).to(dev)
        self.table_offsets = torch.from_numpy(tables.offsets.copy()).to(dev)
        self.table_lengths = torch.from_numpy(tables.lengths.copy()).to(dev)
        self._tables, self._tables_key = tables, self._key()

    def _key(self) -> tuple:
        # Rebuild the numpy tables (and the backend's models) only when a buffer changed.
        return tuple((id(getattr(self, n)), getattr(self, n)._version) for n in _TABLE_BUFFERS)

    def int_tables(self) -> IntTables:
        """The integer tables as stored in the buffers (validated)."""
        if self.table_lengths.numel() == 0:
            raise RuntimeError(f"{type(self).__name__}: integer tables not built (call update())")
        if self._tables is None or self._tables_key != self._key():
            self._tables = IntTables(
                _np(self.table_freqs), _np(self.table_offsets), _np(self.table_lengths), self.precision
            )
            self._tables_key = self._key()
        return self._tables

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Table sizes depend on training; take the stored shapes before copying.
        for name in _TABLE_BUFFERS:
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name], dtype=torch.int32))
        self._tables = None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def check_decode(self, data: bytes, symbols, indexes, what: str) -> None:
        """Decode ``data`` and raise MismatchError unless it gives ``symbols`` (--CheckDecode=1)."""
        self._coder.check_decode(data, _np(symbols), _np(indexes), self.int_tables(), what)

    def estimate_bits(self, symbols, indexes, skip_index: int = 0) -> float:
        """Ideal bits of coding ``symbols`` with the integer tables (escape payload excluded).

        Args:
            symbols: integer symbols.
            indexes: table index per symbol.
            skip_index: elements below it cost nothing.

        Returns:
            Sum of -log2(freq / 2**precision).
        """
        t = self.int_tables()
        sym, idx = _np(symbols).reshape(-1).astype(np.int64), _np(indexes).reshape(-1).astype(np.int64)
        keep = idx >= skip_index
        sym, idx = sym[keep], idx[keep]
        rel = sym - t.offsets[idx]
        slot = np.where((rel < 0) | (rel >= t.lengths[idx]), t.lengths[idx], rel)
        return float(np.sum(self.precision - np.log2(t.freqs[idx, slot].astype(np.float64))))


class GaussianConditional(_IntTableModule):
    """Gaussian conditional prior with a log-spaced scale table.

    Args:
        scale_table: the levels (table k codes N(0, scales[k]^2) around the mean).
        index_frac_bits: fractional bits of the fixed-point scales ``indexes_from_fixed`` takes.
        precision: bits of the integer tables.
        tail_mass: mass sent to the escape slot.
        backend: coder backend (constriction ANS by default).
    """

    def __init__(
        self,
        scale_table: ScaleTable = ScaleTable(),
        index_frac_bits: int = 8,
        precision: int = DEFAULT_PRECISION,
        tail_mass: float = DEFAULT_TAIL_MASS,
        backend: EntropyBackend | None = None,
    ) -> None:
        super().__init__(precision, backend)
        self.scale_table = scale_table
        self.index_frac_bits = index_frac_bits
        self.register_buffer("scale_levels", torch.from_numpy(scale_table.scales))
        self.register_buffer("thresholds_q", torch.from_numpy(scale_table.fixed_thresholds(index_frac_bits)))
        self._set_tables(scale_table.build(precision, tail_mass))

    def forward(self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None, mode: str = "noise"):
        """Training / estimation pass.

        Args:
            y: latents.
            scales: predicted scales (float, training path).
            means: predicted means, optional.
            mode: quantization mode (see ``distributions.quantize``).

        Returns:
            (y_hat, likelihoods).
        """
        y_hat = quantize(y, mode, means)
        return y_hat, gaussian_likelihood(y_hat, scales, means, float(self.scale_levels[0]))

    def indexes_from_fixed(self, scale_q: torch.Tensor) -> torch.Tensor:
        """Table indexes of fixed-point scales (Q``index_frac_bits``), by integer comparison.

        Args:
            scale_q: integer (or integer-valued float64) scales from the fixed-point prior path.

        Returns:
            int32 indexes, same shape.
        """
        q = scale_q
        if q.is_floating_point():
            if not torch.equal(q, torch.floor(q)):
                raise ValueError("fixed-point scales must be integer-valued")
        q = q.to(torch.int64).contiguous()
        return torch.searchsorted(self.thresholds_q, q, right=True).to(torch.int32)

    def indexes_from_float(self, scales: torch.Tensor) -> torch.Tensor:
        """Table indexes of float scales. Not portable: for estimation, never for coding."""
        s = self.scale_levels
        mids = torch.sqrt(s[:-1] * s[1:])
        return torch.searchsorted(mids, scales.detach().to(torch.float64).contiguous(), right=True).to(torch.int32)

    def skip_index_for(self, threshold: float) -> int:
        """Skip index for a scale threshold: levels with scale below it are not coded."""
        return int(torch.searchsorted(self.scale_levels, torch.tensor([float(threshold)], dtype=torch.float64,
                                                             device=self.scale_levels.device))[0])

    @staticmethod
    def symbols(y: torch.Tensor, means: torch.Tensor | None = None) -> torch.Tensor:
        """Integer symbols round(y - means) as int32."""
        r = y - means if means is not None else y
        return torch.round(r).to(torch.int32)

    def compress(self, symbols, indexes, skip_index: int = 0) -> bytes:
        """Code int symbols with their table indexes (see ``SymbolCoder.encode``)."""
        return self._coder.encode(_np(symbols), _np(indexes), self.int_tables(), skip_index)

    def decompress(self, data: bytes, indexes: torch.Tensor) -> torch.Tensor:
        """Decode int32 symbols shaped like ``indexes``, on the indexes' device (raises BitstreamError /
        MismatchError). The coder runs on the CPU; only the symbols travel back."""
        out = torch.from_numpy(self._coder.decode(data, _np(indexes), self.int_tables()))
        return out.to(indexes.device) if isinstance(indexes, torch.Tensor) else out


class FactorizedPrior(_IntTableModule):
    """Factorized non-parametric prior for hyper-latents, one integer table per channel.

    Args:
        channels: number of channels C.
        filters: hidden widths of the density MLP.
        max_support: tables cover at most -max_support..max_support (beyond: escape).
        precision, tail_mass, backend: as in ``GaussianConditional``.
    """

    def __init__(
        self,
        channels: int,
        filters: tuple[int, ...] = (3, 3, 3),
        max_support: int = 255,
        precision: int = DEFAULT_PRECISION,
        tail_mass: float = DEFAULT_TAIL_MASS,
        backend: EntropyBackend | None = None,
    ) -> None:
        super().__init__(precision, backend)
        self.channels = channels
        self.max_support = max_support
        self.tail_mass = tail_mass
        self.density = FactorizedDensity(channels, filters)

    def forward(self, z: torch.Tensor, mode: str = "noise"):
        """Training / estimation pass: returns (z_hat, likelihoods)."""
        z_hat = quantize(z, mode)
        return z_hat, self.density.likelihood(z_hat)

    @torch.no_grad()
    def update(self) -> IntTables:
        """Freeze the learned density into per-channel integer tables (stored as buffers).

        Each channel's support is trimmed to where the outside mass on each side is below
        ``tail_mass / 2``; the rest of the mass goes to the escape slot.

        Returns:
            The new tables.
        """
        m = self.max_support
        masses = self.density.bin_masses(-m, m).numpy()
        rows, offsets = [], []
        for c in range(self.channels):
            row, lo = trimmed_table_row(masses[c, :-1], self.tail_mass, self.precision)
            rows.append(row)
            offsets.append(lo - m)
        tables = stack_tables(rows, np.array(offsets), self.precision)
        self._set_tables(tables)
        return tables

    def _indexes(self, shape) -> np.ndarray:
        if len(shape) < 2 or shape[1] != self.channels:
            raise ValueError(f"expected (B, {self.channels}, ...) symbols, got shape {tuple(shape)}")
        idx = np.arange(self.channels, dtype=np.int32).reshape(1, -1, *([1] * (len(shape) - 2)))
        return np.broadcast_to(idx, tuple(shape))

    def compress(self, z_hat) -> bytes:
        """Code integer hyper-latents (B, C, ...) (int or integer-valued float)."""
        z = _np(z_hat)
        if z.dtype.kind == "f":
            if not np.all(z == np.round(z)):
                raise ValueError("z_hat must be integer-valued")
            z = z.astype(np.int64)
        return self._coder.encode(z, self._indexes(z.shape), self.int_tables())

    def decompress(self, data: bytes, shape, device=None) -> torch.Tensor:
        """Decode int32 hyper-latents of the given (B, C, ...) shape (on `device`; default CPU)."""
        out = torch.from_numpy(self._coder.decode(data, self._indexes(tuple(shape)), self.int_tables()))
        return out.to(device) if device is not None else out

    def check_decode(self, data: bytes, z_hat, what: str = "z") -> None:
        """Decode ``data`` and raise MismatchError unless it gives ``z_hat`` (--CheckDecode=1)."""
        z = _np(z_hat)
        super().check_decode(data, z, self._indexes(z.shape), what)
