"""Entropy coder backends: code slot numbers with integer tables, nothing else.

A backend codes an int32 array of *slots* (``0 .. lengths[k]``, the last one being the
escape slot) where element i uses table ``indexes[i]`` of an ``IntTables`` set. Escape
values, skip masks and payload headers live above it (``symbols.py``), so a second backend
(e.g. a C++ rANS) only has to implement ``encode``/``decode`` below.

The constriction ANS backend groups elements by table index and codes each group with one
``Categorical`` model, which is ~6x faster than per-symbol models. The model is built from
the integer frequencies passed as float64 with ``perfect=False``; constriction's fast
quantizer then computes, for a row of n slots with cumulative frequency F_i (total 2**p),
``left_i = floor(F_i * (2**24 - n) / 2**p) + i``. Every step of that is exact in float64
(F_i * (2**24 - n) < 2**44, the divisor is a power of two), so the 24-bit model constriction
codes with is an exact integer function of our table: no float rounding anywhere.
``constriction_model_freqs`` reproduces it in int64 so tests can check the claim.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from gvcodec.errors import BitstreamError
from gvcodec.entropy.tables import IntTables

CONSTRICTION_PRECISION = 24


class EntropyBackend(Protocol):
    """What a coder backend provides (swap in another by implementing these two)."""

    name: str

    def encode(self, slots: np.ndarray, indexes: np.ndarray, tables: IntTables) -> bytes:
        """Code ``slots[i]`` with table ``indexes[i]``; returns the compressed bytes."""

    def decode(self, data: bytes, indexes: np.ndarray, tables: IntTables) -> np.ndarray:
        """Inverse of ``encode``; raises BitstreamError if ``data`` cannot be it."""


def constriction_model_freqs(row: np.ndarray) -> np.ndarray:
    """The 24-bit frequencies constriction derives from one integer table row.

    Args:
        row: integer frequencies summing to a power of two (escape slot included).

    Returns:
        int64 frequencies summing to 2**24 (mirrors constriction's fast quantizer).
    """
    row = np.asarray(row, dtype=np.int64)
    n = row.shape[0]
    total = int(row.sum())
    cum = np.concatenate([[0], np.cumsum(row)[:-1]])
    left = cum * ((1 << CONSTRICTION_PRECISION) - n) // total + np.arange(n)
    return np.diff(np.append(left, 1 << CONSTRICTION_PRECISION))


def group_order(indexes: np.ndarray, num_tables: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable permutation that sorts elements by table index, and the group bounds.

    Args:
        indexes: int array of table indexes (1-D).
        num_tables: K.

    Returns:
        (perm, bounds) with elements of table k at ``perm[bounds[k]:bounds[k+1]]``.
    """
    # uint8/uint16 keys let numpy use its radix sort (much faster than a merge sort).
    key = indexes.astype(np.uint8 if num_tables <= 256 else np.uint16, copy=False)
    perm = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=num_tables)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return perm, bounds


class ConstrictionAnsBackend:
    """ANS (constriction 0.5, 32-bit words, 64-bit state, 24-bit models) backend."""

    name = "constriction-ans"

    def _models(self, tables: IntTables) -> list:
        # Building a Categorical costs ~0.1 ms per table: do it once per table set.
        models = tables.cache.get(self.name)
        if models is None:
            import constriction

            cat = constriction.stream.model.Categorical
            models = [cat(tables.row(k).astype(np.float64), perfect=False) for k in range(tables.num_tables)]
            tables.cache[self.name] = models
        return models

    def encode(self, slots: np.ndarray, indexes: np.ndarray, tables: IntTables) -> bytes:
        """Code slots grouped by table; group 0 decodes first.

        Args:
            slots: int32 (n,) slot numbers, each within its table (escape included).
            indexes: (n,) table index per element.
            tables: the integer tables.

        Returns:
            The ANS words as little-endian bytes (empty for n = 0).
        """
        import constriction

        if slots.shape[0] == 0:
            return b""
        models = self._models(tables)
        perm, bounds = group_order(indexes, tables.num_tables)
        grouped = np.ascontiguousarray(slots[perm], dtype=np.int32)
        coder = constriction.stream.stack.AnsCoder()
        # ANS is a stack: push the last group first so the decoder pops group 0 first.
        for k in range(tables.num_tables - 1, -1, -1):
            a, b = bounds[k], bounds[k + 1]
            if b > a:
                coder.encode_reverse(grouped[a:b], models[k])
        return coder.get_compressed().astype("<u4", copy=False).tobytes()

    def decode(self, data: bytes, indexes: np.ndarray, tables: IntTables) -> np.ndarray:
        """Decode slots for the given per-element table indexes.

        Args:
            data: bytes from ``encode``.
            indexes: (n,) table index per element, as at the encoder.
            tables: the same integer tables.

        Returns:
            int32 (n,) slots.

        Raises:
            BitstreamError: wrong length, invalid words, or data left over / missing.
        """
        import constriction

        n = indexes.shape[0]
        if n == 0:
            if data:
                raise BitstreamError("entropy payload: data present but no symbols expected")
            return np.zeros(0, dtype=np.int32)
        if len(data) % 4:  # empty is valid: slot-0-only input leaves the ANS state untouched
            raise BitstreamError(f"entropy payload: {len(data)} bytes is not a whole number of words")
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        try:
            coder = constriction.stream.stack.AnsCoder(words)
        except ValueError as exc:
            raise BitstreamError(f"entropy payload: {exc}") from None
        models = self._models(tables)
        perm, bounds = group_order(indexes, tables.num_tables)
        grouped = np.empty(n, dtype=np.int32)
        for k in range(tables.num_tables):
            a, b = bounds[k], bounds[k + 1]
            if b > a:
                grouped[a:b] = coder.decode(models[k], int(b - a))
        # A correct stream leaves the coder exactly in its initial state.
        if not coder.is_empty():
            raise BitstreamError("entropy payload: data left after the last symbol (corrupted)")
        slots = np.empty(n, dtype=np.int32)
        slots[perm] = grouped
        return slots
