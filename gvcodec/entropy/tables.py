"""Integer frequency tables: the only thing the entropy coder ever sees.

A table set holds K integer distributions ("tables"). Table k covers the symbols
``offsets[k] .. offsets[k] + lengths[k] - 1`` with frequencies ``freqs[k, :lengths[k]]``
and has one more slot, ``freqs[k, lengths[k]]``, for the escape symbol. Each row sums
exactly to ``2**precision`` and every slot is at least 1, so any symbol can be coded.

Tables are built once (from floats, at model construction or freeze time) and then stored
with the model as integer buffers; decoding only ever reads the stored integers, so the
build-time float maths (erfc, the learned CDF) never has to be reproduced bit-exactly on
another machine. ``table_hash`` names a table set so a payload can refuse the wrong one.

The Gaussian scale table is log-spaced; a scale is mapped to its table index by integer
comparisons against integer thresholds (``ScaleTable.fixed_thresholds``), never by a log.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

DEFAULT_PRECISION = 16
MAX_PRECISION = 20  # constriction codes at 24 bits; see coder.py for why <= 24 is exact
DEFAULT_TAIL_MASS = 1e-9


@dataclass
class IntTables:
    """A set of K integer frequency tables with an escape slot each.

    Attributes:
        freqs: int32 (K, N) frequencies; row k uses its first ``lengths[k] + 1`` entries.
        offsets: int32 (K,) first symbol value covered by table k.
        lengths: int32 (K,) number of regular symbols in table k (escape slot excluded).
        precision: every row sums to ``2**precision``.
        cache: per-backend prepared models (filled lazily by a backend, never serialized).
    """

    freqs: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    precision: int = DEFAULT_PRECISION
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.freqs = np.ascontiguousarray(self.freqs, dtype=np.int32)
        self.offsets = np.ascontiguousarray(self.offsets, dtype=np.int32)
        self.lengths = np.ascontiguousarray(self.lengths, dtype=np.int32)
        validate_tables(self.freqs, self.offsets, self.lengths, self.precision)

    def __getstate__(self) -> dict:
        # Backend models (constriction objects) are neither picklable nor worth copying.
        state = dict(self.__dict__)
        state["cache"] = {}
        return state

    @property
    def num_tables(self) -> int:
        return int(self.lengths.shape[0])

    def row(self, k: int) -> np.ndarray:
        """Frequencies of table k including its trailing escape slot."""
        return self.freqs[k, : int(self.lengths[k]) + 1]

    def digest(self) -> bytes:
        """16-byte hash of the integer content (what a payload refers to)."""
        return table_hash(self)


def validate_tables(freqs: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, precision: int) -> None:
    """Check the invariants the coder relies on; raise ValueError if one fails.

    Args:
        freqs, offsets, lengths, precision: as in ``IntTables``.
    """
    if not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be in 1..{MAX_PRECISION}, got {precision}")
    if freqs.ndim != 2 or offsets.shape != lengths.shape or lengths.shape[0] != freqs.shape[0]:
        raise ValueError("freqs must be (K, N) with offsets and lengths of shape (K,)")
    if np.any(lengths < 1) or np.any(lengths + 1 > freqs.shape[1]):
        raise ValueError("every table needs 1..N-1 regular symbols plus the escape slot")
    used = np.arange(freqs.shape[1])[None, :] <= lengths[:, None]
    if np.any(freqs[used] < 1) or np.any(freqs[~used] != 0):
        raise ValueError("used slots must be >= 1 and unused padding must be 0")
    if np.any(freqs.sum(axis=1, dtype=np.int64) != (1 << precision)):
        raise ValueError(f"every table must sum to 2**{precision}")


def table_hash(tables: IntTables) -> bytes:
    """Hash of a table set's integers (little-endian), 16 bytes.

    Args:
        tables: the table set.

    Returns:
        blake2b-128 digest over precision, offsets, lengths and the used frequencies.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(np.array([tables.precision, tables.num_tables], dtype="<i8").tobytes())
    h.update(tables.offsets.astype("<i4").tobytes())
    h.update(tables.lengths.astype("<i4").tobytes())
    for k in range(tables.num_tables):
        h.update(tables.row(k).astype("<i4").tobytes())
    return h.digest()


def trimmed_table_row(pmf: np.ndarray, tail_mass: float, precision: int = DEFAULT_PRECISION) -> tuple[np.ndarray, int]:
    """Integer table row of a discrete density: support trimmed, outside mass to the escape slot.

    The support keeps the symbols between the points where the mass outside on each side falls
    below ``tail_mass / 2`` (at least two symbols); the rest goes to the trailing escape slot.

    Args:
        pmf: float masses of consecutive symbols.
        tail_mass: total mass allowed outside the kept support.
        precision: the row sums to ``2**precision``.

    Returns:
        (integer row with its escape slot, index in ``pmf`` of the first kept symbol).
    """
    cdf = np.cumsum(pmf)
    lo = int(np.searchsorted(cdf, tail_mass / 2, side="right"))
    hi = int(np.searchsorted(cdf, cdf[-1] - tail_mass / 2, side="left"))
    hi = min(max(hi, lo + 1), pmf.shape[0] - 1)
    lo = min(lo, hi - 1)
    tail = max(0.0, 1.0 - pmf[lo: hi + 1].sum())
    return quantize_pmf(np.append(pmf[lo: hi + 1], tail), precision), lo


def quantize_pmf(pmf: np.ndarray, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Turn a float PMF into integer frequencies summing to ``2**precision``, each >= 1.

    Largest-remainder rounding: every slot gets 1, the rest of the mass is shared in
    proportion to ``pmf`` by floor, and the leftover units go to the largest fractional
    parts (ties broken by position, so the result is deterministic for a given input).

    Args:
        pmf: non-negative float64 weights (need not be normalized), length n >= 2.
        precision: bits of the total.

    Returns:
        int32 frequencies, same length as ``pmf``.
    """
    pmf = np.asarray(pmf, dtype=np.float64)
    n = pmf.shape[0]
    total = 1 << precision
    if n < 2 or n > total // 2:
        raise ValueError(f"cannot quantize {n} symbols at {precision} bits")
    if not np.all(np.isfinite(pmf)) or np.any(pmf < 0) or pmf.sum() <= 0:
        raise ValueError("pmf must be finite, non-negative and not all zero")
    share = pmf / pmf.sum() * (total - n)
    freqs = np.floor(share).astype(np.int64)
    left = total - n - int(freqs.sum())
    if left > 0:
        order = np.argsort(-(share - freqs), kind="stable")
        freqs[order[:left]] += 1
    return (freqs + 1).astype(np.int32)


def stack_tables(rows: list[np.ndarray], offsets: np.ndarray, precision: int) -> IntTables:
    """Pad per-table frequency rows (escape slot last) into an ``IntTables``.

    Args:
        rows: one int array per table, regular symbols then the escape slot.
        offsets: first symbol value of each table.
        precision: bits of each row's total.

    Returns:
        The table set.
    """
    width = max(r.shape[0] for r in rows)
    freqs = np.zeros((len(rows), width), dtype=np.int32)
    for k, r in enumerate(rows):
        freqs[k, : r.shape[0]] = r
    lengths = np.array([r.shape[0] - 1 for r in rows], dtype=np.int32)
    return IntTables(freqs, np.asarray(offsets, dtype=np.int32), lengths, precision)


def _normal_sf(x: np.ndarray) -> np.ndarray:
    """Upper tail of the standard normal, accurate far into the tail (float64)."""
    return np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in np.ravel(x)]).reshape(np.shape(x))


def gaussian_pmf(scale: float, tail_mass: float = DEFAULT_TAIL_MASS) -> tuple[np.ndarray, int]:
    """Discretized zero-mean Gaussian on +-ceil(scale * z) plus the tail mass as escape.

    Args:
        scale: standard deviation.
        tail_mass: probability left outside the support (goes to the escape slot).

    Returns:
        (pmf with the escape weight last, offset = first symbol value).
    """
    z = _inverse_normal_sf(tail_mass / 2)
    half = max(1, int(math.ceil(scale * z)))
    k = np.arange(-half, half + 1, dtype=np.float64)
    # Symmetric form: P(k) = sf((|k|-0.5)/s) - sf((|k|+0.5)/s) keeps tail precision.
    a = np.abs(k)
    pmf = _normal_sf((a - 0.5) / scale) - _normal_sf((a + 0.5) / scale)
    escape = max(0.0, 1.0 - pmf.sum())
    return np.append(pmf, escape), -half


def _inverse_normal_sf(p: float) -> float:
    """x with P(N(0,1) > x) = p, by bisection (build time only, needs no scipy)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(mid / math.sqrt(2.0)) > p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class ScaleTable:
    """Log-spaced Gaussian scale levels and the thresholds that pick a level.

    Attributes:
        scale_min, scale_max: first and last level.
        levels: number of levels (>= 2).
    """

    scale_min: float = 0.11
    scale_max: float = 64.0
    levels: int = 128

    @property
    def scales(self) -> np.ndarray:
        """The levels, float64, increasing."""
        return np.exp(np.linspace(math.log(self.scale_min), math.log(self.scale_max), self.levels))

    @property
    def thresholds(self) -> np.ndarray:
        """Geometric midpoints between levels (levels - 1 values), float64."""
        s = self.scales
        return np.sqrt(s[:-1] * s[1:])

    def fixed_thresholds(self, frac_bits: int) -> np.ndarray:
        """Integer thresholds for scales given in Q(frac_bits) fixed point.

        ``index = #{t : t <= scale_q}``; ceil makes a fixed-point scale pick the same
        level as its exact real value would.

        Args:
            frac_bits: fractional bits of the fixed-point scale.

        Returns:
            int64 (levels - 1,) thresholds.
        """
        return np.ceil(self.thresholds * float(1 << frac_bits)).astype(np.int64)

    def skip_index(self, threshold: float) -> int:
        """Number of levels whose scale is below ``threshold`` (those are not coded)."""
        return int(np.searchsorted(self.scales, threshold, side="left"))

    def build(self, precision: int = DEFAULT_PRECISION, tail_mass: float = DEFAULT_TAIL_MASS) -> IntTables:
        """Integer tables, one per level (built once, then stored with the model).

        Args:
            precision: bits of each table's total.
            tail_mass: probability mass sent to the escape slot.

        Returns:
            The table set; table k is the Gaussian of scale ``scales[k]``.
        """
        rows, offsets = [], []
        for s in self.scales:
            pmf, off = gaussian_pmf(float(s), tail_mass)
            rows.append(quantize_pmf(pmf, precision))
            offsets.append(off)
        return stack_tables(rows, np.array(offsets), precision)


def index_from_fixed(scale_q: np.ndarray, thresholds_q: np.ndarray) -> np.ndarray:
    """Table index of integer (fixed-point) scales, by integer comparisons only.

    Args:
        scale_q: integer-valued scales in the thresholds' Q format (any int or
            integer-valued float dtype, any shape).
        thresholds_q: int64 increasing thresholds from ``ScaleTable.fixed_thresholds``.

    Returns:
        int32 indexes, same shape.
    """
    q = np.asarray(scale_q)
    if q.dtype.kind == "f":
        if not np.all(q == np.floor(q)):
            raise ValueError("fixed-point scales must be integer-valued")
        q = q.astype(np.int64)
    return np.searchsorted(thresholds_q, q.astype(np.int64, copy=False), side="right").astype(np.int32)


def index_from_float(scales: np.ndarray, table: ScaleTable) -> np.ndarray:
    """Table index of float scales (training / estimation only: not portable).

    Args:
        scales: float scales, any shape.
        table: the scale table.

    Returns:
        int32 indexes, same shape.
    """
    return np.searchsorted(table.thresholds, np.asarray(scales, dtype=np.float64), side="right").astype(np.int32)
