"""Per-unit hash of decoded symbols, carried in the container beside the picture MD5.

The hash covers the integer symbols only (not floats), so it is identical on every
machine that decodes the stream correctly; a mismatch therefore means the entropy
decoding (or the prior path feeding it) diverged, and is reported as such with the unit.
"""

from __future__ import annotations

import hashlib

import numpy as np

from gvcodec.errors import MismatchError

SYMBOL_HASH_SIZE = 16


def _as_numpy(a) -> np.ndarray:
    # torch tensors expose .numpy() after .cpu(); keep torch out of the import path.
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def symbol_hash(*arrays) -> bytes:
    """16-byte blake2b hash of integer symbol arrays (shapes included).

    Each array is hashed as its rank, its shape (int64 little-endian) and its values as
    int32 little-endian in C order, so the result does not depend on dtype, memory
    layout or byte order of the machine.

    Args:
        *arrays: integer numpy arrays or torch tensors (integer-valued floats are
            accepted; non-integer values raise ValueError).

    Returns:
        The 16-byte digest.
    """
    h = hashlib.blake2b(digest_size=SYMBOL_HASH_SIZE, person=b"gvc-symbols")
    h.update(np.array([len(arrays)], dtype="<i8").tobytes())
    for a in arrays:
        a = _as_numpy(a)
        if a.dtype.kind == "f":
            if not np.all(a == np.round(a)):
                raise ValueError("symbol arrays must be integer-valued")
        elif a.dtype.kind not in "iub":
            raise ValueError(f"cannot hash symbols of dtype {a.dtype}")
        if a.size and (a.min() < -(2**31) or a.max() >= 2**31):
            raise ValueError("symbols must fit in int32")
        h.update(np.array([a.ndim, *a.shape], dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(a, dtype="<i4").tobytes())
    return h.digest()


def check_symbol_hash(expected: bytes, *arrays, unit: str) -> None:
    """Compare decoded symbols with the hash the stream carries.

    Args:
        expected: the 16 bytes read from the container.
        *arrays: the decoded symbol arrays, in the order the encoder hashed them.
        unit: what to name in the error (e.g. "unit 12 (frame 7)").

    Raises:
        MismatchError: the hash differs.
    """
    got = symbol_hash(*arrays)
    if got != bytes(expected):
        raise MismatchError(
            f"{unit}: decoded symbols do not match the stream's symbol hash "
            f"(got {got.hex()}, stream has {bytes(expected).hex()}); entropy decoding diverged"
        )
