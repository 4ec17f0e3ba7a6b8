"""The study server without a browser: files served, POSTs checked against the study, appends de-duplicated."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from gvcodec.errors import InputError
from gvcodec.report.study.page import load_study, render_page
from gvcodec.report.study.server import make_server


@pytest.fixture
def server(make_study):
    root = make_study(clips=("a",))
    srv = make_server(root, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def post(url, payload):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(url + "/choices", data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_study_is_seeded_and_complete(make_study):
    root = make_study(clips=("a", "b"), seed=3)
    study = load_study(root)
    assert len(study["trials"]) == 6 and len({t["id"] for t in study["trials"]}) == 6
    for t in study["trials"]:
        assert {t["left"]["codec"], t["right"]["codec"]} <= {"best", "middle", "worst"}
        assert t["left"]["codec"] != t["right"]["codec"] and (root / t["reference"]).is_file()
        assert (root / t["left"]["src"]).is_file() and (root / t["right"]["src"]).is_file()
    sides = [t["left"]["codec"] for t in study["trials"]]
    again = make_study(clips=("b", "a"), seed=3, folder="again")  # same inputs and seed: the same trials
    assert load_study(again)["trials"] == study["trials"]
    other = load_study(make_study(clips=("a", "b"), seed=4, folder="other"))["trials"]
    assert [(t["id"], t["left"]) for t in other] != [(t["id"], t["left"]) for t in study["trials"]]
    assert study["id"] in render_page(study)
    hostile = dict(study, trials=[dict(study["trials"][0], clip="</script><script>alert(1)</script>")])
    assert render_page(hostile).count("</script>") == render_page(study).count("</script>") == 2
    assert len(set(sides)) > 1  # left/right is drawn, not alphabetical


def test_posts_are_checked_and_appended_once(server):
    root, url = server
    with urllib.request.urlopen(url + "/index.html", timeout=10) as r:
        assert b"Which video is closer" in r.read()
    trial = load_study(root)["trials"][0]
    good = {"id": "r1", "trial": trial["id"], "side": "right", "chosen": trial["right"]["codec"], "viewer": "v"}
    assert post(url, good) == (200, {"recorded": 1})
    assert post(url, good) == (200, {"recorded": 1})  # a retried record is not added twice
    assert post(url, [dict(good, id="r2"), dict(good, id="r3")]) == (200, {"recorded": 3})
    for bad, message in ((dict(good, id="x", chosen=trial["left"]["codec"]), "shows"),
                         (dict(good, id="x", trial="nope"), "unknown trial"),
                         (dict(good, id="x", side="up"), "side must be"),
                         ({k: v for k, v in good.items() if k != "viewer"}, "viewer")):
        status, reply = post(url, bad)
        assert status == 400 and message in reply["error"]
    assert post(url, b"{oops")[0] == 400
    recorded = json.loads((root / "choices.json").read_text())
    assert [r["id"] for r in recorded] == ["r1", "r2", "r3"] and all("received" in r for r in recorded)


def test_server_needs_a_study_folder(tmp_path):
    with pytest.raises(InputError, match="has no index.html"):
        make_server(tmp_path, port=0)
