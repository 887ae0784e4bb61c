"""The HTML report in a real headless browser: it loads from a file with no console message (so no blocked
external request: its Content-Security-Policy would log one) and its screenshot is not blank.

Chromium comes from Debian's packages; ``.ci/run`` installs it when missing and names it in
``ATTRIBUTION_TEST_CHROMIUM``. Without a Chromium these tests skip locally and FAIL under CI (``CI`` set).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from attribution.htmlreport.browser import CHROMIUM_ENV, find_chromium, screenshot

pytestmark = pytest.mark.filterwarnings("ignore:spend channel")


@pytest.fixture(scope="module")
def chromium():
    found = find_chromium()
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium under CI: .ci/run should have installed it and set {CHROMIUM_ENV} "
                        "(see its log above the test run)")
        pytest.skip(f"no Chromium ({CHROMIUM_ENV} unset, none on PATH): apt-get install chromium")
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from attribution.sim.datasets import sample_events_path, sample_spend_path
    from attribution.htmlreport import write_report

    path = tmp_path_factory.mktemp("browser") / "report.html"
    write_report(path, [sample_events_path()], spend=sample_spend_path(), milestone_events=("lead", "qualified"),
                 ci=0.9, n_boot=20, progress=False)
    return path


def pixels(png) -> np.ndarray:
    from matplotlib.image import imread

    return imread(str(png))[..., :3]  # RGB floats in 0..1


def test_report_loads_cleanly_and_is_not_blank(chromium, report, tmp_path):
    shot = tmp_path / "report.png"
    console = screenshot(chromium, report, shot, 1280, 2000)
    assert console == [], "console messages (a blocked load or an error):\n" + "\n".join(console)
    image = pixels(shot)
    assert image.shape == (2000, 1280, 3)
    # a blank page is one colour; the report has text, cards and charts: many pixels differ from the
    # background (the most common colour) and the spread of grey levels is wide
    grey = image.mean(axis=2)
    values, counts = np.unique(np.round(grey, 3), return_counts=True)
    background = values[np.argmax(counts)]
    assert np.mean(np.abs(grey - background) > 0.05) > 0.05  # over 5% of the page is drawn on
    assert grey.std() > 0.05  # on a 0..1 scale: a blank page has 0


def test_the_check_catches_external_loads_and_errors(chromium, tmp_path):
    from attribution.htmlreport.page import CSP

    page = tmp_path / "bad.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
                    '</head><body><p>x</p><img src="http://127.0.0.1:9/x.png"></body></html>', encoding="utf-8")
    console = screenshot(chromium, page, tmp_path / "bad.png", 400, 300)
    assert any("127.0.0.1:9/x.png" in line for line in console)
