"""``attribution simulate`` and ``attribution evaluate`` end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.sim.scenarios import scenario_names


def _simulate(tmp_path, scenario="retail", seed=4, users=600, name="ev"):
    events, truth, spend = (tmp_path / f"{name}.parquet", tmp_path / f"{name}_truth.csv",
                            tmp_path / f"{name}_spend.csv")
    res = CliRunner().invoke(app, ["simulate", "--scenario", scenario, "--users", str(users), "--seed", str(seed),
                                   "--output", str(events), "--truth", str(truth), "--spend", str(spend)])
    assert res.exit_code == 0, res.output
    return events, truth, spend


@pytest.mark.parametrize("scenario", scenario_names())
def test_simulate_writes_a_log_whose_truth_adds_up(tmp_path, scenario):
    events, truth, spend = _simulate(tmp_path, scenario)
    log = pd.read_parquet(events)
    table = pd.read_csv(truth)
    assert table["channel"].iloc[-1] == "(baseline)"
    # every conversion of the log has one cause: a channel or the baseline
    assert table["conversions"].sum() == (log["event"] == "conversion").sum()
    assert set(table["channel"].iloc[:-1]) == set(log["channel"].dropna())
    assert pd.read_csv(spend)["spend"].sum() > 0


def test_simulate_is_seeded(tmp_path):
    _, truth_a, _ = _simulate(tmp_path, name="a")
    _, truth_b, _ = _simulate(tmp_path, name="b")
    _, truth_c, _ = _simulate(tmp_path, seed=5, name="c")
    assert truth_a.read_bytes() == truth_b.read_bytes()
    assert truth_a.read_bytes() != truth_c.read_bytes()


def test_evaluate_prints_and_writes_the_scorecard(tmp_path):
    events, truth, _ = _simulate(tmp_path, users=1500)
    out = tmp_path / "card.csv"
    res = CliRunner().invoke(app, ["evaluate", str(events), "--truth", str(truth), "--model", "last_touch",
                                   "--model", "hazard", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "tvd" in res.stdout and "level_error" in res.stdout
    card = pd.read_csv(out)
    assert list(card["model"]) == ["last_touch", "hazard"]
    assert ((card["tvd"] >= 0) & (card["tvd"] <= 1)).all()
    # last touch credits every touched conversion to a channel: it overstates the incremental conversions
    assert card.set_index("model").loc["last_touch", "credited"] > card.set_index("model").loc["last_touch",
                                                                                             "true_incremental"]


def test_unknown_scenario_and_bad_truth_exit_2(tmp_path):
    res = CliRunner().invoke(app, ["simulate", "--scenario", "mars", "--output", str(tmp_path / "e.parquet"),
                                   "--truth", str(tmp_path / "t.csv")])
    assert res.exit_code == 2 and "Unknown scenario 'mars'" in res.output
    assert not (tmp_path / "e.parquet").exists()
    events, _, _ = _simulate(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\nx,1\n")
    res = CliRunner().invoke(app, ["evaluate", str(events), "--truth", str(bad)])
    assert res.exit_code == 2 and "channel" in res.output
    bad.write_text("channel,conversions\nx,1\ny,lots\nz,inf\n")
    res = CliRunner().invoke(app, ["evaluate", str(events), "--truth", str(bad)])
    assert res.exit_code == 2 and "column 'conversions': must be a finite number [not_numeric]" in res.output
    assert "2 rows break it, first at row 1" in res.output


def test_evaluate_with_experiments_scores_the_calibrated_credit(tmp_path):
    """An exact lift test of one channel over the whole log: calibrated, last touch credits that channel with
    exactly its true incremental conversions, so its level error falls."""
    events, truth, _ = _simulate(tmp_path, users=1500)
    table = pd.read_csv(truth).set_index("channel")
    log = pd.read_parquet(events)
    days = log["timestamp"].dt.normalize()
    lift = tmp_path / "lift.csv"
    pd.DataFrame({"channel": ["email"], "start": [days.min().date().isoformat()],
                  "end": [days.max().date().isoformat()],
                  "incremental_conversions": [table.loc["email", "conversions"]]}).to_csv(lift, index=False)
    cards = {}
    for name, extra in (("before", []), ("after", ["--experiments", str(lift)])):
        out = tmp_path / f"{name}.csv"
        res = CliRunner().invoke(app, ["evaluate", str(events), "--truth", str(truth), "--model", "last_touch",
                                       "--output", str(out), *extra])
        assert res.exit_code == 0, res.output
        cards[name] = pd.read_csv(out).set_index("model").loc["last_touch"]
    assert "calibrated to" in res.stdout
    assert cards["after"]["level_error"] < cards["before"]["level_error"]
    # the credit to real channels falls toward the true incremental total (last touch overstates it)
    assert cards["after"]["credited"] < cards["before"]["credited"]
