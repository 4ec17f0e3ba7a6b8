"""A small real study folder (H.264 clips written by gvcodec) and a headless Chromium driven by
Selenium, skipped with the reason where no browser, driver or selenium is installed."""

from __future__ import annotations

import shutil
from fractions import Fraction

import numpy as np
import pytest

CODECS = ("best", "middle", "worst")


def _clip(path, shift: int, frames: int = 5, size=(64, 48)):
    from gvcodec.report.video_writer import RgbVideoWriter

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    writer = RgbVideoWriter(path, w, h, Fraction(10))
    for t in range(frames):
        img = np.stack([(xx * 4 + t * 9 + shift) % 256, (yy * 5 + shift) % 256, np.full_like(xx, 128)], -1)
        writer.write(img.astype(np.uint8))
    writer.close()


@pytest.fixture
def make_study(tmp_path):
    """make_study(clips=("a", "b"), seed=3, folder="study") -> study folder with three codecs per clip."""
    from gvcodec.report.study.page import add_clip, clip_paths
    from gvcodec.report.video_writer import browser_suffix

    def make(clips=("a", "b"), seed=3, folder="study"):
        root = tmp_path / folder
        for clip in clips:
            ref, videos = clip_paths(root, clip, list(CODECS), browser_suffix())
            _clip(ref, 0)
            for i, path in enumerate(videos.values()):
                _clip(path, 20 * (i + 1))
            add_clip(root, clip, ref, videos, seed)
        return root

    return make


def _find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium (Debian's chromium + chromium-driver) through Selenium; downloads go to tmp_path/dl."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    binary, driver_path = _find_browser(), shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver (.ci/run does)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1200,900"):
        opts.add_argument(arg)
    downloads = tmp_path / "dl"
    downloads.mkdir()
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
