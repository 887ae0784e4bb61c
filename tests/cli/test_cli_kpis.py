"""``attribution run --spend/--period/--milestone-event/--detail/--table`` and ``attribution funnel`` end to end."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

from attribution.cli.app import main
from kpikit import write_inputs


# kpikit's spend has a channel (tv) absent from the log on purpose; its warning is tested once
pytestmark = pytest.mark.filterwarnings("ignore:spend channel")

def call(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_roi_table_by_month_to_csv_is_reproducible(tmp_path, capsys):
    events, spend = write_inputs(tmp_path)
    out1, out2 = tmp_path / "roi1.csv", tmp_path / "roi2.csv"
    for out in (out1, out2):
        assert call("run", events, "-m", "linear", "-m", "first_touch", "--spend", spend, "--period", "month",
                    "--milestone-event", "lead", "--output", out, "--quiet") == 0
    assert out1.read_bytes() == out2.read_bytes()
    table = pd.read_csv(out1)
    assert list(table.columns[:3]) == ["model", "channel", "period"]
    assert {"spend", "roas", "roi", "cpa", "leads", "cpl", "win_rate"} <= set(table.columns)
    assert table["period"].tolist()[0] == "2026-01-01"
    # the ratios of a row come from its own sums; no infinities anywhere
    assert not table.isin([float("inf"), float("-inf")]).any().any()


def test_json_periods_are_iso_dates(tmp_path):
    events, spend = write_inputs(tmp_path)
    out = tmp_path / "roi.json"
    assert call("run", events, "-m", "linear", "--spend", spend, "--period", "week", "--output", out, "-q") == 0
    rows = json.loads(out.read_text())
    assert rows[0]["channel"] == "(none)" and rows[0]["period"] == "2026-01-19"  # d converts on Tuesday 01-20


def test_sqlite_output_and_detail(tmp_path):
    events, spend = write_inputs(tmp_path)
    db = tmp_path / "bi.db"
    assert call("run", events, "-m", "linear", "--spend", spend, "--output", f"sqlite:///{db}", "--table",
                "channel_roi", "--detail", f"sqlite:///{db}", "-q") == 0
    with sqlite3.connect(db) as con:
        roi = pd.read_sql("select * from channel_roi", con)
        detail = pd.read_sql("select * from attribution_detail", con)
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert roi["spend"].sum() == pytest.approx(65.0)
    assert detail.groupby("channel")["attributed_revenue"].sum().to_dict() == pytest.approx(
        roi.set_index("channel")["revenue"][lambda s: s > 0].to_dict())


def test_detail_to_parquet(tmp_path):
    events, _ = write_inputs(tmp_path)
    path = tmp_path / "detail.parquet"
    assert call("run", events, "-m", "linear", "-m", "last_touch", "--detail", path, "-q") == 0
    detail = pd.read_parquet(path)
    # approx: weights summed per conversion after a CSV round trip
    assert detail.groupby(["model", "conversion_id"])["weight"].sum().tolist() == pytest.approx([1.0] * 6)


def test_sql_output_without_table_fails_before_any_work(tmp_path, capsys):
    events, spend = write_inputs(tmp_path)
    db = tmp_path / "bi.db"
    assert call("run", events, "--spend", spend, "--output", f"sqlite:///{db}") == 2
    err = capsys.readouterr().err
    assert "error:" in err and "--table NAME" in err and "Traceback" not in err
    assert not db.exists()


def test_bad_spend_exits_2_naming_the_file(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    bad = tmp_path / "spend.csv"
    pd.DataFrame({"channel": ["email"], "cost": [3.0]}).to_csv(bad, index=False)
    assert call("run", events, "--spend", bad) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "spend" in err and "--spend-column" in err
    assert call("run", events, "--spend", bad, "--spend-column", "spend=cost", "-q") == 0


def test_period_without_spend_dates_exits_2(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    undated = tmp_path / "s.csv"
    pd.DataFrame({"channel": ["email"], "spend": [3.0]}).to_csv(undated, index=False)
    assert call("run", events, "--spend", undated, "--period", "month") == 2
    assert "no 'date' column" in capsys.readouterr().err


def test_funnel_command(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    assert call("funnel", events, "--milestone-event", "lead") == 0
    out = capsys.readouterr().out
    assert "lead_rate" in out and "lead_source" in out
    path = tmp_path / "funnel.csv"
    assert call("funnel", events, "--milestone-event", "lead", "--output", path) == 0
    f = pd.read_csv(path)
    overall = f[f["by"] == "all"].iloc[0]
    # users a, b, c, d; leads a, b and d (a customer passed the lead stage) → 3; customers a, b, d → 3
    assert overall[["users", "lead", "customers"]].tolist() == [4, 3, 3]


def test_path_tables_take_spend_but_not_detail_or_period(tmp_path, capsys):
    paths = tmp_path / "paths.csv"
    pd.DataFrame({"path": ["email > search", "search"], "conversions": [2.0, 1.0], "nulls": [1.0, 3.0],
                  "revenue": [20.0, 5.0]}).to_csv(paths, index=False)
    _, spend = write_inputs(tmp_path)
    out = tmp_path / "roi.csv"
    assert call("run", paths, "--input", "paths", "-m", "linear", "--spend", spend, "--output", out, "-q") == 0
    t = pd.read_csv(out).set_index("channel")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert t.loc["search", "spend"] == 50 and t.loc["search", "roas"] == pytest.approx(15 / 50)  # (20 / 2 + 5) / 50
    assert call("run", paths, "--input", "paths", "--detail", tmp_path / "d.csv") == 2
    assert "--detail needs an event log" in capsys.readouterr().err
    assert call("run", paths, "--input", "paths", "--spend", spend, "--period", "month") == 2
    assert "path table" in capsys.readouterr().err


def test_by_campaign_cli(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    spend = tmp_path / "spend_campaigns.csv"
    pd.DataFrame({"channel": ["email", "search"], "campaign": ["spring", "brand"], "spend": [10.0, 20.0]}).to_csv(
        spend, index=False)
    out = tmp_path / "roi.csv"
    assert call("run", events, "-m", "linear", "--spend", spend, "--by", "campaign", "--output", out, "-q") == 0
    t = pd.read_csv(out)
    assert list(t.columns[:3]) == ["model", "channel", "campaign"]
    row = t[(t["channel"] == "search") & (t["campaign"] == "brand")].iloc[0]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert row["roas"] == pytest.approx(50 / 20)
    undated = tmp_path / "s.csv"
    pd.DataFrame({"channel": ["email"], "spend": [3.0]}).to_csv(undated, index=False)
    assert call("run", events, "--spend", undated, "--by", "campaign") == 2
    assert "no 'campaign' column" in capsys.readouterr().err


def test_detail_and_table_in_one_database_need_different_names(tmp_path, capsys):
    events, _ = write_inputs(tmp_path)
    db = f"sqlite:///{tmp_path / 'bi.db'}"
    assert call("run", events, "-m", "linear", "--output", db, "--table", "t", "--detail", db, "--detail-table",
                "t", "-q") == 2
    assert "give them different names" in capsys.readouterr().err
    same = tmp_path / "x.csv"
    assert call("run", events, "-m", "linear", "--output", same, "--detail", same, "-q") == 2
    assert "same file" in capsys.readouterr().err and not same.exists()
