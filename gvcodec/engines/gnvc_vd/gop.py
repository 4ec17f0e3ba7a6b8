"""How a sequence is cut into GOPs and how a GOP's bits are attributed to its pictures.

GOPs hold 1 + s*k frames (s = the VAE's temporal stride, 4): a 96-frame sequence with GOPFrames
25 is coded as 25 + 25 + 25 + 21, as the seed does. GOPs are filled greedily, so the plan does not
need the sequence length in advance; a last GOP whose length is not 1 + s*k is padded in time
by repeating its last frame, and the padded frames are never output (no frame is dropped).
"""

from __future__ import annotations


def coded_length(frames: int, stride: int = 4) -> int:
    """Frames the VAE codes for a GOP of `frames` pictures: the next 1 + stride*k."""
    if frames < 1:
        raise ValueError("a GOP holds at least one frame")
    return frames + (-(frames - 1)) % stride


def plan_gops(total: int, gop_frames: int) -> list[int]:
    """Pictures per GOP for a sequence of `total` frames (all GOPs full but the last)."""
    full, rest = divmod(total, gop_frames)
    return [gop_frames] * full + ([rest] if rest else [])


def latent_frames(latent: int, stride: int = 4) -> range:
    """The GOP-relative frames produced from latent `latent` (0: frame 0; t: s(t-1)+1 .. s*t)."""
    return range(0, 1) if latent == 0 else range(stride * (latent - 1) + 1, stride * latent + 1)


def picture_bits(header_bytes: int, latent_bytes: list[int], pictures: int, stride: int = 4) -> list[int]:
    """Attribute a GOP payload's bits to its pictures.

    The anchor latent's bits (and the payload's latent-count header) go to the GOP's first
    picture; each predictive latent's bits are spread evenly over the frames it decodes to
    (remainder to the first of them). Bits of frames that only pad the last GOP go to its last
    real picture. The result sums to 8 * (header_bytes + sum(latent_bytes)).
    """
    bits = [0] * pictures
    for t, nbytes in enumerate(latent_bytes):
        frames = latent_frames(t, stride)
        share, extra = divmod(nbytes * 8, len(frames))
        for i, f in enumerate(frames):
            bits[min(f, pictures - 1)] += share + (extra if i == 0 else 0)
    bits[0] += header_bytes * 8
    return bits
