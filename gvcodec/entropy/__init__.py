"""Entropy coding core: integer tables, ANS backend, priors and the exact fixed-point prior path.

Engines use:
- ``GaussianConditional`` / ``FactorizedPrior`` (bottleneck.py): train with ``forward``,
  code with ``compress`` / ``decompress`` / ``check_decode``.
- ``fixedpoint``: integer twins of the layers that choose tables (``from_float``).
- ``symbol_hash`` / ``check_symbol_hash`` (hashing.py): the per-unit symbol hash.
"""

from gvcodec.entropy.bottleneck import FactorizedPrior, GaussianConditional
from gvcodec.entropy.coder import ConstrictionAnsBackend, EntropyBackend
from gvcodec.entropy.hashing import check_symbol_hash, symbol_hash
from gvcodec.entropy.symbols import SymbolCoder, zero_skipped
from gvcodec.entropy.tables import IntTables, ScaleTable

__all__ = [
    "ConstrictionAnsBackend",
    "EntropyBackend",
    "FactorizedPrior",
    "GaussianConditional",
    "IntTables",
    "ScaleTable",
    "SymbolCoder",
    "check_symbol_hash",
    "symbol_hash",
    "zero_skipped",
]
