"""Preference percentages per codec pair, with Wilson score confidence intervals.

For a pair (A, B) shown n times, of which A was chosen k times, the share p = k / n is reported
with the Wilson score interval (Wilson 1927), which, unlike the normal-approximation interval,
stays inside [0, 1] and keeps close to its nominal coverage for small n and shares near 0 or 1:

    centre = (p + z^2 / (2n)) / (1 + z^2 / n)
    half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

with z the standard normal quantile of 1 - alpha/2 (1.959964 for 95 %). B's interval is A's
mirrored (1 - upper, 1 - lower). The share of choices that went to the left video is reported
the same way, as a check on position bias (about 50 % expected).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Iterable, Sequence

from gvcodec.errors import InputError


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Args:
        successes: k, 0 <= k <= n.
        trials: n > 0.
        confidence: two-sided confidence level in (0, 1).

    Returns:
        (lower, upper) bounds of the proportion.
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes} of {trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p, n = successes / trials, trials
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class PairResult:
    """Choices between codecs `a` and `b` (a < b by name): `a_wins` of `n`, and the interval of a's share."""

    a: str
    b: str
    n: int
    a_wins: int
    low: float
    high: float

    @property
    def a_share(self) -> float:
        return self.a_wins / self.n


def load_choices(paths: Sequence[str | Path]) -> tuple[list[dict], int]:
    """Choice records from server logs and downloaded files, without duplicates (same record id).

    Returns:
        (records, number of duplicates dropped).

    Raises:
        InputError: a file is missing, not JSON, or not a list of choice records.
    """
    records, seen, dups = [], set(), 0
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise InputError(f"cannot read choices {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise InputError(f"choices {path} is not JSON: {exc}") from None
        if not isinstance(data, list):
            raise InputError(f"choices {path} is not a list of choice records")
        for i, r in enumerate(data):
            if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("left", "right", "chosen")) \
                    or r["chosen"] not in (r["left"], r["right"]):
                raise InputError(f"choices {path}: record {i} is not a choice (needs left, right and chosen)")
            key = r.get("id") or json.dumps(r, sort_keys=True)
            if key in seen:
                dups += 1
                continue
            seen.add(key)
            records.append(r)
    return records, dups


def tally(records: Iterable[dict], confidence: float = 0.95) -> list[PairResult]:
    """Per codec pair (sorted by name), how often the first codec was preferred."""
    counts: dict[tuple[str, str], list[int]] = {}
    for r in records:
        a, b = sorted((r["left"], r["right"]))
        c = counts.setdefault((a, b), [0, 0])
        c[0] += 1
        c[1] += r["chosen"] == a
    return [PairResult(a, b, n, k, *wilson_interval(k, n, confidence)) for (a, b), (n, k) in sorted(counts.items())]


def format_tally(records: list[dict], duplicates: int = 0, confidence: float = 0.95) -> str:
    """The tally as text: one line per pair, then the left-position share and the counts."""
    if not records:
        return "no choices recorded\n"
    level = f"{confidence:.0%}"
    pairs = tally(records, confidence)
    width = max(len(f"{p.a} vs {p.b}") for p in pairs)
    lines = [f"Preference per codec pair: share of choices, {level} Wilson score interval in brackets",
             f"{'pair'.ljust(width)}  choices  preferred"]

    def share(name, k, n, lo, hi):
        return f"{name} {100 * k / n:5.1f}% [{100 * lo:5.1f}, {100 * hi:5.1f}]"

    for p in pairs:
        lines.append(f"{f'{p.a} vs {p.b}'.ljust(width)}  {p.n:7d}  {share(p.a, p.a_wins, p.n, p.low, p.high)}   "
                     f"{share(p.b, p.n - p.a_wins, p.n, 1 - p.high, 1 - p.low)}")
    sides = [r for r in records if r.get("side") in ("left", "right")]
    if sides:
        k = sum(r["side"] == "left" for r in sides)
        lo, hi = wilson_interval(k, len(sides), confidence)
        lines.append(f"left video chosen: {100 * k / len(sides):.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] of "
                     f"{len(sides)} choices (about 50% expected without position bias)")
    viewers = {r.get("viewer") for r in records if r.get("viewer")}
    lines.append(f"{len(records)} choices from {len(viewers)} viewer(s)"
                 + (f"; {duplicates} duplicate record(s) ignored" if duplicates else ""))
    return "\n".join(lines) + "\n"
