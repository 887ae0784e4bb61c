"""Path reports (attribution/kpis/pathreport.py, ``attribution paths``) on a hand-built log, numbers by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.kpis.pathreport import path_lengths, position_credit, time_lags, top_paths
from testkit import events_frame, journeys_of

runner = CliRunner()

LOG = [
    ("a", 0, "touch", "Email"), ("a", 1, "touch", "Search"), ("a", 1.5, "conversion", None, 100.0),
    ("b", 0, "touch", "Email"), ("b", 3, "touch", "Search"), ("b", 3.2, "conversion", None, 50.0),
    ("c", 0, "touch", "Email"), ("c", 1, "touch", "Search"),                       # same path, no conversion
    ("d", 0, "touch", "Display"), ("d", 0.5, "conversion", None, 10.0),
    ("e", 0, "touch", "Display"), ("e", 1, "touch", "Email"), ("e", 2, "touch", "Search"),
    ("e", 2, "touch", "Social"), ("e", 9, "conversion", None, 40.0),
    ("f", 0, "conversion", None, 5.0),                                            # touchless
]


@pytest.fixture(scope="module")
def journeys():
    return journeys_of(LOG)


def test_top_paths(journeys):
    frame = top_paths(journeys)
    rows = {r.path: (r.conversions, r.journeys, r.conversion_rate, r.revenue) for r in frame.itertuples()}
    # Email > Search: a and b convert (150), c does not: 2 of 3 journeys
    assert rows["Email > Search"] == (2.0, 3.0, pytest.approx(2 / 3), 150.0)
    assert rows["Display"] == (1.0, 1.0, 1.0, 10.0)
    assert rows["(none)"] == (1.0, 1.0, 1.0, 5.0)
    assert rows["Display > Email > Search > Social"] == (1.0, 1.0, 1.0, 40.0)
    assert frame["path"].iloc[0] == "Email > Search"  # most conversions first
    assert list(top_paths(journeys, top=2)["path"]) == list(frame["path"].iloc[:2])


def test_path_lengths(journeys):
    frame = path_lengths(journeys)
    # lengths of converting journeys: a 2, b 2, d 1, e 4, f 0
    assert frame["touches"].tolist() == [0, 1, 2, 4]
    assert frame["conversions"].tolist() == [1.0, 1.0, 2.0, 1.0]
    assert frame["revenue"].tolist() == [5.0, 10.0, 150.0, 40.0]
    assert frame["share"].tolist() == pytest.approx([0.2, 0.2, 0.4, 0.2])


def test_time_lags(journeys):
    frame = time_lags(journeys)
    # a 1.5 days -> 1, b 3.2 -> 3, d 0.5 -> 0, e 9 -> 9; f (touchless) has no lag
    assert frame["days"].tolist() == [0, 1, 3, 9]
    assert frame["conversions"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert frame["revenue"].tolist() == [10.0, 100.0, 50.0, 40.0]


def test_position_credit(journeys):
    frame = position_credit(journeys).set_index("channel")
    # a, b (2 touches): Email spans [0, .5): early .25, middle .25; Search [.5, 1): middle .25, late .25
    # d (1 touch): Display .25 / .5 / .25
    # e (4 touches, each a quarter of the span and of the conversion): Display early, Email and Search middle,
    # Social late (0.25 each)
    expected = {"Display": (0.25 + 0.25, 0.5, 0.25), "Email": (0.5, 0.5 + 0.25, 0.0),
                "Search": (0.0, 0.5 + 0.25, 0.5), "Social": (0.0, 0.0, 0.25)}
    for channel, (early, middle, late) in expected.items():
        assert tuple(frame.loc[channel, ["early", "middle", "late"]]) == pytest.approx((early, middle, late))
    # the non-converting journey c gives nothing; every converting journey with touches gives 25/50/25
    assert frame[["early", "middle", "late"]].sum().tolist() == pytest.approx([1.0, 2.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 20), st.sampled_from(["touch", "touch", "conversion"]),
                          st.sampled_from(["A", "B", "C"])), min_size=1, max_size=40))
def test_reports_add_up(rows):
    rows = [(f"u{u}", d, e, c if e == "touch" else None, 1.0) for u, d, e, c in rows]
    j = journeys_of(rows)
    assert top_paths(j)["conversions"].sum() == pytest.approx(j.total_conversions)
    assert top_paths(j)["journeys"].sum() == pytest.approx(j.n_journeys)
    assert path_lengths(j)["conversions"].sum() == pytest.approx(j.total_conversions)
    touched = float(j.conversions[j.lengths > 0].sum())
    position = position_credit(j)
    # credits of converting journeys with touches split exactly 25 / 50 / 25 (sums of floats: 1e-9 relative)
    assert position[["early", "middle", "late"]].sum().tolist() == pytest.approx(
        [0.25 * touched, 0.5 * touched, 0.25 * touched], rel=1e-9, abs=1e-12)


def test_cli_paths_writes_one_long_table(tmp_path):
    events_frame(LOG).to_csv(tmp_path / "log.csv", index=False)
    result = runner.invoke(app, ["paths", str(tmp_path / "log.csv"), "--top", "2", "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "p.csv")
    assert table["report"].value_counts().to_dict() == {"top_paths": 2, "path_length": 4, "time_lag": 4,
                                                        "position": 4}
    assert table.loc[table["report"] == "top_paths", "key"].iloc[0] == "Email > Search"
    shown = runner.invoke(app, ["paths", str(tmp_path / "log.csv"), "-q"])
    assert shown.exit_code == 0 and "Top converting paths" in shown.output and "Email > Search" in shown.output
    assert runner.invoke(app, ["paths", str(tmp_path / "log.csv"), "--top", "-1"]).exit_code == 2
