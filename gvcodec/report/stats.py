"""Per-frame statistics files (--stats FILE): CSV or JSON, chosen by the extension."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Sequence

from gvcodec.io.atomic import AtomicFile
from gvcodec.report.records import FrameRecord

COLUMNS = ("poc", "type", "qp", "bits", "payload_bits", "container_bits", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb",
           "msssim_y", "msssim_u", "msssim_v", "msssim_rgb", "ms", "md5_ok")


def record_row(rec: FrameRecord) -> dict:
    p = rec.psnr
    psnr = list(p.psnr) if p is not None else []
    ms = list(rec.msssim) if rec.msssim is not None else []
    row = {
        "poc": rec.poc, "type": rec.slice_type, "qp": rec.qp, "bits": rec.bits,
        "payload_bits": rec.bits - rec.container_bits if rec.bits else None,
        "container_bits": rec.container_bits if rec.bits else None,
        "psnr_y": psnr[0] if len(psnr) > 0 else None, "psnr_u": psnr[1] if len(psnr) > 1 else None,
        "psnr_v": psnr[2] if len(psnr) > 2 else None, "psnr_yuv": p.psnr_yuv if p is not None else None,
        "psnr_rgb": rec.rgb_psnr,
        "msssim_y": ms[0] if len(ms) > 0 else None, "msssim_u": ms[1] if len(ms) > 1 else None,
        "msssim_v": ms[2] if len(ms) > 2 else None, "msssim_rgb": rec.msssim_rgb,
        "ms": round(rec.seconds * 1000.0, 3), "md5_ok": rec.md5_ok,
    }
    row.update({k: v for k, v in rec.extra.items() if k not in row})  # per-frame metrics (vmaf, lpips_alex, ...)
    return row


def write_stats(path: str, records: Sequence[FrameRecord], summary: dict | None = None) -> None:
    """Write per-frame rows (and, for JSON, the run summary) to `path` atomically."""
    prepare_stats(path, records, summary).commit()


def prepare_stats(path: str, records: Sequence[FrameRecord], summary: dict | None = None) -> AtomicFile:
    """The statistics file written to its temporary file, not yet renamed into place (`commit()` does,
    so the pipelines rename it together with their other outputs)."""
    rows = [record_row(r) for r in records]
    if Path(path).suffix.lower() == ".json":
        text = json.dumps({"summary": summary or {}, "frames": rows}, indent=1)
    else:
        buf = io.StringIO()
        extra = list(dict.fromkeys(k for row in rows for k in row if k not in COLUMNS))
        w = csv.DictWriter(buf, fieldnames=list(COLUMNS) + extra, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: ("" if v is None else v) for k, v in row.items()})
        text = buf.getvalue()
    f = AtomicFile(path, "statistics file")
    f.write(text.encode("utf-8"))
    f.file.flush()
    return f
