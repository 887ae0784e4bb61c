"""Path lengths, time lags and top paths: hand-computed logs, and invariants on generated journeys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.exceptions import ParameterError
from attribution.journeys.paths import PathTable
from attribution.kpis.pathstats import journey_time_lags, path_length_distribution, time_lag_distribution, top_paths
from testkit import journeys_of

# u1: email (day 0), search (day 2.5), conversion (day 3, revenue 10)  -> 2 touches, lag 3 days
# u2: search (day 0), conversion (day 0.5, revenue 5)                  -> 1 touch, lag 0.5 day
# u3: email (day 0), search (day 1), no conversion                      -> 2 touches, null
# u4: conversion (day 4) without a touch                                -> 0 touches (touchless)
# u5: search (day 0), conversion (day 40)                               -> the touch is outside 30 days: touchless
ROWS = [
    ("u1", 0, "touch", "email"), ("u1", 2.5, "touch", "search"), ("u1", 3, "conversion", None, 10.0),
    ("u2", 0, "touch", "search"), ("u2", 0.5, "conversion", None, 5.0),
    ("u3", 0, "touch", "email"), ("u3", 1, "touch", "search"),
    ("u4", 4, "conversion", None, 1.0),
    ("u5", 0, "touch", "search"), ("u5", 40, "conversion", None, 2.0),
]


def test_path_lengths_count_journeys_and_conversions_per_length():
    out = path_length_distribution(journeys_of(ROWS))
    assert out["touches"].tolist() == [0, 1, 2]
    assert out["conversions"].tolist() == [2.0, 1.0, 1.0]  # u4 and u5 touchless; u2; u1
    assert out["nulls"].tolist() == [0.0, 0.0, 1.0]  # u3
    assert out["conversion_rate"].tolist() == [1.0, 1.0, 0.5]


def test_path_lengths_lump_the_tail():
    out = path_length_distribution(journeys_of(ROWS), max_length=1)
    assert out["label"].tolist() == ["0", "≥ 1"]
    assert out["journeys"].tolist() == [2.0, 3.0]
    with pytest.raises(ParameterError, match="max_length"):
        path_length_distribution(journeys_of(ROWS), max_length=0)


def test_time_lags_run_from_the_first_touch_in_the_window():
    lags = journey_time_lags(journeys_of(ROWS))
    assert sorted(lags["days"].tolist()) == [0.5, 3.0]  # touchless journeys have no lag
    bins = time_lag_distribution(journeys_of(ROWS), edges=(0, 1, 2, 4))
    assert bins["label"].tolist() == ["< 1 day", "1 day", "2–3 days", "≥ 4 days"]
    assert bins["conversions"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert bins["share"].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert bins["revenue"].tolist() == [5.0, 0.0, 10.0, 0.0]


def test_time_lags_need_times_and_good_edges():
    paths = PathTable.from_frame(pd.DataFrame({"path": ["a > b"], "conversions": [1.0], "nulls": [0.0]}))
    with pytest.raises(ParameterError, match="path table"):
        journey_time_lags(paths.journeys)
    with pytest.raises(ParameterError, match="edges"):
        time_lag_distribution(journeys_of(ROWS), edges=(1, 2))


def test_top_paths_rank_by_conversions_ties_in_path_order():
    top = top_paths(journeys_of(ROWS), n=3)
    # (none) 2 conversions; then email > search and search, 1 each (tie: path text order)
    assert top["path"].tolist() == ["(none)", "email > search", "search"]
    assert top["conversions"].tolist() == [2.0, 1.0, 1.0]
    assert top["journeys"].tolist() == [2.0, 2.0, 1.0]
    assert top["conversion_rate"].tolist() == [1.0, 0.5, 1.0]
    assert top_paths(journeys_of(ROWS), n=1, by="revenue")["path"].tolist() == ["email > search"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abc"), max_size=5),
                          st.floats(0, 5, allow_nan=False), st.floats(0, 5, allow_nan=False)),
                min_size=1, max_size=12))
def test_distributions_add_up_to_the_path_table(rows):
    frame = pd.DataFrame({"path": [" > ".join(p) if p else "" for p, _, _ in rows],
                          "conversions": [c for _, c, _ in rows], "nulls": [n for _, _, n in rows]})
    frame = frame[frame["path"] != ""]
    if frame.empty or (frame["conversions"] + frame["nulls"]).sum() == 0:
        return
    journeys = PathTable.from_frame(frame).journeys
    lengths = path_length_distribution(journeys)
    # sums of the same floats grouped differently: equal up to rounding of a few additions
    assert lengths["conversions"].sum() == pytest.approx(frame["conversions"].sum(), rel=1e-12, abs=1e-12)
    assert lengths["journeys"].sum() == pytest.approx((frame["conversions"] + frame["nulls"]).sum(), rel=1e-12,
                                                      abs=1e-12)
    top = top_paths(journeys, n=len(frame) + 1)
    assert np.all(np.diff(top["conversions"].to_numpy()) <= 0)
    assert top["conversions"].sum() == pytest.approx(frame["conversions"].sum(), rel=1e-12, abs=1e-12)
