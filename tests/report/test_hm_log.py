"""HM log format: lines parsed back by regexes written from HM's printf formats."""

import re
from fractions import Fraction

from gvcodec.metrics.psnr import FramePsnr
from gvcodec.report import hm_log
from gvcodec.report.records import FrameRecord

# From HM-16.25's format strings (see ../shared/reference/hm-vtm-conventions.md, 1d)
POC_LINE = re.compile(
    r"^POC +(\d+) TId: (\d) \( ([IPB])-SLICE, nQP (\d+) QP (\d+) \) +(\d+) bits "
    r"\[Y (\d+\.\d{4}) dB {4}U (\d+\.\d{4}) dB {4}V (\d+\.\d{4}) dB\] \[ET +(\d+) \] "
    r"\[L0 ((?:\d+ )*)\] \[L1 ((?:\d+ )*)\]( \[MD5:([0-9a-f]{32}),([0-9a-f]{32}),([0-9a-f]{32})\])?$")
DEC_LINE = re.compile(r"^POC +(\d+) TId: (\d) \( ([IPB])-SLICE, QP +(\d+) \) \[DT +[\d.]+\] \[L0 (?:\d+ )*\] "
                      r"\[L1 (?:\d+ )*\] \[MD5:[0-9a-f]{32},[0-9a-f]{32},[0-9a-f]{32},\((OK|\*\*\*ERROR\*\*\*)\)\] $")
SUMMARY_ROW = re.compile(r"^\s+(\d+)\s+a\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


def _rec(poc, st, bits, psnr=(34.5, 40.25, 41.0)):
    mse = tuple(255.0 ** 2 / 10 ** (p / 10) for p in psnr)
    return FrameRecord(poc, st, 37, 0, (poc - 1,) if poc else (), bits,
                       psnr=FramePsnr(mse, psnr, 35.0, 8, 420), md5=("a" * 32, "b" * 32, "c" * 32), seconds=1.2)


def test_encoder_line_matches_hm_format_exactly():
    line = hm_log.encoder_poc_line(_rec(0, "I", 12345))
    assert line.startswith("POC    0 TId: 0 ( I-SLICE, nQP 37 QP 37 )      12345 bits [Y 34.5000 dB    U 40.2500 dB")
    m = POC_LINE.match(line)
    assert m and m.group(6) == "12345" and m.group(10) == "1"
    assert POC_LINE.match(hm_log.encoder_poc_line(_rec(7, "P", 99))).group(11) == "6 "


def test_decoder_line_matches_hm_format():
    rec = _rec(3, "P", 0)
    rec.md5_ok = True
    assert DEC_LINE.match(hm_log.decoder_poc_line(rec)).group(5) == "OK"
    rec.md5_ok = False
    assert "(***ERROR***)" in hm_log.decoder_poc_line(rec)


def test_summary_blocks_have_hm_layout_and_values():
    recs = [_rec(0, "I", 16064)] + [_rec(i, "P", 608) for i in range(1, 33)]
    text = hm_log.summary(recs, Fraction(30), 7945, 420, 30.004)
    lines = text.split("\n")
    assert lines[2] == "SUMMARY " + "-" * 56
    assert lines[3] == "\tTotal Frames |   Bitrate     Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR  "
    m = SUMMARY_ROW.match(lines[4])
    kbps = (16064 + 32 * 608) * 30 / 1000 / 33
    assert m and int(m.group(1)) == 33 and abs(float(m.group(2)) - kbps) < 1e-4
    assert lines[4] == f"\t {33:8d}    a {kbps:12.4f}  {34.5:8.4f}  {40.25:8.4f}  {41.0:8.4f}  " + lines[4][-10:]
    assert "\t        0    b         -nan      -nan      -nan      -nan      -nan  " in lines
    assert "Bytes written to file: 7945 (" in text
    assert re.search(r"Total Time:\s+([\d.]+)", text).group(1) == "30.004"
