"""The GPU session script behind bin/gpu-run.sh: every CUDA entry point, timings, training, RD check.

Phases, each bounded by the time left (the whole run ends before --budget seconds):
    1 entry   both neural engines encode + decode on the device (bus clip, MD5s checked); GNVC-VD also
              in fp32, its stream kept for CPU decoding later (bin/gpu-verify.sh); the CPU-made streams
              of .gpu/streams decoded on the device (symbol hashes checked; pictures compared)
    2 paper   bench/gnvc_vd_gpu.py at the paper size (1920x1080, 1280x720, 640x480), time-bounded, and
              bench/givic.py for GIViC S, M and Original (bus clip; tables in the log and summary.json)
    3 train   bench/train_step.py: steps/s, pixels/s, data share per stage (0, I, II, P)
    4 fit     continued training of the shipped gnvc-vd-default from its weights: stages 0, I, II with
              a deadline each (MaxSeconds: a checkpoint and the stage output at the deadline), then the
              conversion to OUT/final.safetensors (float16)
    5 rd      the evaluation clip at two QPs with the shipped and the new weights

Writes at most 8 files to OUT: summary.json, gnvc-cuda-fp32.gvc, givic-cuda.gvc, bench-gnvc-vd.json,
bench-train.json, train-log.csv, final.safetensors (and gpu-run.log from the shell wrapper).
--dry-run: the same at tiny sizes on the CPU; the entry points, the training stages and the
conversion run through the pretend accelerator (`python -m gvcodec.testing.vrun ... --Device=meta`),
so a tensor left on the CPU fails there as on CUDA; the benchmarks run on the CPU.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "gvcodec" / "weights" / "gnvc-vd-default.safetensors"


class Run:
    def __init__(self, opts):
        self.opts, self.dry = opts, opts.dry_run
        self.out = Path(opts.out)
        self.gpu = Path(opts.gpu_dir)
        self.t0 = time.monotonic()
        self.deadline = self.t0 + opts.budget
        self.device = "meta" if self.dry else "cuda"
        self.cli = [sys.executable, "-m", "gvcodec.testing.vrun" if self.dry else "gvcodec"]
        self.summary: dict = {"dry_run": self.dry, "device": self.device, "phases": {}}
        self.tmp = Path(opts.tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        info = json.loads((self.gpu / "streams" / "streams.json").read_text())
        self.clip = self.gpu / "clip" / info["clip"]
        self.w, self.h, self.frames = info["width"], info["height"], info["frames"]
        self.streams = info["streams"]

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def say(self, msg: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f} s] {msg}", flush=True)

    def sh(self, argv, timeout: float, name: str = "") -> dict:
        """Run a command (output to the log), bounded by `timeout` and the time left."""
        limit = max(1.0, min(timeout, self.left()))
        start = time.monotonic()
        self.say(f"$ {' '.join(map(str, argv))}")
        try:
            proc = subprocess.run(list(map(str, argv)), cwd=ROOT, timeout=limit, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                      [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH", "")])])})
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = 124, (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else \
                (exc.stdout or ""), "timeout"
        secs = time.monotonic() - start
        tail = "\n".join((out + "\n" + err).strip().splitlines()[-12:])
        print(tail, flush=True)
        self.say(f"rc {rc} in {secs:.1f} s {name}")
        return {"rc": rc, "seconds": round(secs, 2), "stderr": err.strip().splitlines()[-1:] if err else [],
                "stdout": out}

    # -- phase 1 ---------------------------------------------------------------------------------
    def entry(self) -> None:
        res = {}
        clip = ["-i", self.clip, "-wdt", self.w, "-hgt", self.h, "-fr", 30, "-f", self.frames, "-q", 37]
        gop = self.frames
        cases = [
            ("gnvc-auto", ["-c", "cfg/lowdelay.cfg", "--Model=gnvc-vd-default", f"--GOPFrames={gop}"], None),
            ("gnvc-fp32", ["-c", "cfg/lowdelay.cfg", "--Model=gnvc-vd-default", f"--GOPFrames={gop}",
                           "--Precision=fp32"], self.out / "gnvc-cuda-fp32.gvc"),
            ("givic", ["-c", "cfg/randomaccess.cfg", "--Model=givic-default", "-f", 8 if self.dry else 16,
                       "--GOPFrames=8", f"--OverfitSteps={0 if self.dry else 20}"],
             self.out / "givic-cuda.gvc"),
        ]
        for name, extra, keep in cases:
            bits = keep or self.tmp / f"{name}.gvc"
            enc = self.sh([*self.cli, "encode", *clip, *extra, "-b", bits, "-o", self.tmp / f"{name}-rec.yuv",
                           f"--Device={self.device}"], 120, f"encode {name}")
            dec = self.sh([*self.cli, "decode", "-b", bits, "-o", self.tmp / f"{name}-dec.yuv",
                           f"--Device={self.device}"], 120, f"decode {name}") if enc["rc"] == 0 else {"rc": None}
            same = enc["rc"] == 0 and dec["rc"] == 0 and \
                (self.tmp / f"{name}-rec.yuv").read_bytes() == (self.tmp / f"{name}-dec.yuv").read_bytes()
            res[name] = {"encode_rc": enc["rc"], "encode_s": enc.get("seconds"), "decode_rc": dec["rc"],
                         "decode_s": dec.get("seconds"), "recon_equals_decode": same,
                         "bytes": bits.stat().st_size if bits.is_file() else None,
                         "error": (enc.get("stderr") or dec.get("stderr") or [None])[0]}
        for name, s in self.streams.items():  # CPU-made streams on the device
            bits, dec_path = self.gpu / "streams" / s["file"], self.tmp / f"{name}-dev.yuv"
            dec = self.sh([*self.cli, "decode", "-b", bits, "-o", dec_path, "-dph", 0, f"--Device={self.device}"],
                          120, f"decode CPU-made {name}")
            md5 = hashlib.md5(dec_path.read_bytes()).hexdigest() if dec["rc"] == 0 else None
            res[f"{name}-on-device"] = {"decode_rc": dec["rc"], "decode_s": dec["seconds"],
                                        "symbols_checked": dec["rc"] == 0, "md5": md5,
                                        "md5_equals_cpu_decode": md5 == s["cpu_decode_md5"],
                                        "error": (dec.get("stderr") or [None])[0]}
        self.summary["phases"]["entry"] = res

    # -- phase 2 ---------------------------------------------------------------------------------
    def paper(self) -> None:
        budget = min(self.opts.paper_seconds, self.left() - self.kept_for_fit())
        if budget < 20:
            self.summary["phases"]["paper"] = {"skipped": "no time"}
            return
        args = ["--json", self.out / "bench-gnvc-vd.json", "--max-seconds", int(budget * 0.55)]
        args += (["--device", "cpu", "--config", "gnvc-vd-tiny", "--sizes", "64x64", "--frames", 5, "--repeat", 1,
                  "--flow-steps", 1] if self.dry else ["--repeat", 1, "--warmup", "first",
                                                        "--sizes", "640x480,1280x720,1920x1080"])
        r = self.sh([sys.executable, "bench/gnvc_vd_gpu.py", *args], budget, "paper-size timings")
        self.summary["phases"]["paper"] = {"rc": r["rc"], "seconds": r["seconds"]}

    def givic_sizes(self) -> None:
        """bench/givic.py at the sizes of the seed's Table S4 (S, M, Original) on the bus clip; its tables
        go to the log (the machine's docs/results.md does not come back)."""
        budget = min(self.opts.givic_seconds, self.left() - self.kept_for_fit())
        if budget < 15:
            self.summary["phases"]["givic_sizes"] = {"skipped": "no time"}
            return
        models = "givic-tiny" if self.dry else "givic-s,givic-m,givic-original"
        r = self.sh([sys.executable, "bench/givic.py", "--models", models, "--max-seconds", int(budget * 0.5),
                     "--device", "cpu" if self.dry else "cuda", "--input", self.clip, "--width", self.w,
                     "--height", self.h, "--total", self.frames, "--gop", 4 if self.dry else 8, "--gops", 1,
                     "--overfit-steps", 1 if self.dry else 10, "--warm-steps", 1 if self.dry else 5,
                     "--decode-steps", "2" if self.dry else "4,8", "--results", self.tmp / "givic-results.md"],
                    budget, "GIViC S/M/Original timings")
        self.summary["phases"]["givic_sizes"] = {"rc": r["rc"], "seconds": r["seconds"],
                                                  "table": r["stdout"].strip().splitlines()[-40:]}

    # -- phase 3 ---------------------------------------------------------------------------------
    def train_bench(self) -> dict:
        budget = min(self.opts.train_bench_seconds, self.left() - self.kept_for_fit())
        rows = {}
        if budget < 20:
            self.summary["phases"]["train_bench"] = {"skipped": "no time"}
            return rows
        data = self.gpu / "train" / "MANIFEST.tsv"
        args = ["--data", data, "--json", self.out / "bench-train.json", "--max-seconds-per-stage", int(budget / 5)]
        args += (["--preset", "tiny", "--device", "cpu", "--steps", 1, "--warmup", 1, "--threads", 1] if self.dry
                 else ["--preset", "gpu", "--device", "cuda", "--steps", 8, "--warmup", 3])
        r = self.sh([sys.executable, "bench/train_step.py", *args], budget, "training throughput")
        self.summary["phases"]["train_bench"] = {"rc": r["rc"], "seconds": r["seconds"]}
        path = self.out / "bench-train.json"
        if path.is_file():
            rows = {row["stage"]: row for row in json.loads(path.read_text())["rows"]}
        return rows

    # -- phase 4 ---------------------------------------------------------------------------------
    def fit(self, rates: dict) -> Path | None:
        run = self.tmp / "run"
        final = self.out / "final.safetensors"
        # What follows the stages is timed from this machine's own entry phase (a process start with
        # a model load): the conversion and the four RD encodes are kept out of the stages' share.
        start_s = self.process_seconds()
        convert_s = self.convert_seconds()
        rd_s = self.rd_seconds()
        budget = self.left() - rd_s
        res = {"stages": {}, "process_start_s": round(start_s, 1), "kept_for_rd_s": round(rd_s, 1)}
        self.summary["phases"]["fit"] = res
        if budget - convert_s < (15 if self.dry else 30):
            res["skipped"] = "no time"
            return None
        share = {"0": 0.3, "I": 0.35, "II": 0.35}
        size = {"0": (2, 5, 64), "I": (1, 5, 64), "II": (1, 5, 64)} if self.dry else \
            {"0": (16, 9, 256), "I": (8, 9, 256), "II": (8, 9, 256)}
        common = ["train", "-c", "cfg/train/gnvc-vd-tiny.yaml", f"--RunDir={run}",
                  f"--Data={self.gpu / 'train' / 'MANIFEST.tsv'}", "--Images=", "--CacheDir=", "--MaxStride=1",
                  f"--Device={self.device}", f"--Workers={0 if self.dry else 8}", "--Progress=0",
                  "--LogEvery=5", "--CheckpointEvery=1000000", "--WarmupSteps=10"]
        init = SHIPPED
        stage_budget = budget - convert_s
        for stage in ("0", "I", "II"):
            secs = stage_budget * share[stage]
            if secs < (5 if self.dry else 20):
                res["stages"][stage] = {"skipped": "no time"}
                continue
            per_step = rates.get(stage, {}).get("s_per_step") or (1.0 if self.dry else 0.5)
            train_s = max(2.0, secs - start_s)  # MaxSeconds counts from the loop, not the process start
            steps = max(2, int(train_s / per_step * 0.9))
            b, f, c = size[stage]
            r = self.sh([*self.cli, *common, f"--Stage={stage}", f"--Init={init}",
                         f"--Steps={steps}", f"--MaxSeconds={max(1, int(train_s * 0.85))}", f"--BatchSize={b}", f"--Frames={f}",
                         f"--Crop={c}"], secs + 30, f"stage {stage}")
            out = run / f"stage-{stage}.safetensors"
            res["stages"][stage] = {"rc": r["rc"], "seconds": r["seconds"], "planned_steps": steps,
                                    "output": out.is_file(), "error": (r.get("stderr") or [None])[0]}
            if out.is_file():
                init = out
        rows = []
        for stage in ("0", "I", "II"):
            log = run / f"stage-{stage}" / "log.csv"
            if log.is_file():
                rows += list(csv.DictReader(log.open()))
        if rows:
            keys = list(dict.fromkeys(k for r in rows for k in r))
            with open(self.out / "train-log.csv", "w", newline="") as f:
                w = csv.DictWriter(f, keys)
                w.writeheader()
                w.writerows(rows)
        if init == SHIPPED:
            res["converted"] = False
            return None
        b, f, c = size["II"]  # the conversion measures on stage II's crop and frames
        r = self.sh([*self.cli, *common, "--convert", init, "-o", final, "--Fp16=1",
                     "--ConvertClips=1", f"--Crop={c}", f"--Frames={f}"], max(convert_s, self.left() - rd_s),
                    "conversion")
        res["converted"] = r["rc"] == 0 and final.is_file()
        res["converted_from"] = init.name
        return final if res["converted"] else None

    def process_seconds(self) -> float:
        """The median wall time of the entry phase's encodes: one process start with a model load."""
        times = sorted(v["encode_s"] for v in self.summary["phases"].get("entry", {}).values()
                       if v.get("encode_s") is not None)
        return times[len(times) // 2] if times else (5.0 if self.dry else 20.0)

    def rd_seconds(self) -> float:
        """Time kept for phase 5: four encodes with a margin."""
        return 4 * 1.3 * self.process_seconds() + 5

    def convert_seconds(self) -> float:
        return max(15 if self.dry else 40, 2 * self.process_seconds())

    def kept_for_fit(self) -> float:
        """What phases 2-3 leave for phase 4-5: --reserve, or, if more, the RD encodes, the conversion
        and three training stages of one process start plus a few seconds each, all scaled by this
        machine's measured process start (a slower machine keeps more)."""
        start_s = self.process_seconds()
        stages = 3 * (start_s + (5 if self.dry else 20))
        return max(self.opts.reserve, self.rd_seconds() + self.convert_seconds() + stages)

    # -- phase 5 ---------------------------------------------------------------------------------
    def rd(self, new: Path | None) -> None:
        res = {}
        self.summary["phases"]["rd"] = res
        csv_path = self.tmp / "rd.csv"
        labels = [("shipped", None)] + ([("new", new)] if new is not None else [])
        for qp in (32, 42):  # both weights at each QP, so that a cut-short run still compares them
            for label, weights in labels:
                if self.left() < 8:
                    res["incomplete"] = True
                    break
                extra = [f"--ModelWeights={weights}"] if weights else []
                self.sh([*self.cli, "encode", "-c", "cfg/lowdelay.cfg", "--Model=gnvc-vd-default", "-i", self.clip,
                         "-wdt", self.w, "-hgt", self.h, "-fr", 30, "-f", self.frames, f"--GOPFrames={self.frames}",
                         "-q", qp, "-b", self.tmp / "rd.gvc", f"--Device={self.device}", f"--ResultsFile={csv_path}",
                         f"--CodecLabel={label}", *extra], 60, f"RD {label} QP {qp}")
            if res.get("incomplete"):
                break
        if csv_path.is_file():
            res["rows"] = list(csv.DictReader(csv_path.open()))

    def finish(self) -> None:
        self.summary["seconds"] = round(time.monotonic() - self.t0, 1)
        (self.out / "summary.json").write_text(json.dumps(self.summary, indent=1))
        self.say(f"done; files in {self.out}: {sorted(p.name for p in self.out.iterdir())}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--gpu-dir", default=str(ROOT / ".gpu"))
    ap.add_argument("--tmp", default="/tmp/gvcodec-gpu-run")
    ap.add_argument("--budget", type=float, default=510.0, help="seconds for the whole run")
    ap.add_argument("--paper-seconds", type=float, default=170.0)
    ap.add_argument("--givic-seconds", type=float, default=35.0)
    ap.add_argument("--train-bench-seconds", type=float, default=70.0)
    ap.add_argument("--reserve", type=float, default=60.0, help="seconds phases 2-3 leave for training, conversion and RD at least (more when the "
                    "entry phase's process starts say this machine needs more)")
    opts = ap.parse_args(argv)
    Path(opts.out).mkdir(parents=True, exist_ok=True)
    run = Run(opts)
    try:
        for phase in ("entry", "paper", "givic_sizes"):
            getattr(run, phase)()
            run.finish()  # a summary after every phase, in case the run is cut short
        rates = run.train_bench()
        run.finish()
        new = run.fit(rates)
        run.finish()
        run.rd(new)
    finally:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
