"""run_decode: .gvc container -> engine -> frames (cropped) -> output file and HM decoder log.

The mirror of pipeline.encode: the decoder needs only the stream. Pictures are written in display
order (as the engine outputs them); the per-picture log lines come in coding order, as HM's decoder
prints them. Each picture's MD5 is checked
against the stream; a mismatch is printed on its POC line and fails the run (exit 3) after the
output is written, as HM's decoder does.
"""

from __future__ import annotations

import time
from collections import deque

from gvcodec.bitstream.hashes import HASH_NAMES, picture_hash
from gvcodec.bitstream.reader import StreamReader
from gvcodec.bitstream.syntax import HASH_MD5, HASH_NONE
from gvcodec.engines import conformance, registry
from gvcodec.engines.base import DecodeRuntime
from gvcodec.errors import BitstreamError, MismatchError, OptionError
from gvcodec.io.outputs import check_outputs
from gvcodec.io.padding import crop_frame
from gvcodec.io.source import open_sink
from gvcodec.report import hm_log
from gvcodec.report.console import Console
from gvcodec.report.records import FrameRecord


_SYMBOLS_OK = ("; every unit's symbols matched its symbol hash, so the entropy decoding was exact and the "
               "difference comes from float synthesis (another device, precision or thread count than the encoder's)")


def run_decode(opts, console: Console) -> dict:
    """Decode `opts.bitstream_file`; returns a summary dict (frames, mismatches, seconds)."""
    if not opts.bitstream_file:
        raise OptionError("no bitstream file: give -b/--BitstreamFile")
    check_outputs({"bitstream": opts.bitstream_file},
                  {"decoded file": opts.recon_file, "statistics file": opts.stats_file,
                   "results file": opts.results_file}, existing=("results file",))
    reader = StreamReader(opts.bitstream_file)
    header = reader.header
    if opts.recon_file and header.frame_count and opts.skip_frames >= header.frame_count:
        raise OptionError(f"SkipFrames {opts.skip_frames} skips all {header.frame_count} frames of the stream: "
                          "nothing would be written")
    if header.engine not in registry.ENGINES:
        raise BitstreamError(f"bitstream `{opts.bitstream_file}' needs engine `{header.engine}', "
                             "which this gvcodec does not have")
    engine = registry.create(header.engine)
    session = engine.decoder(header, DecodeRuntime.from_options(opts))
    fmt = header.fmt
    sink = stats = None
    if opts.recon_file:
        sink = open_sink(opts.recon_file, fmt, header.frame_rate,
                         opts.output_bit_depth or header.internal_bit_depth, bool(header.full_range))
    pending: dict = {}
    coding_order: deque = deque()  # POCs in the order their units came, until their log line is printed
    to_write: dict = {}  # decoded pictures waiting for their turn in the output file (display order)
    next_out = [0]
    done: dict = {}  # decoded records waiting for their turn in the log
    unit_hash: dict = {}  # POC -> the kind of hash its unit carries
    records: list[FrameRecord] = []
    mismatches: list[int] = []
    seen: set[int] = set()
    prints: dict = {}  # POC -> the encoder's picture fingerprint (neural streams)
    drift: list[float] = []  # fingerprint differences of pictures whose hash differed
    hashed_units = all_units = 0  # units whose symbols the engine checked against the stream's hash
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    mark = cpu_start
    console.start("decode", header.frame_count or None)

    def emit(frames) -> None:
        nonlocal mark
        now = time.process_time()
        per = (now - mark) / max(len(frames), 1)
        mark = now
        for frame in frames:
            info = pending.pop(frame.poc, None)
            if info is None:
                raise BitstreamError(f"decoder produced POC {frame.poc}, which no unit announced")
            picture = crop_frame(frame, fmt.width, fmt.height)
            kind = unit_hash.get(frame.poc, HASH_NONE)
            md5 = picture_hash(picture, kind or HASH_MD5)
            ok = fp = None
            if info.md5 and opts.sei_decoded_picture_hash:
                ok = md5 == tuple(info.md5)
                stored = prints.pop(frame.poc, None)
                if not ok and stored is not None:  # symbols were exact: the tolerance decides
                    fp = conformance.difference(picture.planes, fmt.bit_depth, stored)
                    drift.append(fp)
                if not ok and (fp is None or fp > conformance.TOLERANCE):
                    mismatches.append(frame.poc)
            rec = FrameRecord(info.poc, info.slice_type, info.qp, info.temporal_id, info.refs,
                              md5=tuple(h.hex() for h in md5), md5_ok=ok, seconds=per,
                              hash_name=HASH_NAMES[kind or HASH_MD5], refs1=info.refs1)
            if fp is not None:
                rec.extra["fingerprint"] = (fp, conformance.TOLERANCE)
            done[rec.poc] = rec
            if sink is not None:  # engines may return pictures out of display order: the file is in display order
                to_write[frame.poc] = picture
                while next_out[0] in to_write:
                    shown = to_write.pop(next_out[0])
                    if next_out[0] >= opts.skip_frames:
                        sink.write(shown)
                    next_out[0] += 1
            records.append(rec)
        while coding_order and coding_order[0] in done:  # the log, as HM's, in coding order
            console.line(hm_log.decoder_poc_line(done.pop(coding_order.popleft())))
        elapsed = time.perf_counter() - wall_start
        console.advance(len(frames), len(records) / elapsed if elapsed > 0 else 0.0)

    try:
        for unit in reader.units():
            pocs = {p.poc for p in unit.pictures}
            if pocs & seen:
                raise BitstreamError(f"bitstream `{opts.bitstream_file}': unit {unit.index} at byte {unit.offset} "
                                     f"repeats POC {min(pocs & seen)}")
            seen |= pocs
            hashed_units += unit.symbol_hash is not None
            all_units += 1
            for info in unit.pictures:
                coding_order.append(info.poc)
                pending[info.poc] = info
                unit_hash[info.poc] = unit.hash_kind
            frames = session.decode(unit)
            if unit.symbol_hash is not None:  # fingerprints count only where the symbols were checked
                prints.update(unit.extra.get("fingerprints", {}))
            emit(frames)
        emit(session.flush())
        for poc in coding_order:  # pictures after a missing one: their lines still come out
            if poc in done:
                console.line(hm_log.decoder_poc_line(done.pop(poc)))
        console.stop()
        if pending:
            raise BitstreamError(f"bitstream `{opts.bitstream_file}': no picture decoded for POC {min(pending)}")
        if seen and max(seen) + 1 != len(seen):
            gap = min(set(range(max(seen))) - seen)
            raise BitstreamError(f"bitstream `{opts.bitstream_file}': no unit holds POC {gap}: a unit is missing")
        if header.frame_count and len(records) != header.frame_count:
            raise BitstreamError(f"bitstream `{opts.bitstream_file}': the sequence header announces "
                                 f"{header.frame_count} frames, the stream holds {len(records)}")
        if sink is not None and opts.skip_frames >= len(records):
            raise OptionError(f"SkipFrames {opts.skip_frames} skips all {len(records)} decoded frames: "
                              "nothing was written")
        cpu = time.process_time() - cpu_start
        console.line(f"\n Total Time: {cpu:12.3f} sec.")
        if opts.stats_file:
            from gvcodec.report.stats import prepare_stats

            stats = prepare_stats(opts.stats_file, records)
        if sink is not None:  # outputs renamed into place together, once everything decoded
            sink.close()
        if stats is not None:
            stats.commit()
    except BaseException:
        console.stop()
        if sink is not None:
            sink.discard()
        if stats is not None:
            stats.discard()
        raise
    if drift and not mismatches:
        console.line(f"\n {len(drift)} of {len(records)} pictures differ from the encoder's picture hash by float "
                     f"synthesis only: symbols exact, fingerprint within {max(drift):.4f} <= {conformance.TOLERANCE} "
                     "(conformance tolerance, docs/bitstream.md)")
    if mismatches:
        raise MismatchError(f"***ERROR*** A decoding mismatch occured: signalled md5sum does not match "
                            f"({len(mismatches)} of {len(records)} pictures, first POC {mismatches[0]})"
                          + (_SYMBOLS_OK if all_units and hashed_units == all_units else ""))
    # `row`: the cells of this stream's results row (encode --ResultsFile) that identify it
    row = {"bits": reader.size * 8, "qp": header.qp, "frames": len(records)}
    return {"frames": len(records), "seconds": time.perf_counter() - wall_start, "row": row}
