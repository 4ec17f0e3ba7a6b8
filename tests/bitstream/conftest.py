"""Real tiny streams of the three engine kinds, and rewriting a stream as an attacker would.

`reframe(src, dst, fields=..., params=..., unit=...)` parses the container unit by unit, edits the
sequence header's fields and engine parameters (any JSON value) or a unit's payload, and frames
every unit again with a correct CRC, so the decoder sees a well-formed, forged stream.
"""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gvcodec.bitstream.reader import parse_pictures
from gvcodec.bitstream.syntax import FILE_HEADER, UNIT_CRC, FieldReader, parse_sequence_header, pack_sequence_header
from gvcodec.bitstream.writer import frame_unit


def split_units(data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(file header, [(unit type, payload)]) of a well-formed stream (type u8, length varint, payload, CRC)."""
    pos = FILE_HEADER.size
    units = []
    while pos < len(data):
        unit_type, pos = data[pos], pos + 1
        length = shift = 0
        while True:
            b, pos = data[pos], pos + 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        units.append((unit_type, data[pos:pos + length]))
        pos += length + UNIT_CRC.size
    return data[:FILE_HEADER.size], units


def join_units(head: bytes, units: list[tuple[int, bytes]]) -> bytes:
    return head + b"".join(frame_unit(t, p) for t, p in units)


def forged_header(payload: bytes, fields: dict | None = None, params=None, edit_params=None) -> bytes:
    """A SEQUENCE_HEADER payload with `fields` replaced and the engine parameters replaced by `params`
    (any value the container can hold) or edited by `edit_params(value)`."""
    d = parse_sequence_header(FieldReader(payload, "forge"))
    d.update(fields or {})
    if params is not None or edit_params is not None:
        value = copy.deepcopy(d["engine_params"]) if params is None else params
        if edit_params is not None:
            edit_params(value)
        d["engine_params"] = value
    return pack_sequence_header(SimpleNamespace(**d))


def reframe(src: Path, dst: Path, fields: dict | None = None, params=None, edit_params=None, unit=None) -> Path:
    """Copy `src` to `dst` with a forged header and/or unit payloads (unit(index, type, payload) -> payload),
    every CRC recomputed."""
    head, units = split_units(Path(src).read_bytes())
    out = []
    for i, (t, p) in enumerate(units):
        if i == 0 and (fields or params is not None or edit_params is not None):
            p = forged_header(p, fields, params, edit_params)
        if unit is not None:
            p = unit(i, t, p)
        out.append((t, p))
    Path(dst).write_bytes(join_units(head, out))
    return Path(dst)


@pytest.fixture(scope="session")
def forge():
    return reframe


def _crop_clip(src: Path, dst: Path, frames: int, size: int) -> Path:
    """`frames` frames of the raw 352x288 4:2:0 bus clip cropped to size x size, as raw 4:2:0."""
    w, h = 352, 288
    fb = w * h * 3 // 2
    raw = np.fromfile(src, np.uint8)[: frames * fb].reshape(frames, fb)
    x0, y0 = 144, 112
    with open(dst, "wb") as f:
        for fr in raw:
            y = fr[: w * h].reshape(h, w)[y0:y0 + size, x0:x0 + size]
            u = fr[w * h: w * h * 5 // 4].reshape(h // 2, w // 2)[y0 // 2:(y0 + size) // 2, x0 // 2:(x0 + size) // 2]
            v = fr[w * h * 5 // 4:].reshape(h // 2, w // 2)[y0 // 2:(y0 + size) // 2, x0 // 2:(x0 + size) // 2]
            f.write(y.tobytes() + u.tobytes() + v.tobytes())
    return dst


def encode_in_process(argv: list) -> dict:
    from gvcodec.options.parse import parse_options
    from gvcodec.pipeline.encode import run_encode
    from gvcodec.report.console import Console

    opts = parse_options([str(a) for a in argv], "encode")
    return run_encode(opts, Console(0, "0"))


def decode_in_process(stream: Path, out: Path | None = None, *extra) -> dict:
    from gvcodec.options.parse import parse_options
    from gvcodec.pipeline.decode import run_decode
    from gvcodec.report.console import Console

    argv = ["-b", str(stream)] + (["-o", str(out)] if out else []) + [str(a) for a in extra]
    return run_decode(parse_options(argv, "decode"), Console(0, "0"))


ENGINES = {
    # name: (crop size, frames, encoder options)
    "x265": (64, 3, ["--Codec=x265", "-q", 37]),
    "gnvc-vd": (64, 5, ["--Model=gnvc-vd-tiny", "--GOPFrames=5", "--FlowSteps=1", "-q", 32, "--Threads=1"]),
    "givic": (32, 3, ["--Model=givic-tiny", "--GOPFrames=2", "--OverfitSteps=0", "--DiffusionSteps=1",
                      "-q", 32, "--Threads=1"]),
}


@pytest.fixture(scope="session")
def encode_like(sequence, tmp_path_factory):
    """encode_like(engine, *extra) -> a stream of the same clip and settings as real_streams(engine), with
    `extra` options after them."""
    folder = tmp_path_factory.mktemp("variants")
    count = [0]

    def make(engine: str, *extra_options):
        size, frames, extra = ENGINES[engine]
        count[0] += 1
        clip = _crop_clip(sequence("bus_352x288_17f_yuv420p.yuv"), folder / f"src{count[0]}.yuv", frames, size)
        stream = folder / f"{engine}-{count[0]}.gvc"
        encode_in_process(["-i", clip, "-wdt", size, "-hgt", size, "-fr", 30, "-f", frames, "-b", stream,
                           *extra, *extra_options])
        return stream

    return make


@pytest.fixture(scope="session")
def real_streams(sequence, tmp_path_factory):
    """real_streams(engine) -> (stream path, clean decode bytes), encoded once per session."""
    made: dict = {}
    folder = tmp_path_factory.mktemp("streams")

    def get(engine: str):
        if engine not in made:
            size, frames, extra = ENGINES[engine]
            clip = _crop_clip(sequence("bus_352x288_17f_yuv420p.yuv"), folder / f"{engine}_src.yuv", frames, size)
            stream, rec = folder / f"{engine}.gvc", folder / f"{engine}.rec.yuv"
            encode_in_process(["-i", clip, "-wdt", size, "-hgt", size, "-fr", 30, "-f", frames, "-b", stream,
                               "-o", rec, *extra])
            made[engine] = (stream, rec.read_bytes())
        return made[engine]

    return get


def unit_payload_offset(payload: bytes, num_planes: int = 3) -> int:
    """Where the engine payload starts inside a PICTURES payload (after picture info and hashes)."""
    return len(payload) - len(parse_pictures(payload, num_planes, "test").payload)


def picture_count(payload: bytes, num_planes: int = 3) -> int:
    return len(parse_pictures(payload, num_planes, "test").pictures)


def hash_span(payload: bytes, num_planes: int = 3) -> tuple[int, int]:
    """Where a PICTURES payload holds its picture hashes (before the symbol hash, if any)."""
    unit = parse_pictures(payload, num_planes, "test")
    end = len(payload) - len(unit.payload) - (16 if unit.symbol_hash is not None else 0)
    return end - sum(len(h) for p in unit.pictures for h in (p.md5 or ())), end


@pytest.fixture(scope="session")
def payload_offset():
    return unit_payload_offset


@pytest.fixture(scope="session")
def layout():
    """(hash_span, picture_count) of a PICTURES payload."""
    return hash_span, picture_count


@pytest.fixture(scope="session")
def container_units():
    """(split_units, join_units): a stream as (file header, [(type, payload)]) and back, CRCs recomputed."""
    return split_units, join_units


@pytest.fixture(scope="session")
def decode():
    return decode_in_process


__all__ = ["reframe", "split_units", "join_units"]
