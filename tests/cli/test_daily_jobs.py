"""Daily jobs: ``--conversions-from/--conversions-to`` with SQL ``--if-exists append|replace-periods``.

Three daily runs appended into SQLite equal one run over the three days (per-day rows, journey-local models);
re-running a day with replace-periods leaves the table as it was; a window reads only the Parquet row groups
its lookback needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import OutputError
from attribution.runner import run
from attribution.io.sql import read_sql, write_sql

runner = CliRunner()
MODELS = ["linear", "first_touch", "time_decay:half_life=2d", "u_shaped", "w_shaped", "full_path",
          "position_based:shape=inverse_J"]
DAYS = ["2024-03-05", "2024-03-06", "2024-03-07"]


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """A seeded log over 12 days (touches, leads, opportunities, conversions), time-sorted, small row groups."""
    rng = np.random.default_rng(7)
    n = 5000
    ts = np.sort(rng.integers(0, 12 * 86_400, n)) // 60 * 60
    event = rng.choice(["touch", "conversion", "lead", "opportunity"], n, p=[0.8, 0.08, 0.07, 0.05])
    frame = pd.DataFrame({
        "user_id": [f"u{u}" for u in rng.integers(0, 400, n)],
        "timestamp": pd.Timestamp("2024-03-01") + pd.to_timedelta(ts, unit="s"),
        "event": event,
        "channel": np.where(event == "touch", rng.choice(["email", "search", "social", "display"], n), None),
        "revenue": np.where(event == "conversion", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan),
    })
    path = tmp_path_factory.mktemp("daily") / "log.parquet"
    frame.to_parquet(path, index=False, row_group_size=250)
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def daily(log, url, day, if_exists, table="roi"):
    args = ["run", log, "--period", "day", "--lookback-days", "3", "--milestone-event", "lead", "--milestone-event",
            "opportunity", "--conversions-from", day, "--conversions-to", day, "--output", url, "--table", table,
            "--if-exists", if_exists, "--quiet"]
    for m in MODELS:
        args += ["--model", m]
    res = invoke(*args)
    assert res.exit_code == 0, res.output


def ordered(frame):
    return frame.sort_values(["model", "channel", "period"], kind="stable").reset_index(drop=True)


def test_three_daily_runs_appended_equal_one_run_over_the_three_days(log, tmp_path):
    url = f"sqlite:///{tmp_path / 'bi.db'}"
    for day in DAYS:
        daily(log, url, day, "append")
    args = ["run", log, "--period", "day", "--lookback-days", "3", "--milestone-event", "lead", "--milestone-event",
            "opportunity", "--conversions-from", DAYS[0], "--conversions-to", DAYS[-1], "--output", url, "--table",
            "whole", "--quiet"]
    for m in MODELS:
        args += ["--model", m]
    assert invoke(*args).exit_code == 0
    appended, whole = ordered(read_sql(url, "roi")), ordered(read_sql(url, "whole"))
    assert len(whole) > 0 and sorted(whole["period"].astype(str).unique()) == DAYS
    num = [c for c in whole.columns if c not in ("model", "channel", "period", "share")]
    # share is a share of each run's total: per day in the daily runs, of three days in the whole run
    pd.testing.assert_frame_equal(appended[["model", "channel", "period"]], whole[["model", "channel", "period"]])
    # the same sums, added in another order: equal to a few units in the last place
    np.testing.assert_allclose(appended[num].to_numpy(float), whole[num].to_numpy(float), rtol=1e-12, atol=1e-12)

    # re-running the middle day with replace-periods leaves the table equal
    daily(log, url, DAYS[1], "replace-periods")
    again = ordered(read_sql(url, "roi"))
    pd.testing.assert_frame_equal(again, appended)


def test_replace_periods_replaces_only_those_periods(tmp_path):
    url = f"sqlite:///{tmp_path / 'bi.db'}"
    first = pd.DataFrame({"model": ["m"] * 3, "period": pd.to_datetime(DAYS).date, "x": [1.0, 2.0, 3.0]})
    write_sql(first, url, "t")
    write_sql(pd.DataFrame({"model": ["m"], "period": [pd.Timestamp(DAYS[1]).date()], "x": [20.0]}), url, "t",
              if_exists="replace-periods")
    got = read_sql(url, "t").sort_values("period")
    assert got["x"].tolist() == [1.0, 20.0, 3.0]
    write_sql(pd.DataFrame({"model": ["m"], "period": [pd.Timestamp("2024-03-08").date()], "x": [4.0]}), url, "t",
              if_exists="append")
    assert read_sql(url, "t").sort_values("period")["x"].tolist() == [1.0, 20.0, 3.0, 4.0]
    with pytest.raises(OutputError, match="columns"):  # other columns: refused, nothing changed
        write_sql(pd.DataFrame({"model": ["m"], "y": [1.0]}), url, "t", if_exists="append")
    assert len(read_sql(url, "t")) == 4


def test_window_reads_only_the_row_groups_its_lookback_needs(log):
    whole = run([str(log)], models=["linear"], lookback_days=1)
    day = run([str(log)], models=["linear"], lookback_days=1, conversions_from=DAYS[0], conversions_to=DAYS[0])
    # 12 days in row groups of 250 rows: one day plus one of lookback is about 2/12 of the rows, plus the groups
    # straddling the range's ends
    assert day.summary["rows"] < whole.summary["rows"] / 3
    # and it attributes the same conversions as the unpruned read restricted to that day afterwards
    ends = pd.to_datetime(whole.journeys.end_time[whole.journeys.conversions > 0])
    assert day.journeys.total_conversions == float((ends.normalize() == pd.Timestamp(DAYS[0])).sum())


def test_if_exists_needs_a_sql_output(log, tmp_path):
    res = invoke("run", log, "--if-exists", "append", "--output", tmp_path / "out.csv")
    assert res.exit_code == 2 and "SQL --output" in res.output
    res = invoke("run", log, "--if-exists", "sometimes", "--output", f"sqlite:///{tmp_path / 'x.db'}", "--table", "t")
    assert res.exit_code == 2 and "--if-exists" in res.output


def test_milestone_models_on_the_command_line_with_detail(tmp_events, tmp_path):
    rows = [("a", 0, "touch", "email"), ("a", 1, "touch", "search"), ("a", 1.5, "lead", None),
            ("a", 2, "touch", "social"), ("a", 2.5, "opportunity", None), ("a", 3, "touch", "display"),
            ("a", 4, "conversion", None, 100.0)]
    events = tmp_events(rows)
    detail = tmp_path / "facts.csv"
    res = invoke("run", events, "-m", "w_shaped", "-m", "u_shaped", "--milestone-event", "lead", "--milestone-event",
                 "opportunity", "--detail", detail, "--output", tmp_path / "roi.csv", "--quiet")
    assert res.exit_code == 0, res.output
    facts = pd.read_csv(detail)
    w = facts[facts["model"] == "w_shaped"].set_index("channel")["weight"]
    # first (email), lead (search), opportunity (social) 0.3 each; display the rest 0.1
    assert w.to_dict() == pytest.approx({"email": 0.3, "search": 0.3, "social": 0.3, "display": 0.1})
    u = facts[facts["model"] == "u_shaped"].set_index("channel")["attributed_revenue"]
    # 0.4, 0.4 and 0.1 each for social and display, of 100
    assert u.to_dict() == pytest.approx({"email": 40.0, "search": 40.0, "social": 10.0, "display": 10.0})
