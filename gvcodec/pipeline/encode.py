"""run_encode: input -> engine -> .gvc container (+ recon) -> HM log, stats and results.

Bit accounting: every byte of the file belongs to a picture. The file header and sequence
header go to the first picture, each unit's framing and hashes to the unit's first picture, its
payload as the engine attributes it, and the END_OF_STREAM unit to the last picture, so the bits
printed per POC add up to the file size exactly.
"""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

from gvcodec.bitstream.hashes import HASH_NAMES, picture_hash
from gvcodec.bitstream.header import SequenceHeader
from gvcodec.bitstream.syntax import PicturesUnit
from gvcodec.bitstream.writer import StreamWriter
from gvcodec.engines import registry
from gvcodec.errors import GvcodecError, InputError, OptionError
from gvcodec.io.frames import convert_bit_depth, convert_chroma_format
from gvcodec.io.padding import crop_frame, pad_frame, padded_size
from gvcodec.io.outputs import check_outputs
from gvcodec.io.source import open_sink, open_source
from gvcodec.pipeline.measure import measure
from gvcodec.report import hm_log
from gvcodec.report.console import Console
from gvcodec.report.records import FrameRecord


def _full_range(opts, source) -> bool:
    if "ColourRange" in opts.explicit or source.full_range is None:
        return opts.colour_range == "full"
    return bool(source.full_range)


def run_encode(opts, console: Console) -> dict:
    """Encode as the options say; returns the run summary (also used for ResultsFile)."""
    if not opts.bitstream_file:
        raise OptionError("no bitstream file: give -b/--BitstreamFile")
    check_outputs({"input": opts.input_file},
                  {"bitstream": opts.bitstream_file, "recon file": opts.recon_file, "statistics file": opts.stats_file,
                   "results file": opts.results_file, "summary file": opts.summary_out_filename})
    engine_id = registry.resolve(opts.codec, opts.model)
    engine = registry.create(engine_id)
    source = open_source(opts.input_file, width=opts.source_width, height=opts.source_height,
                         chroma_format=opts.input_chroma_format, bit_depth=opts.input_bit_depth,
                         frame_rate=opts.frame_rate or None, skip=opts.frame_skip,
                         count=opts.frames_to_be_encoded, ratio=opts.temporal_subsample_ratio)
    internal = opts.internal_bit_depth or source.fmt.bit_depth
    chroma = opts.chroma_format_idc or source.fmt.chroma_format
    fmt = source.fmt.with_bit_depth(internal)
    if chroma != fmt.chroma_format:  # HM's ChromaFormatIDC: code (and measure) in that format
        from gvcodec.io.frames import VideoFormat

        fmt = VideoFormat(fmt.width, fmt.height, chroma, internal)
    params = engine.params(opts)
    # the frames to code, or at most -f of them when the input does not say how many it has
    setup = engine.setup(fmt, params, frame_count=source.num_frames or opts.frames_to_be_encoded or 0)
    coded_w, coded_h = padded_size(fmt.width, fmt.height, opts.pad_multiple or setup.alignment)
    full_range = _full_range(opts, source)
    rate = Fraction(source.frame_rate).limit_denominator(1 << 20)
    header = SequenceHeader(
        width=fmt.width, height=fmt.height, coded_width=coded_w, coded_height=coded_h,
        chroma_format=fmt.chroma_format, input_bit_depth=source.fmt.bit_depth, internal_bit_depth=internal,
        output_bit_depth=opts.output_bit_depth or internal, frame_rate_num=rate.numerator,
        frame_rate_den=rate.denominator, frame_count=source.num_frames or 0,
        pad_mode=1 if opts.pad_mode == "replicate" else 0, colour_matrix=opts.colour_matrix,
        full_range=int(full_range), engine=setup.engine, model=setup.model, config_hash=setup.config_hash,
        weights_sha256=setup.weights_sha256, qp=opts.qp, intra_period=opts.intra_period,
        gop_frames=setup.gop_frames, picture_hash=opts.sei_decoded_picture_hash, engine_params=setup.params)

    writer = StreamWriter(opts.bitstream_file)
    sink = stats = None
    try:
        carry_bytes = writer.bytes + writer.write_header(header)
        if opts.recon_file:
            sink = open_sink(opts.recon_file, fmt, rate, header.output_bit_depth, full_range)
        session = engine.encoder(header, params)
        want_msssim = opts.print_msssim or bool(opts.stats_file) or bool(opts.results_file)
        want_rgb = bool(opts.stats_file) or bool(opts.results_file)
        originals: dict = {}
        to_write: dict = {}
        next_out = [0]
        records: list[FrameRecord] = []
        held: list[FrameRecord] = []  # the latest record waits: END_OF_STREAM bytes join the last picture
        cpu_mark = time.process_time()
        cpu_start, wall_start = cpu_mark, time.perf_counter()
        console.start("encode", source.num_frames)

        def emit(units) -> None:
            nonlocal carry_bytes, cpu_mark
            now = time.process_time()
            n_pics = sum(len(u.pictures) for u in units) or 1
            per_pic = (now - cpu_mark) / n_pics
            for u in units:
                recons = [crop_frame(r, fmt.width, fmt.height) for r in u.recon]
                for info, recon in zip(u.pictures, recons):
                    info.md5 = picture_hash(recon, header.picture_hash)
                size = writer.write_pictures(PicturesUnit(u.pictures, u.payload, u.symbol_hash))
                shares = list(u.picture_bits) if u.picture_bits else [len(u.payload) * 8] + [0] * (len(u.pictures) - 1)
                container = [(size - len(u.payload) + carry_bytes) * 8] + [0] * (len(u.pictures) - 1)
                shares[0] += container[0]
                carry_bytes = 0
                for info, recon, bits, cbits in zip(u.pictures, recons, shares, container):
                    rec = FrameRecord(info.poc, info.slice_type, info.qp, info.temporal_id, info.refs, bits,
                                      md5=tuple(h.hex() for h in info.md5), seconds=per_pic,
                                      hash_name=HASH_NAMES[header.picture_hash], container_bits=cbits,
                                      refs1=info.refs1)
                    measure(rec, originals.pop(info.poc), recon, msssim=want_msssim, rgb=want_rgb,
                            matrix=opts.colour_matrix, full_range=full_range, msssim_rgb=want_rgb)
                    if sink is not None:  # units come in coding order; the recon file is in display order
                        to_write[info.poc] = recon
                        while next_out[0] in to_write:
                            sink.write(to_write.pop(next_out[0]))
                            next_out[0] += 1
                    for old in held:
                        console.line(hm_log.encoder_poc_line(old, opts.print_msssim))
                    held[:] = [rec]
                    records.append(rec)
                elapsed = time.perf_counter() - wall_start
                console.advance(len(u.pictures), len(records) / elapsed if elapsed > 0 else 0.0)
            cpu_mark = time.process_time()  # ET covers the engine, not the measurements above

        for frame in source.frames():
            frame = convert_chroma_format(convert_bit_depth(frame, internal), chroma)
            originals[frame.poc] = frame
            emit(session.push(pad_frame(frame, coded_w, coded_h, opts.pad_mode, full_range)))
        emit(session.flush())
        console.stop()
        if not records:
            raise GvcodecError("no frame was encoded")
        if originals:
            raise GvcodecError(f"engine returned no picture for POC {min(originals)}")
        if header.frame_count and len(records) != header.frame_count:
            ended = "ended after" if len(records) < header.frame_count else "held"
            raise InputError(f"input `{opts.input_file}' {ended} {len(records)} of the {header.frame_count} frames "
                             "it announces (a truncated file?); nothing was written; give "
                             f"-f {len(records)} to code the frames it has")
        held[0].bits += writer.end_size() * 8
        held[0].container_bits += writer.end_size() * 8
        console.line(hm_log.encoder_poc_line(held[0], opts.print_msssim))
        file_bytes = writer.bytes + writer.end_size()
        assert sum(r.bits for r in records) == file_bytes * 8, "bit accounting does not add up to the file size"
        cpu = time.process_time() - cpu_start
        wall = time.perf_counter() - wall_start
        label = opts.codec_label or opts.model or opts.codec or "default"
        result = summarize(records, header, file_bytes, wall, opts.sequence_name or Path(opts.input_file).stem, label,
                           container_bits=(writer.container_bytes + writer.end_size()) * 8,
                           encoder_settings=setup.settings)
        if opts.stats_file:
            from gvcodec.report.stats import prepare_stats

            stats = prepare_stats(opts.stats_file, records, result)
        # every output is complete in its temporary file: rename them into place together
        writer.finish()
        if sink is not None:
            sink.close()
        if stats is not None:
            stats.commit()
    except BaseException:
        console.stop()
        writer.discard()
        if sink is not None:
            sink.discard()
        if stats is not None:
            stats.discard()
        raise

    assert os.path.getsize(opts.bitstream_file) == file_bytes
    console.line(hm_log.summary(records, rate, file_bytes, fmt.chroma_format, cpu))
    return result


def summarize(records, header: SequenceHeader, file_bytes: int, wall: float, sequence: str, codec: str,
              container_bits: int | None = None, encoder_settings: str = "") -> dict:
    """The run as one results row (gvcodec.report.results).

    `container_bits`: the stream's bits that are not engine payload (None = not known);
    `encoder_settings`: the exact settings the engine ran with (classical: the x265-params string).
    """
    from gvcodec.metrics.psnr import sequence_psnr
    from gvcodec.report.results import results_row

    n = len(records)
    s = sequence_psnr([r.psnr for r in records])
    rgb = [r.rgb_psnr for r in records if r.rgb_psnr is not None]
    ms = [r.msssim[0] for r in records if r.msssim is not None]
    ms_rgb = [r.msssim_rgb for r in records if r.msssim_rgb is not None]
    return results_row(
        sequence, codec, header.qp, n, header.width, header.height, float(header.frame_rate), file_bytes * 8,
        psnr_y=s["psnr_y"], psnr_u=s["psnr_u"], psnr_v=s["psnr_v"], psnr_yuv=s["psnr_yuv"],
        psnr_rgb=sum(rgb) / len(rgb) if rgb else None, msssim=sum(ms) / len(ms) if ms else None,
        enc_fps=n / wall if wall > 0 else None,
        payload_bits=None if container_bits is None else file_bytes * 8 - container_bits,
        container_bits=container_bits, encoder_settings=encoder_settings or None,
        msssim_rgb=sum(ms_rgb) / len(ms_rgb) if ms_rgb else None)
