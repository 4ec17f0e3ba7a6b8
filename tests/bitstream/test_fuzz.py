"""Reliability: mutated real streams of all three engine kinds never fool or stall the decoder.

Each engine's tiny real stream (conftest.real_streams) is mutated with seeded random bit flips,
truncations, insertions, header scrambles, unit payload changes with recomputed CRCs, and unit
drops/duplicates/swaps, then decoded in-process (pipeline.run_decode) under a per-case time bound.
A case passes when the decode ends with a GvcodecError (one line, exit 1/2/3: never an internal
error) or exits 0 with exactly the clean decode's output. 500 cases run in well under a minute on two cores.
"""

from __future__ import annotations

import random
import signal

import pytest

from gvcodec.errors import GvcodecError

CASES = {"x265": 200, "gnvc-vd": 150, "givic": 150}
PER_CASE_S = 30


class Stalled(Exception):
    pass


def _alarm(signum, frame):
    raise Stalled(f"a decode ran longer than {PER_CASE_S} s")


def _mutations(data: bytes, rng: random.Random, split_units, join_units):
    """(name, mutated bytes) for one case."""
    head, units = split_units(data)
    kind = rng.choice(["flip", "truncate", "insert", "header", "payload", "resize", "units"])
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    if kind == "truncate":
        return kind, data[: rng.randrange(len(data))]
    if kind == "insert":
        i = rng.randrange(len(data) + 1)
        return kind, data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[i:]
    units = list(units)
    if kind == "header":  # a byte of the sequence header changed, CRC recomputed
        t, p = units[0]
        b = bytearray(p)
        i = rng.randrange(len(b))
        b[i] = rng.choice([b[i] ^ (1 << rng.randrange(8)), rng.randrange(256), 0, 255])
        units[0] = (t, bytes(b))
        return kind, join_units(head, units)
    pictures = [i for i, (t, _) in enumerate(units) if t == 2]
    if kind == "payload":  # a PICTURES byte (picture info, hashes or engine payload), CRC recomputed
        k = rng.choice(pictures)
        t, p = units[k]
        b = bytearray(p)
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        units[k] = (t, bytes(b))
        return kind, join_units(head, units)
    if kind == "resize":  # a PICTURES payload cut or extended, CRC recomputed
        k = rng.choice(pictures)
        t, p = units[k]
        p = p[: rng.randrange(len(p))] if rng.random() < 0.5 else p + bytes(rng.randint(1, 16))
        units[k] = (t, p)
        return kind, join_units(head, units)
    k = rng.choice(pictures)  # a unit dropped, duplicated, or two swapped
    op = rng.choice(["drop", "dup", "swap"])
    if op == "drop":
        del units[k]
    elif op == "dup":
        units.insert(k, units[k])
    else:
        j = rng.choice(pictures)
        units[k], units[j] = units[j], units[k]
        if j == k:
            del units[k]
    return f"units-{op}", join_units(head, units)


@pytest.mark.parametrize("engine", list(CASES))
def test_mutated_streams_fail_cleanly_or_decode_exactly(engine, real_streams, decode, container_units, tmp_path):
    split_units, join_units = container_units
    stream, _ = real_streams(engine)
    clean_out = tmp_path / "clean.yuv"
    decode(stream, clean_out, "--Threads=1")
    clean = clean_out.read_bytes()
    data = stream.read_bytes()
    rng = random.Random(f"fuzz-{engine}")
    bad, out = tmp_path / "bad.gvc", tmp_path / "out.yuv"
    tally: dict = {}
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(CASES[engine]):
            name, mutated = _mutations(data, rng, split_units, join_units)
            bad.write_bytes(mutated)
            out.unlink(missing_ok=True)
            signal.alarm(PER_CASE_S)
            try:
                decode(bad, out, "--Threads=1")
                outcome = "exit 0"
            except GvcodecError as exc:
                assert exc.exit_code in (1, 2, 3) and "\n" not in str(exc), (case, name, exc)
                outcome = f"exit {exc.exit_code}"
            except Stalled:
                pytest.fail(f"{engine} case {case} ({name}): decode stalled")
            except Exception as exc:  # noqa: BLE001 - exactly what must never happen: exit 70
                pytest.fail(f"{engine} case {case} ({name}): internal error {exc.__class__.__name__}: {exc}")
            finally:
                signal.alarm(0)
            if outcome == "exit 0":
                assert out.read_bytes() == clean, f"{engine} case {case} ({name}): exit 0 with another output"
            tally[outcome] = tally.get(outcome, 0) + 1
    finally:
        signal.signal(signal.SIGALRM, old)
    print(engine, tally)
    assert sum(v for k, v in tally.items() if k != "exit 0") > CASES[engine] // 2
