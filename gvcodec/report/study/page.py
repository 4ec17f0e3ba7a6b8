"""The study folder: clips, `study.json` (the trials) and `index.html` (the page, trials inlined).

Layout of a study folder::

    index.html                       the page; works from the server or opened as a file
    study.json                       {"format", "id", "seed", "clips": {clip: {reference, videos}}, "trials": [...]}
    videos/<clip>/reference.mp4      the reference, cropped like the others
    videos/<clip>/<codec>.mp4        one per decoded video
    choices.json                     written by `gvcodec compare --serve` (a list of choice records)

Each clip adds one trial per pair of its codecs. Which codec is shown on the left is drawn from a
generator seeded with the study seed and the trial id, and the trial order from one seeded with the
study seed, so the same inputs and seed always give the same page. Adding a clip that is already
there replaces its trials.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from importlib import resources
from pathlib import Path

from gvcodec.errors import InputError
from gvcodec.io.atomic import AtomicFile
from gvcodec.report.plots import safe_name

FORMAT = "gvcodec-study-1"
STUDY_FILE, PAGE_FILE, CHOICES_FILE = "study.json", "index.html", "choices.json"


def clip_paths(study_dir: str | Path, clip: str, names: list[str], suffix: str) -> tuple[Path, dict[str, Path]]:
    """Where `compare --html` writes a clip's reference and decoded videos (folders are created)."""
    folder = Path(study_dir) / "videos" / safe_name(clip)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"reference{suffix}", {n: folder / f"{safe_name(n)}{suffix}" for n in names}


def load_study(study_dir: str | Path) -> dict:
    """The study description of a folder (an empty study if it has none yet).

    Raises:
        InputError: study.json exists but is not a gvcodec study.
    """
    path = Path(study_dir) / STUDY_FILE
    if not path.exists():
        return {"format": FORMAT, "id": "", "seed": 0, "clips": {}, "trials": []}
    try:
        study = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read study {path}: {exc}") from None
    if not isinstance(study, dict) or study.get("format") != FORMAT:
        raise InputError(f"{path} is not a gvcodec study (format {FORMAT})")
    return study


def _trials(clips: dict, seed: int) -> list[dict]:
    trials = []
    for clip, spec in sorted(clips.items()):
        for a, b in itertools.combinations(sorted(spec["videos"]), 2):
            tid = f"{clip}:{a}|{b}"
            if random.Random(f"{seed}/{tid}").random() < 0.5:
                a, b = b, a
            trials.append({"id": tid, "clip": clip, "reference": spec["reference"],
                           "left": {"codec": a, "src": spec["videos"][a]},
                           "right": {"codec": b, "src": spec["videos"][b]}})
    random.Random(seed).shuffle(trials)
    return trials


def add_clip(study_dir: str | Path, clip: str, reference: Path, videos: dict[str, Path], seed: int) -> dict:
    """Add (or replace) a clip in the study and rewrite study.json and index.html.

    Args:
        study_dir: the study folder.
        clip: clip name (one per reference sequence).
        reference: the reference clip's file (inside `study_dir`).
        videos: codec name -> decoded clip file (inside `study_dir`); at least two.
        seed: study seed (left/right order and trial order).

    Returns:
        The study description written.
    """
    if len(videos) < 2:
        raise InputError("a study clip needs at least two decoded videos to compare")
    root = Path(study_dir)
    study = load_study(root)
    study["clips"][clip] = {"reference": reference.relative_to(root).as_posix(),
                            "videos": {n: p.relative_to(root).as_posix() for n, p in videos.items()}}
    study["seed"] = seed
    study["trials"] = _trials(study["clips"], seed)
    ids = "\n".join(sorted(t["id"] for t in study["trials"])) + f"\n{seed}"
    study["id"] = hashlib.sha256(ids.encode()).hexdigest()[:12]
    with AtomicFile(root / STUDY_FILE, "study") as f:
        f.write((json.dumps(study, indent=1) + "\n").encode())
    write_page(root, study)
    return study


def render_page(study: dict) -> str:
    """The page's HTML with the study inlined (so it also works when opened as a file)."""
    template = resources.files("gvcodec.report.study").joinpath("page.html").read_text(encoding="utf-8")
    inline = json.dumps({"id": study["id"], "trials": study["trials"]}, separators=(",", ":"))
    inline = inline.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return template.replace("__STUDY_JSON__", inline)


def write_page(study_dir: str | Path, study: dict) -> Path:
    """Write index.html for `study` into its folder."""
    path = Path(study_dir) / PAGE_FILE
    with AtomicFile(path, "study page") as f:
        f.write(render_page(study).encode("utf-8"))
    return path
