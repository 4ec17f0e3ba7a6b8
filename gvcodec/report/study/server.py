"""`gvcodec compare --serve DIR`: serve a study folder and record the viewers' choices.

GET serves the folder's files (the page and its videos). POST /choices takes one choice record
(or a list of them) as JSON, checks it against study.json (known trial, the chosen codec is the
one shown on the chosen side), stamps the time it was received and appends it to choices.json.
The file is rewritten whole, atomically, under a lock, so it is valid JSON at every moment; a
record whose `id` is already there is not added twice (the page may retry).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from gvcodec.errors import InputError, OutputError
from gvcodec.io.atomic import AtomicFile
from gvcodec.report.study.page import CHOICES_FILE, PAGE_FILE, load_study

MAX_BODY = 256 * 1024
TEXT_FIELDS = ("id", "trial", "side", "chosen", "viewer")


class ChoiceLog:
    """choices.json of a study folder: validated, de-duplicated appends."""

    def __init__(self, study_dir: str | Path):
        self.root = Path(study_dir)
        self.path = self.root / CHOICES_FILE
        self.lock = threading.Lock()
        self.trials = {t["id"]: t for t in load_study(self.root)["trials"]}

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}") from None
        if not isinstance(data, list):
            raise InputError(f"{self.path} is not a list of choices")
        return data

    def check(self, record) -> str | None:
        """Why `record` cannot be recorded, or None."""
        if not isinstance(record, dict):
            return "a choice is a JSON object"
        for key in TEXT_FIELDS:
            if not isinstance(record.get(key), str) or not record[key] or len(record[key]) > 200:
                return f"field `{key}' must be a non-empty string"
        trial = self.trials.get(record["trial"])
        if trial is None:
            return f"unknown trial `{record['trial']}'"
        if record["side"] not in ("left", "right"):
            return "side must be `left' or `right'"
        if trial[record["side"]]["codec"] != record["chosen"]:
            return f"trial `{record['trial']}' shows {trial[record['side']]['codec']} on the {record['side']}"
        return None

    def append(self, records: list[dict]) -> int:
        """Check all `records`, then add the new ones; returns the number of choices now recorded.

        Raises:
            ValueError: a record is malformed (nothing is added).
        """
        for r in records:
            problem = self.check(r)
            if problem:
                raise ValueError(problem)
        with self.lock:
            current = self.read()
            seen = {c.get("id") for c in current}
            received = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for r in records:
                if r["id"] not in seen:
                    current.append({**r, "received": received})
                    seen.add(r["id"])
            with AtomicFile(self.path, "choices") as f:
                f.write((json.dumps(current, indent=1) + "\n").encode())
            return len(current)


class StudyHandler(SimpleHTTPRequestHandler):
    """Files of the study folder, plus POST /choices."""

    log: ChoiceLog
    quiet = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?")[0].rstrip("/") not in ("/choices", "/" + CHOICES_FILE):
            self._reply(HTTPStatus.NOT_FOUND, {"error": "POST to /choices"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"body must be 1..{MAX_BODY} bytes"})
            return
        try:
            data = json.loads(self.rfile.read(length))
            total = self.log.append(data if isinstance(data, list) else [data])
        except (ValueError, UnicodeDecodeError) as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except OutputError as exc:
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(exc)})
            return
        self._reply(HTTPStatus.OK, {"recorded": total})

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _reply(self, status: HTTPStatus, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        if not self.quiet:
            super().log_message(format, *args)


def make_server(study_dir: str | Path, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = False) -> ThreadingHTTPServer:
    """A server for the study in `study_dir` (port 0 picks a free one); call serve_forever() on it.

    Raises:
        InputError: the folder has no study page.
        OutputError: the address cannot be bound.
    """
    root = Path(study_dir)
    if not (root / PAGE_FILE).is_file():
        raise InputError(f"`{root}' has no {PAGE_FILE}: make the study with `gvcodec compare ... --html {root}' first")
    log = ChoiceLog(root)
    log.read()  # a corrupt choices.json is reported now, not at the first POST
    handler = type("BoundStudyHandler", (StudyHandler,), {"log": log, "quiet": quiet})
    try:
        server = ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))
    except OSError as exc:
        raise OutputError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    server.daemon_threads = True
    return server
