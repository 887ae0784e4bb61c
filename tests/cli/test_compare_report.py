"""``attribution compare`` and ``attribution report`` end to end on the small KPI log (no browser here; see
tests/test_report_browser.py)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from attribution.cli.app import main
from attribution.kpis.compare import compare_table
from attribution.runner import run
from kpikit import write_inputs

# kpikit's spend has a channel (tv) absent from the log on purpose
pytestmark = pytest.mark.filterwarnings("ignore:spend channel")


def call(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_compare_writes_the_wide_table_and_the_chart(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    out, chart = tmp_path / "wide.csv", tmp_path / "compare.png"
    assert call("compare", events, "-m", "linear", "-m", "first_touch", "--output", out, "--plot", chart,
                "--quiet") == 0
    wide = pd.read_csv(out)
    expected = compare_table(run([str(events)], models=["linear", "first_touch"]).table)
    assert list(wide.columns) == ["channel", "share_linear", "share_first_touch", "rank_linear",
                                  "rank_first_touch", "spread"]
    pd.testing.assert_frame_equal(wide, expected, check_dtype=False)
    assert "(none)" not in set(wide["channel"])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert call("compare", events, "-m", "linear", "-m", "last_touch", "--touchless", "--quiet") == 0
    printed = capsys.readouterr().out
    assert "share_last_touch" in printed and "(none)" in printed and "spread" in printed


def test_compare_refuses_a_bad_chart_name_before_any_work(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    out = tmp_path / "wide.csv"
    assert call("compare", events, "--output", out, "--plot", tmp_path / "chart.gif", "--quiet") == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "chart.gif" in err and "Traceback" not in err
    assert not out.exists()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of the small log with spend, a lead milestone and intervals, written twice."""
    tmp = tmp_path_factory.mktemp("report")
    events, spend = write_inputs(tmp)
    paths = [tmp / "one.html", tmp / "two.html"]
    for path in paths:
        code = call("report", events, "--spend", spend, "--milestone-event", "lead", "--ci", "0.9", "--bootstrap",
                    "20", "--output", path, "--quiet")
        assert code == 0
    return paths


def test_report_is_reproducible_byte_for_byte(report):
    assert report[0].read_bytes() == report[1].read_bytes()


def test_report_is_self_contained(report):
    page = report[0].read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'; img-src data:" in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", page, re.I)  # every resource is inline
    assert not re.search(r"url\(|@import|@font-face", page, re.I)  # no CSS load either
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)
    assert len(images) >= 9  # comparison, ROAS, CPA, 2 trends, funnel, lengths, lags, top paths, Markov x2


def test_report_has_every_section_with_how_to_read_it(report):
    page = report[0].read_text(encoding="utf-8")
    for title in ("Model comparison", "Channels (markov)", "Return on spend by model", "Trend by period",
                  "Funnel", "Journeys and paths", "Markov removal effects", "Settings of this run"):
        assert f"<h2>{title}" in page
    assert page.count("How to read this.") == 8
    for label in ("Conversions", "Revenue", "Spend", "Blended ROAS"):
        assert f'<div class="label">{label}</div>' in page
    # headline: 3 conversions (a, b and the touchless d); revenue 160; spend in the log's channels 65
    assert '<div class="value">3</div>' in page and '<div class="value">160.00</div>' in page
    assert "<th>Interval</th>" in page  # --ci


def test_report_refuses_a_non_html_output(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    assert call("report", events, "--output", tmp_path / "report.pdf", "--quiet") == 2
    assert ".html" in capsys.readouterr().err
    assert not (tmp_path / "report.pdf").exists()


def test_report_without_spend_markov_or_period_says_what_is_missing(tmp_path):
    events, _ = write_inputs(tmp_path)
    out = tmp_path / "plain.html"
    assert call("report", events, "-m", "linear", "--period", "none", "--output", out, "--quiet") == 0
    page = out.read_text(encoding="utf-8")
    assert "No spend table given." in page and "--model markov" in page and "No period chosen" in page
    assert '<div class="label">Spend</div>' not in page and "Blended ROAS" not in page
    assert "<h2>Channels (linear)</h2>" in page and "<h2>Funnel</h2>" in page
