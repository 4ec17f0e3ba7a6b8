"""Conformance of neural pictures: symbols are normative, synthesis is checked within a tolerance.

A neural decoder's entropy decoding is exact on every machine (the unit's symbol hash checks it;
a mismatch is exit 2 naming the unit), but its float synthesis (VAE, DiT, diffusion) may round
differently under another thread count, device or library version, so the picture MD5 only holds
where the encoder ran. In the spirit of JPEG AI's conformance tolerance, each picture of a neural
stream also carries a compact fingerprint of the encoder's reconstruction, and a decoder whose MD5
differs accepts the picture when its own fingerprint is within TOLERANCE.

Fingerprint (FINGERPRINT_ID): the cropped output picture split into a 4x4 grid of cells (luma) and
a 2x2 grid (each chroma plane), each cell's mean sample value scaled to 8 bits and stored as u16 in
1/64 sample: 24 cells, 48 bytes per picture for 4:2:0/4:2:2/4:4:4, 32 bytes for 4:0:0. The
fingerprints of a unit's pictures are appended to the engine payload (in picture order); the
stream announces them with engine parameter `fingerprint`.

TOLERANCE: 0.25 (8-bit sample units, max abs difference of any cell mean). Measured on this CPU
(GNVC-VD-tiny, bus CIF, 9 frames, Threads 1 vs 2): 8 of 9 pictures differ, at most 5 samples
of 152064 and by at most 1, so cell means move by < 0.001; a wrong model, wrong weights or a
corrupted synthesis moves them by whole samples.
"""

from __future__ import annotations

import numpy as np

FINGERPRINT_ID = "grid4x4-2x2-u16q64"
TOLERANCE = 0.25
SCALE = 64
GRIDS = (4, 2, 2)


def fingerprint_size(num_planes: int) -> int:
    return 2 * sum(GRIDS[i] ** 2 for i in range(num_planes))


def fingerprint(planes, bit_depth: int) -> np.ndarray:
    """Cell means of each plane (8-bit scale, float64), luma 4x4 then chroma 2x2 grids."""
    out = []
    norm = float(1 << (bit_depth - 8))
    for plane, grid in zip(planes, GRIDS):
        p = np.asarray(plane, np.float64)
        for rows in np.array_split(p, grid, axis=0):
            for cell in np.array_split(rows, grid, axis=1):
                out.append(cell.mean() / norm if cell.size else 0.0)
    return np.array(out)


def pack(fp: np.ndarray) -> bytes:
    q = np.clip(np.round(fp * SCALE), 0, 65535).astype("<u2")
    return q.tobytes()


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, "<u2").astype(np.float64) / SCALE


def difference(picture_planes, bit_depth: int, stored: bytes) -> float:
    """Max abs difference between a decoded picture's fingerprint and the stored one (8-bit units)."""
    return float(np.max(np.abs(np.round(fingerprint(picture_planes, bit_depth) * SCALE) / SCALE - unpack(stored))))


def split_payload(payload: bytes, count: int, num_planes: int) -> tuple[bytes, list[bytes]]:
    """(engine payload, the unit's per-picture fingerprints); raises ValueError when too short."""
    size = fingerprint_size(num_planes)
    total = size * count
    if len(payload) < total:
        raise ValueError(f"payload of {len(payload)} bytes cannot hold {count} picture fingerprints")
    body, tail = payload[:len(payload) - total], payload[len(payload) - total:]
    return body, [tail[i * size:(i + 1) * size] for i in range(count)]


__all__ = ["FINGERPRINT_ID", "TOLERANCE", "fingerprint", "pack", "unpack", "difference", "split_payload",
           "fingerprint_size"]
