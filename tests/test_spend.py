"""SPEC 1.3 spend table: reading, column mapping, validation, sums per channel and period."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution.exceptions import InputError, ParameterError
from attribution.io.spend import read_spend
from kpikit import SPEND


def test_csv_and_parquet_read_the_same(tmp_path):
    csv = tmp_path / "spend.csv"
    pq = tmp_path / "spend.parquet"
    SPEND.to_csv(csv, index=False)
    SPEND.to_parquet(pq, index=False)
    a = read_spend(csv).by_channel()
    b = read_spend(pq).by_channel()
    pd.testing.assert_frame_equal(a, b)
    assert a["channel"].tolist() == ["email", "search", "tv"]
    assert a["spend"].tolist() == [10.0, 50.0, 5.0]  # search 20 + 30 summed once


def test_by_month_and_week():
    s = read_spend(SPEND)
    m = s.by_channel("month")
    days = [str(pd.Timestamp(int(d), unit="D").date()) for d in m["period"]]
    assert list(zip(m["channel"], days, m["spend"])) == [
        ("email", "2026-01-01", 10.0), ("search", "2026-01-01", 20.0), ("search", "2026-02-01", 30.0),
        ("tv", "2026-02-01", 5.0)]
    w = s.by_channel("week")
    # 2026-02-02 (Monday) and 2026-02-03 are one ISO week; 2026-01-20 (Tuesday) is in the week of 2026-01-19
    days = [str(pd.Timestamp(int(d), unit="D").date()) for d in w["period"]]
    assert days == ["2026-01-12", "2026-01-19", "2026-02-02", "2026-02-02"]


def test_column_mapping_and_trimmed_channels(tmp_path):
    path = tmp_path / "costs.csv"
    pd.DataFrame({"medium": [" email ", "search"], "cost": [1.5, 2.0], "day": ["2026-01-01", "2026-01-02"]}).to_csv(
        path, index=False)
    s = read_spend(path, columns=["channel=medium", "spend=cost", "date=day"])
    assert s.has_dates
    assert s.by_channel()["channel"].tolist() == ["email", "search"]


def test_null_spend_is_zero():
    s = read_spend(pd.DataFrame({"channel": ["a", "a"], "spend": [1.0, None]}))
    assert s.total == 1.0


def test_every_broken_rule_reported_at_once(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"channel": ["a", None, "(none)", "b"], "spend": ["1", "x", "2", "-3"],
                  "date": ["2026-01-01", "2026-01-02", "yesterday", "2026-01-03"]}).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_spend(path)
    assert sorted(err.value.codes) == sorted(
        ["channel_missing", "channel_reserved", "not_numeric", "negative", "date_unparsable"])
    assert {p.column for p in err.value.problems if p.code in ("not_numeric", "negative")} == {"spend"}
    text = str(err.value)
    assert str(path) in text and "column 'spend'" in text and "first at row 3" in text


def test_missing_columns_name_the_mapping_fix(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"channel": ["a"], "cost": [1.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"spend_column='spend=YOUR_COLUMN'"):
        read_spend(path)
    with pytest.raises(ParameterError, match="unknown column"):
        read_spend(path, columns=["price=cost"])
    with pytest.raises(InputError, match="does not exist"):
        read_spend(tmp_path / "nope.csv")


def test_cost_types():
    s = read_spend(pd.DataFrame({"channel": ["a", "a", "a"], "spend": [10.0, 5.0, 1.0],
                                 "cost_type": ["media", "staff", None]}))
    got = s.by_channel()
    assert got[["spend", "media_spend"]].iloc[0].tolist() == [16.0, 11.0]  # null cost type counts as media


def test_period_without_dates_is_explained():
    with pytest.raises(ParameterError, match="spend_column='date=YOUR_COLUMN'"):
        read_spend(pd.DataFrame({"channel": ["a"], "spend": [1.0]})).by_channel("month")
