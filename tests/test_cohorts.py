"""Cohort lifetime value (attribution/kpis/cohorts.py, ``attribution funnel --ltv``), numbers by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.io.events import Events
from attribution.kpis.cohorts import cohort_ltv

runner = CliRunner()

LOG = pd.DataFrame([
    ("a", "2026-01-10", "conversion", 100.0), ("a", "2026-02-05", "conversion", 50.0),
    ("a", "2026-04-01", "conversion", 10.0), ("b", "2026-01-20", "conversion", 30.0),
    ("b", "2026-01-02", "touch", None), ("c", "2026-02-15", "conversion", 20.0),
    ("c", "2026-03-01", "conversion", 40.0), ("d", "2026-04-20", "touch", None),
], columns=["user_id", "timestamp", "event", "revenue"]).assign(channel=lambda f: f["event"].map({"touch": "Email"}))


def test_monthly_cohorts_by_hand():
    frame = cohort_ltv(Events.from_frame(LOG), period="month")
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    # January cohort (a, b): 130 in January, 50 in February, 0 in March, 10 in April (the log's last month)
    # February cohort (c): 20, 40, 0
    expected = [(jan, 0, 2, 130.0, 130.0, 65.0), (jan, 1, 2, 50.0, 180.0, 90.0), (jan, 2, 2, 0.0, 180.0, 90.0),
                (jan, 3, 2, 10.0, 190.0, 95.0), (feb, 0, 1, 20.0, 20.0, 20.0), (feb, 1, 1, 40.0, 60.0, 60.0),
                (feb, 2, 1, 0.0, 60.0, 60.0)]
    assert [tuple(r) for r in frame.itertuples(index=False)] == expected


def test_weekly_cohorts_count_weeks_since_the_first_conversion():
    frame = cohort_ltv(Events.from_frame(LOG), period="week")
    first = frame[frame["cohort"] == dt.date(2026, 1, 5)]  # a's first conversion, Saturday 10 January
    assert first["customers"].unique().tolist() == [1]
    # a converts again on 5 February (Thursday of the week of 2 February: 4 weeks later) and on 1 April (12 weeks)
    assert first.loc[first["revenue"] > 0, "periods_since_first"].tolist() == [0, 4, 12]
    assert first["cumulative_revenue"].iloc[-1] == 160.0


def test_no_conversions_gives_an_empty_table():
    frame = cohort_ltv(Events.from_frame(LOG[LOG["event"] == "touch"]), period="month")
    assert frame.empty and list(frame.columns)[:2] == ["cohort", "periods_since_first"]


def test_cli_funnel_ltv(tmp_path):
    LOG.to_csv(tmp_path / "log.csv", index=False)
    result = runner.invoke(app, ["funnel", str(tmp_path / "log.csv"), "--ltv", "--period", "month", "-o",
                                 str(tmp_path / "ltv.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "ltv.csv")
    assert table["revenue_per_customer"].tolist() == [65.0, 90.0, 90.0, 95.0, 20.0, 60.0, 60.0]
    bad = runner.invoke(app, ["funnel", str(tmp_path / "log.csv"), "--ltv", "--period", "year"])
    assert bad.exit_code == 2
