"""Timestamps through the command line: epoch milliseconds land on the right day, out-of-window years and mixed
units are exit 2 with a reason code, ``--epoch-unit`` and ``--valid-years`` on every command that reads events."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.runner import run

runner = CliRunner()
DAY0 = pd.Timestamp("2026-01-01")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def write_csv(tmp_path, stamps):
    """Two users: touch then conversion; user a on DAY0 + 0/1 days, user b on DAY0 + 2/3 days."""
    frame = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "timestamp": stamps,
                          "event": ["touch", "conversion"] * 2, "channel": ["x", None, "y", None],
                          "revenue": [None, 10.0, None, 20.0]})
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    return path


def day_stamps(scale):
    return [int((DAY0 + pd.Timedelta(days=d)).value // scale) for d in range(4)]


@pytest.mark.parametrize("unit, scale", [("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)])
def test_epoch_text_in_any_unit_lands_on_its_day(tmp_path, unit, scale):
    log = write_csv(tmp_path, day_stamps(scale))
    out = tmp_path / "out.csv"
    res = invoke("run", log, "-m", "last_touch", "--period", "day", "-o", out)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert table[["period", "channel", "conversions"]].values.tolist() == [
        ["2026-01-02", "x", 1.0], ["2026-01-04", "y", 1.0]]
    assert run(str(log), models=["linear"], epoch_unit=unit).summary["conversions"] == 2


def test_mixed_units_and_far_years_are_exit_2(tmp_path):
    ms = day_stamps(10**6)
    log = write_csv(tmp_path, ms[:3] + [ms[3] // 1000])
    res = invoke("run", log)
    assert res.exit_code == 2 and "[timestamp_mixed_units]; 1 row breaks it, first at row 3" in res.stderr
    res = invoke("run", log, "--epoch-unit", "ms")
    assert res.exit_code == 2 and "[timestamp_out_of_range]; 1 row breaks it, first at row 3" in res.stderr
    log = write_csv(tmp_path, ["2026-01-01", "2300-01-01", "1600-01-01", "9999-12-31"])
    res = invoke("run", log)
    assert res.exit_code == 2 and "[timestamp_out_of_range]; 3 rows break it, first at row 1" in res.stderr
    assert "internal error" not in res.output


def test_valid_years_option_on_every_command_that_reads_events(tmp_path):
    log = write_csv(tmp_path, ["1985-01-01", "1985-01-02", "1985-01-03", "1985-01-04"])
    for command in (["run"], ["funnel"], ["transitions"]):
        res = invoke(*command, log)
        assert res.exit_code == 2 and "[timestamp_out_of_range]" in res.stderr, (command, res.output)
        res = invoke(*command, log, "--valid-years", "1980:2030", "--epoch-unit", "s")
        assert res.exit_code == 0, (command, res.output)
        res = invoke(*command, log, "--valid-years", "1980")
        assert res.exit_code == 2 and "--valid-years" in res.stderr and "1990:2100" in res.stderr
        res = invoke(*command, tmp_path / "missing.csv", "--epoch-unit", "minutes")
        assert res.exit_code == 2 and "--epoch-unit" in res.stderr  # options before any reading
