"""The study page in a real headless browser: served by the real --serve server, choices made by
clicking, the recorded JSON checked; and the fallback when the server cannot be reached."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gvcodec.report.study.server import make_server
from gvcodec.report.study.tally import load_choices, tally


def wait_for(predicate, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(make_study):
    root = make_study()
    server = make_server(root, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def videos_playable(driver):
    return driver.execute_script(
        "return ['video-ref','video-left','video-right'].every(function (id) {"
        " var v = document.getElementById(id); return v.readyState >= 2 && v.videoWidth === 64; });")


def test_choices_round_trip_through_the_server(served, browser):
    root, url = served
    study = json.loads((root / "study.json").read_text())
    trials = study["trials"]
    assert len(trials) == 6  # 3 pairs in each of 2 clips
    browser.get(url + "?viewer=tester")
    expected = []
    for i, trial in enumerate(trials):
        wait_for(lambda: browser.find_element("tag name", "body").get_attribute("data-trial") == str(i),
                 what=f"trial {i}")
        # the page shows this trial's clips, and the browser decodes them
        assert browser.execute_script("return document.getElementById('video-left').src").endswith(trial["left"]["src"])
        wait_for(lambda: videos_playable(browser), what="the three videos to load")
        # rule of this viewer: prefer "best", otherwise the left video
        side = "right" if trial["right"]["codec"] == "best" else "left"
        browser.find_element("id", f"choose-{side}").click()
        expected.append((trial["id"], side, trial[side]["codec"]))
    wait_for(lambda: browser.find_element("tag name", "body").get_attribute("data-saved") == "6",
             what="all choices to be saved")
    assert browser.find_element("id", "done").is_displayed()
    recorded = json.loads((root / "choices.json").read_text())
    assert [(r["trial"], r["side"], r["chosen"]) for r in recorded] == expected
    assert {r["viewer"] for r in recorded} == {"tester"} and all(r["received"] for r in recorded)
    assert all(r["study"] == study["id"] and r["elapsed_ms"] >= 0 for r in recorded)
    pairs = {(p.a, p.b): p for p in tally(recorded)}
    assert pairs[("best", "middle")].a_wins == pairs[("best", "middle")].n == 2
    assert pairs[("best", "worst")].a_share == 1.0

    # the download fallback holds the same choices, and the tally drops the duplicates
    browser.find_element("id", "download").click()
    path = wait_for(lambda: next(iter(browser.downloads.glob("choices-tester*.json")), None), what="the download")
    wait_for(lambda: path.stat().st_size > 0 and json.loads(path.read_text()), what="the download to finish")
    records, dups = load_choices([root / "choices.json", path])
    assert len(records) == 6 and dups == 6


def test_page_without_server_keeps_choices_for_download(make_study, browser):
    root = make_study(clips=("a",))
    browser.get((root / "index.html").as_uri() + "?viewer=offline")
    wait_for(lambda: browser.find_element("id", "choose-left").is_enabled(), what="the first trial")
    browser.find_element("id", "choose-left").click()
    wait_for(lambda: browser.find_element("tag name", "body").get_attribute("data-failed") == "1",
             what="the failed POST")
    assert "Download choices" in browser.find_element("id", "status").text
    assert not (root / "choices.json").exists()
    browser.find_element("id", "download").click()
    path = wait_for(lambda: next(iter(browser.downloads.glob("choices-offline*.json")), None), what="the download")
    wait_for(lambda: path.stat().st_size > 0 and json.loads(path.read_text()), what="the download to finish")
    records, _ = load_choices([path])
    first = json.loads((root / "study.json").read_text())["trials"][0]
    assert [(r["trial"], r["side"], r["chosen"]) for r in records] == [(first["id"], "left", first["left"]["codec"])]
